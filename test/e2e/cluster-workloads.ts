/** What the cluster e2e files share: one control plane per file, rendering, deploying and inspecting overlays. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { ensureBinaries, RawApi, startCluster, applyInWaves, volumesFor, waitUntilDeleted, type KubeObject, type LocalCluster } from "../cluster/index.js";
import { exampleText, runCli, tempProject } from "../helpers.js";

/** Starts one control plane for the calling test file; stops it after, keeping the logs if a test failed. */
export function useCluster(): { cluster: () => LocalCluster; api: () => RawApi } {
  let cluster: LocalCluster | undefined;
  let api: RawApi | undefined;
  let failed = false;
  beforeAll(async () => {
    cluster = await startCluster({ log: (line) => process.stderr.write(`[cluster] ${line}\n`) });
    api = new RawApi(cluster.kubeConfig());
  });
  afterEach((context) => {
    if (context.task.result?.state === "fail") failed = true;
  });
  afterAll(async () => {
    const logs = await cluster?.stop({ keepLogs: failed });
    if (logs) process.stderr.write(`[cluster] a test failed: component logs kept in ${logs}\n`);
  });
  return { cluster: () => cluster!, api: () => api! };
}

function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** The pinned kustomize 5.8 build of a kustomization directory. */
export async function kustomize58(dir: string): Promise<KubeObject[]> {
  const { kustomize } = await ensureBinaries();
  return parseObjects(execFileSync(kustomize, ["build", dir], { encoding: "utf8", maxBuffer: 64 << 20 }));
}

export function kubectlKustomize(dir: string): KubeObject[] {
  return parseObjects(execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 << 20 }));
}

export const key = (o: Pick<KubeObject, "kind" | "metadata" | "apiVersion">) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** A project generated in a temporary directory from the example config, changed by `change`. */
export async function project(change: (config: any) => void = () => {}): Promise<string> {
  const data = parse(exampleText());
  change(data);
  const dir = tempProject({ configText: stringify(data) });
  const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
  if (result.code !== 0) throw new Error(`gen failed: ${result.err}`);
  return dir;
}

/** The config's variants the cluster suite deploys (the same as test/variants.test.ts renders). */
export const VARIANTS: { name: string; change: (config: any) => void }[] = [
  { name: "the example", change: () => {} },
  {
    name: "HTTPS git without a builder",
    change: (d) => {
      d.dags.gitSync.repository = "https://github.com/acme/dags.git";
      d.dags.gitSync.auth = "https";
      d.dags.gitSync.subPath = "";
      delete d.dags.builder;
    },
  },
  {
    name: "a public repository",
    change: (d) => {
      d.dags.gitSync.repository = "https://github.com/acme/public-dags.git";
      d.dags.gitSync.auth = "none";
    },
  },
  {
    name: "another name and namespace",
    change: (d) => {
      d.name = "etl";
      d.namespace = "data-platform";
    },
  },
];

/** Pre-binds a volume to each claim (the EFS driver's part), then syncs as Argo CD does. */
export async function deploy(api: RawApi, objects: KubeObject[]): Promise<void> {
  for (const volume of volumesFor(objects)) await api.apply(volume, { fieldManager: "efs-csi-stand-in" });
  await applyInWaves(api, objects);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes what `deploy` created: the namespaces (waiting until they are gone), cluster-scoped objects, volumes. */
export async function undeploy(api: RawApi, objects: KubeObject[]): Promise<void> {
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  for (const o of objects) if (!o.metadata.namespace && o.kind !== "Namespace") await api.delete(o);
  for (const volume of volumesFor(objects)) await api.delete(volume);
  for (const ns of namespaces) await api.delete(ns);
  for (const ns of namespaces) await waitUntilDeleted(api, ns, 120_000);
}

export interface Pod extends KubeObject {
  spec: { nodeName?: string; containers: { name: string; image: string }[]; [k: string]: unknown };
  status?: { phase?: string; nominatedNodeName?: string };
}

export async function pods(api: RawApi, namespace: string, selector?: string): Promise<Pod[]> {
  const query = selector ? `?labelSelector=${encodeURIComponent(selector)}` : "";
  return (await api.request<{ items: Pod[] }>("GET", `/api/v1/namespaces/${namespace}/pods${query}`)).items;
}

export interface Event {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

export async function events(api: RawApi, namespace: string): Promise<Event[]> {
  return (await api.request<{ items: Event[] }>("GET", `/api/v1/namespaces/${namespace}/events`)).items;
}

export interface Node extends KubeObject {
  metadata: KubeObject["metadata"] & { labels: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean };
  status: { allocatable: Record<string, string> };
}

export async function nodes(api: RawApi): Promise<Map<string, Node>> {
  const list = await api.request<{ items: Node[] }>("GET", "/api/v1/nodes");
  return new Map(list.items.map((n) => [n.metadata.name, n]));
}

/** Waits until `check` returns nothing; fails with its last answer. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last === undefined) return;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs / 1000}s`);
    await sleep(300);
  }
}

/**
 * A task pod as the KubernetesExecutor makes it from the pod_template_file: the template's pod, with its
 * own name and labels, and the `base` container given the task command.
 */
export function taskPod(objects: KubeObject[], name: string): KubeObject {
  const config = objects.find((o) => o.kind === "ConfigMap" && (o as any).data?.["pod_template_file.yaml"]);
  if (!config) throw new Error("no ConfigMap carries pod_template_file.yaml");
  const pod = parse((config as any).data["pod_template_file.yaml"]) as any;
  pod.metadata.name = name;
  pod.metadata.namespace = config.metadata.namespace;
  pod.metadata.labels = { ...pod.metadata.labels, airflow_worker: "1", dag_id: "e2e", task_id: name, kubernetes_executor: "True" };
  const base = pod.spec.containers.find((c: { name: string }) => c.name === "base");
  if (!base) throw new Error("the pod template has no container named base");
  base.args = ["airflow", "tasks", "run", "e2e", name, "manual__2026-01-01T00:00:00+00:00", "--local"];
  return pod as KubeObject;
}

export const cpuMillis = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
