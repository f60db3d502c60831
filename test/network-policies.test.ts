/**
 * The flows the NetworkPolicies of a build allow, as a truth table (from → to → allowed?), evaluated by the
 * NetworkPolicy API's rules (network-policy-semantics.ts) over the pods the build creates.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { kustomizeBuildText, parseDocuments, type KubeDocument } from "../generator/validate/kustomize.js";
import { allowed, type Destination, type PodEnd, type Policy } from "./network-policy-semantics.js";
import { committedBuild, exampleData, genIn, tempProject } from "./helpers.js";

/** The pods a build creates (workload templates and the task pod template), by component label. */
function podsOf(objects: KubeDocument[]): Map<string, PodEnd> {
  const pods = new Map<string, PodEnd>();
  const add = (labels: Record<string, string> | undefined, namespace: string) => {
    if (labels?.["app.kubernetes.io/component"]) pods.set(labels["app.kubernetes.io/component"], { namespace, labels });
  };
  for (const o of objects) {
    const spec = o.spec as any;
    const ns = o.metadata.namespace ?? "";
    if (o.kind === "Deployment" || o.kind === "Job") add(spec.template.metadata.labels, ns);
    if (o.kind === "CronJob") add(spec.jobTemplate.spec.template.metadata.labels, ns);
    const template = (o.data as Record<string, string> | undefined)?.["pod_template_file.yaml"];
    if (o.kind === "ConfigMap" && template) add(parse(template).metadata.labels, ns);
  }
  return pods;
}

const DNS: Destination = { pod: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } } };
const METADATA = { ip: "169.254.169.254" };
const DATABASE = { ip: "10.0.40.12" };
const OUTSIDE = { ip: "140.82.112.3" };

type Row = [from: string, to: string | Destination, port: number, protocol: "TCP" | "UDP", expected: boolean];

function truth(objects: KubeDocument[], rows: Row[]): string[] {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
  const pods = podsOf(objects);
  const wrong: string[] = [];
  for (const [from, to, port, protocol, expected] of rows) {
    const source = pods.get(from);
    if (!source) throw new Error(`no ${from} pod in the build`);
    const destination: Destination = typeof to === "string" ? { pod: pods.get(to)! } : to;
    if (typeof to === "string" && !pods.has(to)) throw new Error(`no ${to} pod in the build`);
    const got = allowed(policies, source, destination, port, protocol);
    if (got !== expected) wrong.push(`${from} → ${typeof to === "string" ? to : JSON.stringify(to)}:${port}/${protocol}: ${got ? "allowed" : "denied"}, expected ${expected ? "allowed" : "denied"}`);
  }
  return wrong;
}

const EVERY_POD = ["api-server", "scheduler", "dag-processor", "triggerer", "statsd", "dag-sync", "worker", "migrations", "admin-user", "failed-pod-cleanup", "db-clean", "state-store-clean", "log-retention", "peak-placeholder"];

