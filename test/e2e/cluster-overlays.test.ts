/**
 * Every overlay of the example and of the config variants, against a real control plane: rendered alike by
 * kustomize 5.8 and kubectl, synced as Argo CD does, every pod created under Pod Security "restricted" and
 * bound by the scheduler, the RBAC table, and in prod the placement on on-demand and peak-pool nodes.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, describeObject, type KubeObject, type RawApi } from "../cluster/index.js";
import { rbacProblems } from "./cluster-rbac.js";
import {
  cpuMillis,
  deploy,
  events,
  eventually,
  key,
  kubectlKustomize,
  kustomize58,
  nodes,
  pods,
  project,
  taskPod,
  undeploy,
  useCluster,
  VARIANTS,
  type Node,
  type Pod,
} from "./cluster-workloads.js";

const { api } = useCluster();

/** Creating and binding a pool's worth of pods, then preempting, takes minutes when the two cores are busy. */
const SLOW_CONTROLLERS_MS = 240_000;

const CONTROL_PLANE = ["scheduler", "api-server", "dag-processor", "triggerer", "statsd", "dag-sync"];

/** Every pod of the overlay's workloads exists, is bound to a node and runs (or, for the hook, completed). */
async function podProblems(api: RawApi, namespace: string, objects: KubeObject[]): Promise<string[] | undefined> {
  const problems: string[] = [];
  const live = await pods(api, namespace);
  for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
    const selector = (deployment as any).spec.selector.matchLabels as Record<string, string>;
    const replicas = (deployment as any).spec.replicas ?? 1;
    const mine = live.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) && !p.metadata.deletionTimestamp);
    const running = mine.filter((p) => p.spec.nodeName && p.status?.phase === "Running");
    if (running.length !== replicas) problems.push(`${describeObject(deployment)}: ${running.length}/${replicas} pods bound and running`);
  }
  return problems.length ? problems : undefined;
}

