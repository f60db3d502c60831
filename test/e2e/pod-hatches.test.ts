/**
 * The escape hatches on the real control plane: prod's overlay with a hatch of every kind on every
 * workload (test/pod-hatches.test.ts's config), synced as Argo CD does into a namespace enforcing Pod
 * Security "restricted". Every pod is admitted, bound and running, and carries each hatch as the API
 * server stored it: the priority admission resolved the added PriorityClass, the sidecars passed
 * the restricted profile with the settings the generator gave them.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeObject, type KubeObject } from "../cluster/index.js";
import { withHatches } from "../pod-hatch-config.js";
import { deploy, eventually, kustomize58, nodes, pods, project, taskPod, undeploy, useCluster, type Pod } from "./cluster-workloads.js";

const { api } = useCluster();

/** A cluster's own PriorityClass, as the team that names it in priorityClassName has made it. */
const TEAM_PRIORITY = { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "team-critical" }, value: 900_000, description: "e2e" };
/** The node label the added required node affinity asks for, put on every node of the fleet for this file. */
const POOL_LABEL = "example.com/pool";

let objects: KubeObject[] = [];
let namespace: string;
const labelled: string[] = [];

beforeAll(async () => {
  const dir = await project(withHatches);
  objects = await kustomize58(join(dir, "overlays", "prod"));
  namespace = objects.find((o) => o.kind === "Namespace")!.metadata.name;
  await api().apply(TEAM_PRIORITY, { fieldManager: "e2e" });
  for (const name of (await nodes(api())).keys()) {
    await api().request("PATCH", `/api/v1/nodes/${name}`, JSON.stringify({ metadata: { labels: { [POOL_LABEL]: "airflow" } } }), "application/merge-patch+json");
    labelled.push(name);
  }
  await deploy(api(), objects);
}, 600_000);

afterAll(async () => {
  if (objects.length) await undeploy(api(), objects);
  for (const name of labelled) {
    await api().request("PATCH", `/api/v1/nodes/${name}`, JSON.stringify({ metadata: { labels: { [POOL_LABEL]: null } } }), "application/merge-patch+json");
  }
  await api().delete(TEAM_PRIORITY);
});

/** The live pods of a workload, by its selector; failing with what is there when none runs. */
async function runningPods(workload: KubeObject): Promise<Pod[]> {
  const selector = Object.entries((workload as any).spec.selector.matchLabels as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  let found: Pod[] = [];
  await eventually(`${describeObject(workload)} runs`, async () => {
    found = (await pods(api(), namespace, selector)).filter((p) => !p.metadata.deletionTimestamp);
    return found.length > 0 && found.every((p) => p.spec.nodeName && p.status?.phase === "Running") ? undefined : found.map((p) => `${p.metadata.name}:${p.status?.phase}`);
  }, 240_000);
  return found;
}

function expectHatches(pod: any, main: string, where: string): void {
  const container = pod.spec.containers.find((c: any) => c.name === main);
  expect(container.env.map((e: any) => e.name), where).toEqual(expect.arrayContaining(["TEAM", "NODE_NAME"]));
  expect(container.envFrom, where).toEqual([{ configMapRef: { name: "team-settings", optional: true } }]);
  expect(container.volumeMounts, where).toContainEqual({ name: "team-ca", mountPath: "/etc/ssl/team", readOnly: true });
  expect(pod.spec.volumes, where).toContainEqual({ name: "team-ca", configMap: { name: "team-ca-bundle", defaultMode: 420 } });
  const shipper = pod.spec.containers.find((c: any) => c.name === "shipper");
  expect(shipper.securityContext, where).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  expect(pod.spec.initContainers.at(-1).name, where).toBe("warm-up");
  expect(pod.metadata.annotations["example.com/owner"], where).toBe("data-platform");
  expect(pod.metadata.labels["cost-center"], where).toBe("cc-42");
  expect(pod.spec.imagePullSecrets, where).toEqual([{ name: "private-registry" }]);
  expect(pod.spec.nodeSelector["kubernetes.io/arch"], where).toBe("amd64");
  expect(pod.spec.tolerations, where).toContainEqual({ key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" });
  // The priority admission plugin resolved the class the hatch named.
  expect(pod.spec.priorityClassName, where).toBe("team-critical");
  expect(pod.spec.priority, where).toBe(TEAM_PRIORITY.value);
}

describe("escape hatches on the real control plane (prod)", () => {
  const deployments: [string, string][] = [
    ["airflow-api-server", "api-server"],
    ["airflow-scheduler", "scheduler"],
    ["airflow-dag-processor", "dag-processor"],
    ["airflow-triggerer", "triggerer"],
    ["airflow-statsd", "statsd-exporter"],
    ["airflow-dag-sync", "git-sync"],
  ];

  it.each(deployments)("%s: every pod admitted under Pod Security restricted, bound, running, with each hatch", async (name, main) => {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name)!;
    for (const pod of await runningPods(deployment)) {
      expectHatches(pod, main, `${name} ${pod.metadata.name}`);
      expect((pod as any).spec.terminationGracePeriodSeconds).toBe(77);
      // Both the generated node placement and the added one hold on the node the scheduler chose.
      const node = (await nodes(api())).get(pod.spec.nodeName!)!;
      expect(node.metadata.labels[POOL_LABEL]).toBe("airflow");
    }
  });

  it("the scheduler has prod's own hatches beside the shared ones", async () => {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "airflow-scheduler")!;
    for (const pod of await runningPods(deployment)) {
      expect(pod.spec.containers.map((c) => c.name)).toEqual(["scheduler", "shipper", "prod-proxy"]);
      expect(pod.metadata.labels?.tier).toBe("gold");
    }
  });

  it("the raw patches landed: the api-server pods resolve ldap.internal, the Service has its annotation", async () => {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "airflow-api-server")!;
    for (const pod of await runningPods(deployment)) expect((pod as any).spec.hostAliases).toEqual([{ ip: "10.0.0.10", hostnames: ["ldap.internal"] }]);
    const service = await api().get({ apiVersion: "v1", kind: "Service", metadata: { name: "airflow-api-server", namespace } });
    expect(service.metadata.annotations?.["example.com/owner"]).toBe("data-platform");
  });

  it("the migration Job's pod ran with the jobs' hatches", async () => {
    const job = objects.find((o) => o.kind === "Job" && /migrat/.test(o.metadata.name))!;
    const live = await api().get<any>(job);
    const list = await pods(api(), namespace, `batch.kubernetes.io/controller-uid=${live.metadata.uid}`);
    expect(list.length).toBeGreaterThan(0);
    for (const pod of list) expectHatches(pod, "migrate", `${job.metadata.name} ${pod.metadata.name}`);
  });

  it("a task pod made from the pod template file is admitted and runs with the worker's hatches", async () => {
    const pod = taskPod(objects, "hatched-task");
    await api().apply(pod, { fieldManager: "airflow-scheduler" });
    let live: any;
    await eventually("the task pod runs", async () => {
      live = await api().get<any>(pod);
      return live.spec.nodeName && live.status?.phase === "Running" ? undefined : live.status?.phase;
    }, 120_000);
    expectHatches(live, "base", "task pod");
    expect(live.metadata.annotations["example.com/tier"]).toBe("gold");
  });
});