describe("NetworkPolicies of overlays/prod, as a truth table", () => {
  let objects: KubeDocument[];
  beforeAll(() => (objects = committedBuild("overlays/prod")));

  it("finds every pod the table speaks of", () => {
    expect([...podsOf(objects).keys()].sort()).toEqual([...EVERY_POD].sort());
  });

  it("no pod reaches the instance metadata endpoint, on any port", () => {
    const rows: Row[] = EVERY_POD.flatMap((from) => [80, 443, 5432].map((port): Row => [from, METADATA, port, "TCP", false]));
    expect(truth(objects, rows)).toEqual([]);
  });

  it("every pod resolves names and sends metrics; task pods reach the Execution API", () => {
    const rows: Row[] = EVERY_POD.flatMap((from): Row[] => [
      [from, DNS, 53, "UDP", true],
      [from, DNS, 53, "TCP", true],
      [from, "statsd", 9125, "UDP", true],
    ]);
    rows.push(["worker", "api-server", 8080, "TCP", true], ["triggerer", "api-server", 8080, "TCP", true], ["worker", "api-server", 8794, "TCP", false]);
    expect(truth(objects, rows)).toEqual([]);
  });

  it("only the database users reach the database port, and only it", () => {
    const users = ["scheduler", "api-server", "dag-processor", "triggerer", "migrations", "admin-user", "db-clean", "state-store-clean"];
    const rows: Row[] = EVERY_POD.map((from): Row => [from, DATABASE, 5432, "TCP", users.includes(from) || from === "worker"]);
    rows.push(["migrations", DATABASE, 443, "TCP", false], ["migrations", OUTSIDE, 22, "TCP", false]);
    expect(truth(objects, rows)).toEqual([]);
  });

  it("the Kubernetes API and AWS on 443 for the control plane; git for dag-sync; nothing outside for statsd and the placeholders", () => {
    const rows: Row[] = [
      ["scheduler", OUTSIDE, 443, "TCP", true],
      ["failed-pod-cleanup", OUTSIDE, 443, "TCP", true],
      ["failed-pod-cleanup", DATABASE, 5432, "TCP", false],
      ["scheduler", OUTSIDE, 22, "TCP", false],
      ["dag-sync", OUTSIDE, 22, "TCP", true],
      ["dag-sync", DATABASE, 5432, "TCP", false],
      ["dag-sync", OUTSIDE, 443, "TCP", false],
      ["statsd", OUTSIDE, 443, "TCP", false],
      ["peak-placeholder", OUTSIDE, 443, "TCP", false],
      ["api-server", "triggerer", 8794, "TCP", true],
      ["worker", "triggerer", 8794, "TCP", false],
      ["worker", "scheduler", 8080, "TCP", false],
    ];
    expect(truth(objects, rows)).toEqual([]);
  });
});

describe("network.taskEgress", () => {
  it("narrows where task code and triggers connect, and still never to the metadata endpoint", async () => {
    const data = exampleData() as any;
    data.network = { taskEgress: [{ cidr: "10.20.0.0/16", ports: [5439] }, { cidr: "0.0.0.0/0", ports: [443] }] };
    const dir = tempProject({ configText: stringify(data) });
    expect((await genIn(dir)).code).toBe(0);
    const objects = parseDocuments(kustomizeBuildText(join(dir, "overlays", "prod")));
    expect(
      truth(objects, [
        ["worker", { ip: "10.20.3.4" }, 5439, "TCP", true],
        ["worker", { ip: "10.20.3.4" }, 22, "TCP", false],
        ["worker", OUTSIDE, 443, "TCP", true],
        ["worker", OUTSIDE, 80, "TCP", false],
        ["worker", DATABASE, 5432, "TCP", false],
        ["worker", METADATA, 443, "TCP", false],
        ["triggerer", { ip: "10.20.3.4" }, 5439, "TCP", true],
        ["scheduler", { ip: "10.20.3.4" }, 5439, "TCP", false],
      ]),
    ).toEqual([]);
  });
});

describe("pods launched by task code (components.worker.podLauncher)", () => {
  it("resolve names and get the task egress, never the metadata endpoint", async () => {
    const data = exampleData() as any;
    data.components.worker.podLauncher = { enabled: true };
    const dir = tempProject({ configText: stringify(data) });
    expect((await genIn(dir)).code).toBe(0);
    const objects = parseDocuments(kustomizeBuildText(join(dir, "overlays", "prod")));
    const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
    const launched: PodEnd = { namespace: "airflow", labels: { kubernetes_pod_operator: "True", dag_id: "d", task_id: "t" } };
    expect(allowed(policies, launched, DNS, 53, "UDP")).toBe(true);
    expect(allowed(policies, launched, OUTSIDE, 443)).toBe(true);
    expect(allowed(policies, launched, METADATA, 80)).toBe(false);
    // Without podLauncher nothing selects such a pod but the default deny.
    const plain = committedBuild("overlays/prod").filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
    expect(allowed(plain, launched, DNS, 53, "UDP")).toBe(false);
  });
});
