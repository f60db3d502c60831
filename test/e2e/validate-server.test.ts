/**
 * `validate --server` against the local control plane (test/cluster/): the committed tree is accepted
 * without changing the cluster, and each kind of defect comes back from the API server naming the
 * object, the field and the file to change.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { ServerReport } from "../../generator/validate/server.js";
import { startCluster, type LocalCluster } from "../cluster/index.js";
import { ROOT, runCli, tempProject } from "../helpers.js";

let cluster: LocalCluster;
let kubeconfig: string;
let failed = false;
const temps: string[] = [];

beforeAll(async () => {
  cluster = await startCluster({ log: (line) => process.stderr.write(`cluster: ${line}\n`) });
  kubeconfig = cluster.kubeconfigPath;
});

afterAll(async () => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  const logs = await cluster?.stop({ keepLogs: failed });
  if (logs) process.stderr.write(`control plane logs kept in ${logs}\n`);
});

/** Runs `validate --server --json` on a tree and returns the exit code and report. */
async function validate(dir: string, ...args: string[]): Promise<{ code: number; report: ServerReport; err: string }> {
  const result = await runCli(["validate", "--dir", dir, "--server", "--kubeconfig", kubeconfig, "--json", ...args]);
  if (result.out === "") {
    failed = true;
    throw new Error(`no report: ${result.err}`);
  }
  return { code: result.code, report: JSON.parse(result.out) as ServerReport, err: result.err };
}

/** The problems of one object (or of every object of a kind, given `Kind/`): each mutation is judged on its own object. */
function of(report: ServerReport, object: string): ServerReport["problems"] {
  return report.problems.filter((p) => (object.endsWith("/") ? p.object.startsWith(object) : p.object === object));
}

function treeWith(file: string, change: (doc: any) => void): string {
  const dir = tempProject({ withTree: true });
  temps.push(dir);
  const path = join(dir, file);
  const doc = parse(readFileSync(path, "utf8"));
  change(doc);
  writeFileSync(path, stringify(doc));
  return dir;
}

function check(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    failed = true;
    throw error;
  }
}

describe("validate --server on the local control plane", () => {
  it("accepts every object of every overlay and of argocd/, checking namespaced ones in a stand-in, and changes nothing", async () => {
    const { code, report } = await validate(ROOT);
    check(() => {
      expect(report.problems).toEqual([]);
      expect(report.missingKinds).toEqual([]);
      expect(report.targets.map((t) => t.target)).toEqual(["overlays/dev", "overlays/prod", "argocd"]);
      expect(code).toBe(0);
      expect(report.failed).toBe(0);
      expect(report.unchecked).toBe(0);
      expect(report.passed).toBe(report.targets.reduce((n, t) => n + t.objects, 0));
      expect(report.standIns.map((s) => s.namespace).sort()).toEqual(["airflow", "airflow-dev", "argocd", "argocd-airflow"]);
      expect(report.cluster.version).toMatch(/^v1\.\d+\.\d+/);
    });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const namespaces = (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata!.name);
    const deployments = (await kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces()).items.map((d) => `${d.metadata!.namespace}/${d.metadata!.name}`);
    check(() => {
      expect(namespaces).not.toContain("airflow");
      expect(namespaces).not.toContain("argocd");
      expect(namespaces).not.toContain("argocd-airflow");
      expect(deployments.filter((d) => d.includes("airflow"))).toEqual([]);
    });
  });

  it("prints the summary with the context it used when that context is named", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const context = kc.getCurrentContext();
    const result = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", kubeconfig, "--context", context, "argocd"]);
    check(() => {
      expect(result.code).toBe(0);
      expect(result.out).toContain("namespace argocd does not exist in the cluster: its ");
      expect(result.out).toMatch(new RegExp(`^server dry run on context ${context} \\(https://127\\.0\\.0\\.1:\\d+, Kubernetes v1\\.\\d+\\.\\d+\\): \\d+ accepted, 0 rejected, 0 not checked \\(argocd\\)$`, "m"));
    });
  });

  it("rejects a patch that sets a limit below its request, naming the field and the patch", async () => {
    const dir = treeWith("overlays/prod/api-server-deployment-resources.yaml", (d) => {
      d.spec.template.spec.containers[0].resources.limits.cpu = "100m";
    });
    const { code, report } = await validate(dir, "overlays/prod");
    check(() => {
      expect(code).toBe(1);
      const problems = of(report, "Deployment/airflow-api-server");
      expect(problems).toHaveLength(1);
      const [problem] = problems;
      expect(problem).toMatchObject({ target: "overlays/prod", object: "Deployment/airflow-api-server", namespace: "airflow" });
      expect(problem!.path).toMatch(/^\/spec\/template\/spec\/containers\/\d+\/resources\/requests$/);
      expect(problem!.message).toMatch(/must be less than or equal to cpu limit of 100m/);
      expect(problem!.sources[0]).toBe("overlays/prod/api-server-deployment-resources.yaml");
    });
  });

  it("rejects an unknown field, naming it", async () => {
    const dir = treeWith("overlays/prod/api-server-deployment-resources.yaml", (d) => {
      const container = d.spec.template.spec.containers[0];
      container.resourcez = container.resources;
    });
    const { code, report } = await validate(dir, "overlays/prod");
    check(() => {
      expect(code).toBe(1);
      const problems = of(report, "Deployment/airflow-api-server");
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ message: 'unknown field "resourcez"', sources: ["overlays/prod/api-server-deployment-resources.yaml"] });
      expect(problems[0]!.path).toMatch(/^\/spec\/template\/spec\/containers\/\d+\/resourcez$/);
    });
  });

  it("checks the migration hook too", async () => {
    const dir = treeWith("base/migrations-job.yaml", (d) => {
      d.spec.backoffLimit = -1;
    });
    const { code, report } = await validate(dir, "overlays/dev");
    check(() => {
      expect(code).toBe(1);
      const problems = of(report, "Job/airflow-migrations");
      expect(problems).toEqual([expect.objectContaining({ target: "overlays/dev", path: "/spec/backoffLimit", sources: ["base/migrations-job.yaml"] })]);
      expect(problems[0]!.message).toMatch(/must be greater than or equal to 0/);
    });
  });

  // Last: it removes a CRD from this throwaway cluster.
  it("reports a CRD the cluster lacks once, by API group, instead of a rejection per object", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const crds = kc.makeApiClient(ApiextensionsV1Api);
    await crds.deleteCustomResourceDefinition({ name: "scaledobjects.keda.sh" });
    const started = Date.now();
    while ((await crds.listCustomResourceDefinition()).items.some((c) => c.metadata?.name === "scaledobjects.keda.sh")) {
      if (Date.now() - started > 60_000) throw new Error("the ScaledObject CRD was not removed within 60 s");
      await new Promise((r) => setTimeout(r, 500));
    }
    const { code, report } = await validate(ROOT);
    const text = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", kubeconfig]);
    check(() => {
      expect(code).toBe(1);
      expect(of(report, "ScaledObject/")).toEqual([]);
      expect(report.missingKinds).toHaveLength(1);
      expect(report.missingKinds[0]).toMatchObject({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject" });
      expect(report.unchecked).toBe(report.missingKinds[0]!.objects.length);
      expect(report.unchecked).toBeGreaterThan(0);
      expect(text.code).toBe(1);
      expect(text.out).toContain("the cluster does not serve these kinds (install their CRDs); their objects were not checked:");
      expect(text.out.match(/keda\.sh: ScaledObject \(keda\.sh\/v1alpha1, \d+ objects?\): /g)).toHaveLength(1);
    });
  });
});