function zoneOf(nodeMap: Map<string, Node>, pod: Pod): string {
  return nodeMap.get(pod.spec.nodeName!)!.metadata.labels["topology.kubernetes.io/zone"]!;
}

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    let dir: string;
    let config: any;
    beforeAll(async () => {
      dir = await project(variant.change);
      config = parse(readFileSync(join(dir, "airflow-gitops.yaml"), "utf8"));
    });

    it("argocd/: kustomize 5.8 and kubectl render the same objects, and the API server accepts every one", async () => {
      const objects = await kustomize58(join(dir, "argocd"));
      expect(objects.map(key).sort()).toEqual(kubectlKustomize(join(dir, "argocd")).map(key).sort());
      expect(objects).toEqual(expect.arrayContaining(kubectlKustomize(join(dir, "argocd"))));
      // Argo CD's namespace is the installer's; the Applications' namespace is in the build, created first as kubectl apply would.
      const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: config.argocd?.namespace ?? "argocd" } };
      await api().apply(namespace, { fieldManager: "e2e" });
      for (const o of objects.filter((o) => o.kind === "Namespace")) await api().apply(o, { fieldManager: "e2e" });
      for (const o of objects) await api().apply(o, { fieldManager: "argocd-controller", dryRun: true });
    });

    for (const environment of ["dev", "prod"]) {
      describe(`overlay ${environment}`, () => {
        let objects: KubeObject[] = [];
        let namespace: string;
        afterAll(async () => {
          if (objects.length) await undeploy(api(), objects);
        });

        it("kustomize 5.8 and kubectl kustomize build the same objects", async () => {
          expect(readdirSync(join(dir, "overlays"))).toContain(environment);
          objects = await kustomize58(join(dir, "overlays", environment));
          namespace = objects.find((o) => o.kind === "Namespace")!.metadata.name;
          // kubectl 1.32's kustomize (v5.5) does not know the admission policy kinds are cluster-scoped and stamps the
          // namespace on them, as both versions do on custom cluster-scoped kinds; the API server drops it, so the
          // comparison does too, for the kinds discovery calls cluster-scoped.
          const asServed = (list: KubeObject[]) =>
            Promise.all(
              list.map(async (o) => {
                if ((await api().namespaced(o)) || !o.metadata.namespace) return o;
                const { namespace: _dropped, ...metadata } = o.metadata;
                return { ...o, metadata } as KubeObject;
              }),
            );
          const ours = await asServed(objects);
          const viaKubectl = await asServed(kubectlKustomize(join(dir, "overlays", environment)));
          expect(ours.map(key).sort()).toEqual(viaKubectl.map(key).sort());
          const byKey = new Map(viaKubectl.map((o) => [key(o), o]));
          for (const o of ours) expect(o, key(o)).toEqual(byKey.get(key(o)));
        });

        it("syncs as Argo CD does (server-side apply, strict, waves, the migration hook) and every object is accepted", async () => {
          await deploy(api(), objects);
          const hook = objects.find((o) => o.metadata.annotations?.["argocd.argoproj.io/hook"] === "Sync");
          expect(hook?.kind).toBe("Job");
          const job = await api().get<KubeObject & { status: { succeeded?: number } }>(hook!);
          expect(job.status.succeeded).toBe(1);
        });

        it("the controllers create every pod under Pod Security restricted and the scheduler binds each", async () => {
          await eventually("pods of every Deployment bound and running", () => podProblems(api(), namespace, objects));
          const refused = (await events(api(), namespace)).filter((e) => ["FailedCreate", "FailedScheduling"].includes(e.reason));
          expect(refused.map((e) => `${e.involvedObject.kind} ${e.involvedObject.name}: ${e.reason}: ${e.message}`)).toEqual([]);
          const labels = (objects.find((o) => o.kind === "Namespace")!.metadata.labels ?? {}) as Record<string, string>;
          expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        });

        it("every ServiceAccount has exactly the permissions of the RBAC table", async () => {
          expect(await rbacProblems(api(), objects, config.name)).toEqual([]);
        });

        it("the admission policy lets the scheduler launch task pods only as the worker and without a Secret; task pods may not either", async () => {
          const user = (sa: string) => `system:serviceaccount:${namespace}:${config.name}-${sa}`;
          const tryCreate = async (as: string, change: (pod: any) => void) => {
            const pod = taskPod(objects, "e2e-admission") as any;
            change(pod);
            try {
              await api().as(as).request("POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, JSON.stringify(pod));
              return "admitted";
            } catch (error) {
              return `${(error as ApiError).status} ${(error as Error).message}`;
            }
          };
          const secretsAccount = `${config.name}-external-secrets`;
          const asSecretsAccount = (pod: any) => (pod.spec.serviceAccountName = secretsAccount);
          const readsSecret = (pod: any) =>
            pod.spec.containers[0].env.push({ name: "STOLEN", valueFrom: { secretKeyRef: { name: `${config.name}-fernet-key`, key: "x" } } });
          const mountsSecret = (pod: any) => pod.spec.volumes.push({ name: "stolen", secret: { secretName: `${config.name}-fernet-key` } });
          expect(await tryCreate(user("scheduler"), () => {})).toBe("admitted");
          expect(await tryCreate(user("scheduler"), asSecretsAccount)).toMatch(new RegExp(`^403 .*denied request: task pods run as ServiceAccount ${config.name}-worker, not ${secretsAccount}$`));
          for (const change of [readsSecret, mountsSecret]) expect(await tryCreate(user("scheduler"), change)).toMatch(/^403 .*task pods may not reference a Secret/);
          // Task pods: RBAC refuses them any pod unless components.worker.podLauncher is on, and then the policy applies to them too.
          for (const change of [asSecretsAccount, readsSecret]) expect(await tryCreate(user("worker"), change)).toMatch(/^403 /);
          // The control plane's own pods (made by the controllers) are not matched: they are all running, Secrets and all.
          expect(await podProblems(api(), namespace, objects)).toBeUndefined();
        });

        if (environment === "prod") {
          it("control-plane pods run on on-demand nodes spread over zones; placeholders only on the peak pool", async () => {
            const pool = config.environments.prod.peakHours.nodePool;
            const inPool = (n: Node) => Object.entries(pool.labels as Record<string, string>).every(([k, v]) => n.metadata.labels[k] === v);
            const nodeMap = await nodes(api());
            const live = (await pods(api(), namespace)).filter((p) => p.status?.phase === "Running");
            for (const component of CONTROL_PLANE) {
              const mine = live.filter((p) => p.metadata.labels?.["app.kubernetes.io/component"] === component);
              for (const p of mine) {
                const node = nodeMap.get(p.spec.nodeName!)!;
                expect(node.metadata.labels["karpenter.sh/capacity-type"], `${p.metadata.name} on ${node.metadata.name}`).toBe("on-demand");
                expect(inPool(node), `${p.metadata.name} on ${node.metadata.name}`).toBe(false);
              }
              const zones = new Set(mine.map((p) => zoneOf(nodeMap, p)));
              expect(zones.size, `${component}: zones of ${mine.length} pods`).toBe(Math.min(mine.length, 3));
            }
            const placeholders = live.filter((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "peak-placeholder");
            // KEDA does not run here: the count is the Deployment's own (the off-peak one).
            const placeholderDeployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-peak-placeholder"))!;
            expect(placeholders.length).toBe((placeholderDeployment as any).spec.replicas ?? 1);
            for (const p of placeholders) expect(inPool(nodeMap.get(p.spec.nodeName!)!), `${p.metadata.name} on ${p.spec.nodeName}`).toBe(true);
          });

          it("a task pod made from the pod template (as the scheduler's account) lands on a peak-pool node", async () => {
            const scheduler = api().as(`system:serviceaccount:${namespace}:${config.name}-scheduler`);
            const pod = taskPod(objects, "e2e-task-placement");
            await scheduler.request("POST", `/api/v1/namespaces/${namespace}/pods`, JSON.stringify(pod));
            let bound: Pod | undefined;
            await eventually("the task pod bound", async () => {
              bound = (await pods(api(), namespace, "task_id=e2e-task-placement"))[0];
              return bound?.spec.nodeName ? undefined : "unbound";
            });
            const node = (await nodes(api())).get(bound!.spec.nodeName!)!;
            const pool = config.environments.prod.peakHours.nodePool.labels as Record<string, string>;
            for (const [k, v] of Object.entries(pool)) expect(node.metadata.labels[k], node.metadata.name).toBe(v);
            await scheduler.delete(pod);
            await eventually("the task pod gone", async () => ((await pods(api(), namespace, "task_id=e2e-task-placement")).length ? "present" : undefined));
          });

          if (variant.name === "the example") {
            it("when placeholders fill the pool, a task pod preempts one; a control-plane pod finding the pool full of tasks preempts none", async () => {
              const pool = config.environments.prod.peakHours.nodePool.labels as Record<string, string>;
              const nodeMap = await nodes(api());
              const peakNodes = [...nodeMap.values()].filter((n) => Object.entries(pool).every(([k, v]) => n.metadata.labels[k] === v));
              const others = [...nodeMap.values()].filter((n) => !peakNodes.includes(n));
              // The task template only prefers the pool: with room elsewhere the scheduler would go there
              // instead of preempting. The other nodes are cordoned, as if Karpenter had packed them full.
              const cordon = (n: Node, on: boolean) =>
                api().request("PATCH", `/api/v1/nodes/${n.metadata.name}`, JSON.stringify({ spec: { unschedulable: on } }), "application/merge-patch+json");
              for (const n of others) await cordon(n, true);
              try {
                const placeholder = objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-peak-placeholder"))!;
                const requests = (placeholder as any).spec.template.spec.containers[0].resources.requests;
                const free = async () => {
                  const live = (await pods(api(), namespace)).filter((p) => p.spec.nodeName && !["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
                  return peakNodes.map((n) => {
                    const used = live
                      .filter((p) => p.spec.nodeName === n.metadata.name)
                      .reduce((sum, p) => sum + (p.spec.containers as any[]).reduce((s, c) => s + cpuMillis(c.resources?.requests?.cpu ?? "0"), 0), 0);
                    return cpuMillis(n.status.allocatable.cpu!) - used;
                  });
                };
                const fit = (await free()).reduce((sum, f) => sum + Math.floor(f / cpuMillis(requests.cpu)), 0);
                const current = (await pods(api(), namespace, "app.kubernetes.io/component=peak-placeholder")).filter((p) => p.spec.nodeName).length;
                // KEDA's part: scale the placeholders so that the pool is full and one more waits.
                await api().request(
                  "PATCH",
                  `/apis/apps/v1/namespaces/${namespace}/deployments/${placeholder.metadata.name}/scale`,
                  JSON.stringify({ spec: { replicas: current + fit + 1 } }),
                  "application/merge-patch+json",
                );
                await eventually("placeholders fill the pool", async () => {
                  const bound = (await pods(api(), namespace, "app.kubernetes.io/component=peak-placeholder")).filter((p) => p.spec.nodeName);
                  return bound.length >= current + fit ? undefined : `${bound.length} of ${current + fit} bound`;
                }, SLOW_CONTROLLERS_MS);
                const task = taskPod(objects, "x").spec as any;
                const taskCpu = cpuMillis(task.containers.find((c: any) => c.name === "base").resources.requests.cpu);
                const count = (await free()).reduce((sum, f) => sum + Math.floor(f / taskCpu), 0) + 1;
                const scheduler = api().as(`system:serviceaccount:${namespace}:${config.name}-scheduler`);
                for (let i = 0; i < count; i++) {
                  await scheduler.request("POST", `/api/v1/namespaces/${namespace}/pods`, JSON.stringify(taskPod(objects, `e2e-task-${i}`)));
                }
                await eventually(`all ${count} task pods bound on the pool`, async () => {
                  const tasks = await pods(api(), namespace, "airflow_worker=1");
                  const unbound = tasks.filter((p) => !p.spec.nodeName || !peakNodes.some((n) => n.metadata.name === p.spec.nodeName));
                  return unbound.length === 0 && tasks.length === count ? undefined : unbound.map((p) => p.metadata.name);
                }, SLOW_CONTROLLERS_MS);
                const preempted = (await events(api(), namespace)).filter((e) => e.reason === "Preempted");
                expect(preempted.length).toBeGreaterThan(0);
                expect(preempted.every((e) => e.involvedObject.name.startsWith(placeholder.metadata.name))).toBe(true);

                // A pod of the control plane's class, held to the pool (its labels, its taint) and too big for its
                // free room: only preempting task pods would make room, and its class forbids that.
                const tasks = new Map((await pods(api(), namespace, "airflow_worker=1")).map((p) => [p.metadata.name, p.metadata.uid as string]));
                const controlPlane = objects.find((o) => o.kind === "PriorityClass" && o.metadata.name.endsWith("-control-plane"))!;
                const taint = config.environments.prod.peakHours.nodePool.taint as { key: string; value: string; effect: string };
                const biggest = Math.max(...peakNodes.map((n) => cpuMillis(n.status.allocatable.cpu!)));
                const waiting = {
                  apiVersion: "v1",
                  kind: "Pod",
                  metadata: { name: "e2e-control-plane-waits", namespace, labels: { "app.kubernetes.io/component": "e2e-control-plane" } },
                  spec: {
                    priorityClassName: controlPlane.metadata.name,
                    nodeSelector: pool,
                    tolerations: [{ key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect }],
                    securityContext: { runAsNonRoot: true, runAsUser: 50000, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                      {
                        name: "c",
                        image: "registry.k8s.io/pause:3.10",
                        resources: { requests: { cpu: `${Math.floor(biggest / 2)}m`, memory: "64Mi" }, limits: { memory: "64Mi" } },
                        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                      },
                    ],
                  },
                };
                await api().request("POST", `/api/v1/namespaces/${namespace}/pods`, JSON.stringify(waiting));
                try {
                  let verdict = "";
                  await eventually("the scheduler's verdict on the control-plane pod", async () => {
                    const failed = (await events(api(), namespace)).filter((e) => e.reason === "FailedScheduling" && e.involvedObject.name === waiting.metadata.name);
                    verdict = failed.map((e) => e.message).find((m) => m.includes("preemptionPolicy=Never")) ?? "";
                    return verdict ? undefined : failed.map((e) => e.message);
                  }, SLOW_CONTROLLERS_MS);
                  process.stderr.write(`[cluster] the control-plane pod: "${verdict}"\n`);
                  const live = await api().request<KubeObject>("GET", `/api/v1/namespaces/${namespace}/pods/${waiting.metadata.name}`);
                  expect((live as any).spec.priority).toBe((controlPlane as any).value);
                  expect((live as any).spec.nodeName).toBeUndefined();
                  const after = (await pods(api(), namespace, "airflow_worker=1")).filter((p) => !p.metadata.deletionTimestamp);
                  expect(new Map(after.map((p) => [p.metadata.name, p.metadata.uid as string]))).toEqual(tasks);
                  expect((await events(api(), namespace)).filter((e) => e.reason === "Preempted" && tasks.has(e.involvedObject.name))).toEqual([]);
                } finally {
                  await api().request("DELETE", `/api/v1/namespaces/${namespace}/pods/${waiting.metadata.name}`);
                }
              } finally {
                for (const n of others) await cordon(n, false);
              }
            });
          }
        }
      });
    }
  });
}
