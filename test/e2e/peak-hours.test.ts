/**
 * The peak-hour day, compressed to minutes, with the real controllers: KEDA (operator, metrics API server,
 * admission webhooks), the controller-manager's HPA controller reading KEDA's external metrics and
 * metrics-server's CPU metrics, and Karpenter with its kwok provider provisioning and consolidating the peak
 * pool, which starts empty. The prod overlay of a variant of the example is synced; then one commit moves its
 * peak window to start a few minutes from now, in a zone a quarter of an hour off UTC (same cron and zone logic
 * as production), and the test watches the day go by, asserting each step and printing the timeline.
 *
 * The variant differs from the example only where a day of minutes needs it: one window of two minutes with a
 * two-minute lead time, peak replicas one above the minimum, two placeholders, no stabilization windows and a
 * ten-second consolidateAfter. The NodePool's node class becomes the kwok provider's (`forKwok`): the only
 * object changed between the generated tree and what is applied.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, FIELD_MANAGER, RawApi, startCluster, type KubeObject, type LocalCluster } from "../cluster/index.js";
import { cacheRoot } from "../cluster/binaries.js";
import { forKwok, Karpenter } from "../cluster/karpenter.js";
import { Keda } from "../cluster/keda.js";
import { MetricsServer } from "../cluster/metrics-server.js";
import type { DayStep, MeasuredDay } from "../../generator/core/measured-day.js";
import { runCli } from "../helpers.js";
import { deploy, eventually, kustomize58, nodes, pods, project, taskPod, type Node, type Pod } from "./cluster-workloads.js";

/** UTC+05:45: a cron written in local time that fires at the right UTC minute only if the zone is applied. */
const ZONE = "Asia/Kathmandu";
const NAMESPACE = "airflow";
const POOL = "airflow-peak";
const MINUTE = 60_000;

const hhmm = (at: Date) => new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);

interface Day {
  lead: Date;
  start: Date;
  end: Date;
}

/** Minutes of lead time: enough for KEDA's poll (30 s) and the HPA's (15 s) on a busy machine. */
const LEAD_MINUTES = 2;

/** The lead time begins at the first whole minute at least `marginMs` away; the two-minute window follows it. */
function dayFrom(now: number, marginMs: number): Day {
  const lead = new Date(Math.ceil((now + marginMs) / MINUTE) * MINUTE);
  const start = new Date(lead.getTime() + LEAD_MINUTES * MINUTE);
  return { lead, start, end: new Date(start.getTime() + 2 * MINUTE) };
}

function variant(day: Day) {
  return (d: any) => {
    const prod = d.environments.prod;
    prod.peakHours.timezone = ZONE;
    prod.peakHours.windows = [{ days: "daily", start: hhmm(day.start), end: hhmm(day.end) }];
    prod.peakHours.replicas = { apiServer: 3, scheduler: 3 };
    prod.peakHours.warmCapacity = { ...prod.peakHours.warmCapacity, placeholders: 2, leadTime: `${LEAD_MINUTES}m` };
    prod.peakHours.nodePool.karpenter.consolidateAfter = "10s";
    prod.autoscaling.behavior = { scaleUpStabilizationSeconds: 0, scaleDownStabilizationSeconds: 0 };
  };
}

async function render(day: Day): Promise<{ dir: string; objects: KubeObject[] }> {
  const dir = await project(variant(day));
  const objects = (await kustomize58(join(dir, "overlays", "prod"))).map((o) => (o.kind === "NodePool" ? forKwok(o) : o));
  return { dir, objects };
}

interface Scalable extends KubeObject {
  spec: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number };
}

const replicasOf = async (api: RawApi, name: string) => (await api.get<Scalable>({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: NAMESPACE } })).spec.replicas ?? 1;

async function peakNodes(api: RawApi): Promise<Node[]> {
  return [...(await nodes(api)).values()].filter((n) => n.metadata.labels["karpenter.sh/nodepool"] === POOL);
}

async function nodeClaims(api: RawApi): Promise<KubeObject[]> {
  return (await api.request<{ items: KubeObject[] }>("GET", "/apis/karpenter.sh/v1/nodeclaims")).items;
}

/** The Secret each ExternalSecret makes: its target's name, one key per `data` entry, a value of no meaning. */
function secretsOfExternalSecrets(objects: KubeObject[]): KubeObject[] {
  return objects
    .filter((o) => o.kind === "ExternalSecret")
    .map((o) => {
      const spec = o.spec as { target?: { name?: string }; data?: { secretKey: string }[] };
      const data = Object.fromEntries((spec.data ?? []).map((d) => [d.secretKey, Buffer.from("peak-hours").toString("base64")]));
      return { apiVersion: "v1", kind: "Secret", metadata: { name: spec.target?.name ?? o.metadata.name, namespace: o.metadata.namespace }, data };
    });
}

const running = (p: Pod) => Boolean(p.spec.nodeName) && p.status?.phase === "Running" && !p.metadata.deletionTimestamp;

describe("peak hours with KEDA, the HPA controller, metrics-server and Karpenter", () => {
  let cluster: LocalCluster;
  let api: RawApi;
  let keda: Keda | undefined;
  let karpenter: Karpenter | undefined;
  let metrics: MetricsServer | undefined;
  let work: string;
  let failed = false;
  let day: Day;
  let fleet: string[];
  let dayConfig: string;
  const timeline: { at: Date; what: string; step?: DayStep }[] = [];
  const mark = (what: string, at = new Date(), step?: DayStep) => timeline.push({ at, what, step });
  const log = (line: string) => process.stderr.write(`[peak-hours] ${line}\n`);

  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  async function setUp(): Promise<void> {
    work = mkdtempSync(join(tmpdir(), "peak-hours-"));
    // A window far from now for the first sync: the day starts off-peak.
    const first = await render(dayFrom(Date.now() + 12 * 60 * MINUTE, 0));
    cluster = await startCluster({ config: join(first.dir, "airflow-gitops.yaml"), fleet: { peakNodesPerPool: 0 }, log });
    api = new RawApi(cluster.kubeConfig());
    const common = { cluster: cluster.state, api, logsDir: cluster.state.logsDir, log };
    metrics = await MetricsServer.start({ ...common, dir: join(work, "metrics-server") });
    keda = await Keda.start({ ...common, dir: join(work, "keda") });
    karpenter = await Karpenter.start({ ...common, region: "sa-east-1", dir: join(work, "karpenter") });
    fleet = [...(await nodes(api)).keys()].sort();
    // KEDA resolves the env of a target's container, Secret references included; the secrets suite runs the
    // operator that makes these Secrets, here they are written as it would write them (names and keys), in the
    // namespace the sync would create, before the ScaledObjects exist.
    for (const namespace of first.objects.filter((o) => o.kind === "Namespace")) await api.apply(namespace, { fieldManager: FIELD_MANAGER });
    for (const secret of secretsOfExternalSecrets(first.objects)) await api.apply(secret, { fieldManager: "e2e" });
    await deploy(api, first.objects);
  }

  afterAll(async () => {
    await karpenter?.stop();
    await keda?.stop();
    await metrics?.stop();
    const logs = await cluster?.stop({ keepLogs: failed });
    if (logs) process.stderr.write(`[peak-hours] a test failed: component logs kept in ${logs}\n`);
    rmSync(work, { recursive: true, force: true });
  });

  const step = (name: string, body: () => Promise<void>, timeoutMs = 6 * MINUTE) =>
    it(
      name,
      async () => {
        try {
          await body();
        } catch (error) {
          failed = true;
          throw error;
        }
      },
      timeoutMs,
    );

  step("off-peak: KEDA owns each target's HPA, every target at its off-peak replicas, the peak pool empty", async () => {
    const hpas: [string, string][] = [["airflow-api-server", "airflow-api-server"], ["airflow-scheduler", "airflow-scheduler"], ["airflow-peak-placeholder", "airflow-peak-placeholder"]];
    for (const [name, hpa] of hpas) {
      await eventually(`ScaledObject ${name} Ready`, async () => {
        const so = await api.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name, namespace: NAMESPACE } });
        return so.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? undefined : so.status?.conditions;
      });
      const live = await api.get<KubeObject & { metadata: { ownerReferences?: { kind: string; name: string }[] } }>({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: hpa, namespace: NAMESPACE } });
      expect(live.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual([`ScaledObject/${name}`]);
    }
    await eventually("off-peak replicas", async () => {
      const now = { api: await replicasOf(api, "airflow-api-server"), scheduler: await replicasOf(api, "airflow-scheduler"), placeholders: await replicasOf(api, "airflow-peak-placeholder") };
      return now.api === 2 && now.scheduler === 2 && now.placeholders === 0 ? undefined : now;
    }, 2 * MINUTE);
    expect(await peakNodes(api)).toEqual([]);
    mark("synced off-peak: api-server 2, scheduler 2, placeholders 0, no peak node");
  });

  step("KEDA's admission webhook refuses a second ScaledObject on a target that has one", async () => {
    const second = {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "second-on-api-server", namespace: NAMESPACE },
      spec: { scaleTargetRef: { name: "airflow-api-server" }, triggers: [{ type: "cron", metadata: { timezone: ZONE, start: "0 1 * * *", end: "0 2 * * *", desiredReplicas: "5" } }] },
    };
    const refused = await api.apply(second, { fieldManager: "e2e" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    // KEDA names the ScaledObject, or the HPA it made for it, whichever of its caches answers first.
    expect(String((refused as Error).message)).toMatch(/the workload 'airflow-api-server' of type 'apps\/v1\.Deployment' is already managed by the (ScaledObject|hpa) 'airflow-api-server'/);
  });

  step("a commit that moves the peak window changes the ScaledObjects and nothing else", async () => {
    day = dayFrom(Date.now(), 40_000);
    const before = (await render(dayFrom(Date.now() + 12 * 60 * MINUTE, 0))).objects;
    const moved = await render(day);
    const after = moved.objects;
    dayConfig = join(moved.dir, "airflow-gitops.yaml");
    const changed = after.filter((o) => JSON.stringify(o) !== JSON.stringify(before.find((b) => b.kind === o.kind && b.metadata.name === o.metadata.name)));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(["ScaledObject/airflow-api-server", "ScaledObject/airflow-peak-placeholder", "ScaledObject/airflow-scheduler"]);
    for (const object of changed) await api.apply(object, { fieldManager: FIELD_MANAGER });
    log(`window ${hhmm(day.start)}-${hhmm(day.end)} ${ZONE} (lead from ${hhmm(day.lead)}): ${day.start.toISOString()} to ${day.end.toISOString()} UTC`);
    mark(`window moved to ${hhmm(day.start)}-${hhmm(day.end)} ${ZONE}, lead time from ${hhmm(day.lead)}`);
  });

  step("before the lead time: still off-peak", async () => {
    expect(Date.now()).toBeLessThan(day.lead.getTime());
    expect({ api: await replicasOf(api, "airflow-api-server"), scheduler: await replicasOf(api, "airflow-scheduler"), placeholders: await replicasOf(api, "airflow-peak-placeholder") }).toEqual({ api: 2, scheduler: 2, placeholders: 0 });
    expect(await nodeClaims(api)).toEqual([]);
    mark("before the lead time: still off-peak");
  });

  step("at the lead time the placeholders scale up, Karpenter provisions peak-pool nodes with the pool's labels and taint, the placeholders land there", async () => {
    await eventually("placeholders scaled to 2", async () => ((await replicasOf(api, "airflow-peak-placeholder")) === 2 ? undefined : await replicasOf(api, "airflow-peak-placeholder")), 3 * MINUTE);
    const scaled = new Date();
    mark("placeholders scaled to 2 (KEDA activation, then the HPA)", scaled, "lead");
    expect(scaled.getTime()).toBeGreaterThanOrEqual(day.lead.getTime());
    expect(scaled.getTime()).toBeLessThan(day.start.getTime());
    await eventually("placeholders running on peak nodes", async () => {
      const live = (await pods(api, NAMESPACE, "app.kubernetes.io/component=peak-placeholder")).filter(running);
      return live.length === 2 ? undefined : live.map((p) => p.metadata.name);
    }, 3 * MINUTE);
    const peak = await peakNodes(api);
    mark(`placeholders running on ${peak.length} peak node(s) Karpenter made: ${peak.map((n) => n.metadata.labels["node.kubernetes.io/instance-type"]).join(", ")}`);
    expect(peak.length).toBeGreaterThan(0);
    for (const node of peak) {
      expect(node.spec.taints).toEqual(expect.arrayContaining([{ key: "dedicated", value: "airflow-peak", effect: "NoSchedule" }]));
      expect(node.metadata.labels["karpenter.sh/capacity-type"]).toBe("on-demand");
      expect(["c", "m", "r"]).toContain(node.metadata.labels["karpenter.k8s.aws/instance-category"]);
      expect(fleet).not.toContain(node.metadata.name);
    }
    const live = (await pods(api, NAMESPACE, "app.kubernetes.io/component=peak-placeholder")).filter(running);
    expect(live.every((p) => peak.some((n) => n.metadata.name === p.spec.nodeName))).toBe(true);
  });

  step("at the window the api-server and the scheduler reach their peak replicas through the HPAs KEDA owns", async () => {
    await eventually("api-server and scheduler at 3", async () => {
      const now = { api: await replicasOf(api, "airflow-api-server"), scheduler: await replicasOf(api, "airflow-scheduler") };
      return now.api === 3 && now.scheduler === 3 ? undefined : now;
    }, 3 * MINUTE);
    const reached = new Date();
    mark("api-server 3, scheduler 3 (the HPAs, from KEDA's cron metric)", reached, "start");
    expect(reached.getTime()).toBeGreaterThanOrEqual(day.start.getTime());
    for (const name of ["airflow-api-server", "airflow-scheduler"]) {
      const hpa = await api.get<KubeObject & { status: { desiredReplicas: number; lastScaleTime?: string } }>({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name, namespace: NAMESPACE } });
      expect(hpa.status.desiredReplicas).toBe(3);
      expect(new Date(hpa.status.lastScaleTime!).getTime()).toBeGreaterThanOrEqual(day.start.getTime() - 1000);
    }
  });

  step("a task pod arriving in the window starts at once on a warm peak node", async () => {
    const { objects } = await render(day);
    const claimsBefore = (await nodeClaims(api)).length;
    const task = taskPod(objects, "peak-task");
    const created = Date.now();
    await api.request("POST", `/api/v1/namespaces/${NAMESPACE}/pods`, JSON.stringify(task));
    let bound: Pod | undefined;
    await eventually("task pod running", async () => {
      bound = (await pods(api, NAMESPACE)).find((p) => p.metadata.name === "peak-task");
      return bound && running(bound) ? undefined : bound?.status;
    }, MINUTE);
    const peak = await peakNodes(api);
    expect(peak.map((n) => n.metadata.name)).toContain(bound!.spec.nodeName);
    expect((await nodeClaims(api)).length).toBe(claimsBefore);
    mark(`task pod running on peak node ${bound!.spec.nodeName} ${Date.now() - created} ms after it was created, no new node`);
    await api.request("DELETE", `/api/v1/namespaces/${NAMESPACE}/pods/peak-task?gracePeriodSeconds=0`);
  });

  step(
    "after the window: replicas back to off-peak, placeholders gone, Karpenter consolidates the peak nodes away, the fleet untouched",
    async () => {
      await eventually("off-peak again", async () => {
        const now = { api: await replicasOf(api, "airflow-api-server"), scheduler: await replicasOf(api, "airflow-scheduler"), placeholders: await replicasOf(api, "airflow-peak-placeholder") };
        return now.api === 2 && now.scheduler === 2 && now.placeholders === 0 ? undefined : now;
      }, 5 * MINUTE);
      const offPeak = new Date();
      expect(offPeak.getTime()).toBeGreaterThanOrEqual(day.end.getTime());
      mark("api-server 2, scheduler 2, placeholders 0", offPeak, "end");
      await eventually("no peak node", async () => {
        const peak = await peakNodes(api);
        const claims = await nodeClaims(api);
        return peak.length === 0 && claims.length === 0 ? undefined : { nodes: peak.map((n) => n.metadata.name), claims: claims.map((c) => c.metadata.name) };
      }, 5 * MINUTE);
      mark("Karpenter consolidated the empty peak nodes away");
      expect([...(await nodes(api)).keys()].sort()).toEqual(fleet);
    },
    11 * MINUTE,
  );

  step("CPU above the trigger's threshold adds api-server replicas beyond the cron's", async () => {
    const apiPods = (await pods(api, NAMESPACE, "app.kubernetes.io/component=api-server")).filter(running);
    // kwok reports a pod's CPU from this annotation: 450m of the 500m request is 90%, over the 70% threshold.
    for (const pod of apiPods) {
      await api.request("PATCH", `/api/v1/namespaces/${NAMESPACE}/pods/${pod.metadata.name}`, JSON.stringify({ metadata: { annotations: { "kwok.x-k8s.io/usage-cpu": "450m" } } }), "application/merge-patch+json");
    }
    const loaded = Date.now();
    await eventually("api-server above 2 on CPU", async () => ((await replicasOf(api, "airflow-api-server")) > 2 ? undefined : await replicasOf(api, "airflow-api-server")), 4 * MINUTE);
    mark(`CPU at 90%: api-server ${await replicasOf(api, "airflow-api-server")} replicas, ${Math.round((Date.now() - loaded) / 1000)} s after the load`);
  });

  it("the day, as it went", () => {
    const first = timeline[0]?.at.getTime() ?? 0;
    const lines = timeline.map((t) => `  +${String(Math.round((t.at.getTime() - first) / 1000)).padStart(4)} s  ${t.at.toISOString().slice(11, 19)} UTC  ${hhmm(t.at)} ${ZONE}  ${t.what}`);
    console.log(`peak-hours timeline (window ${hhmm(day.start)}-${hhmm(day.end)} ${ZONE}, lead from ${hhmm(day.lead)}):\n${lines.join("\n")}`);
    expect(timeline.length).toBeGreaterThanOrEqual(8);
  });

  it("npm run schedule shows the measured day beside the plan", async () => {
    // Kept for `npm run schedule -- prod --config <dir>/airflow-gitops.yaml --measured <dir>/measured-day.json`.
    const dir = join(cacheRoot(), "peak-hours");
    mkdirSync(dir, { recursive: true });
    copyFileSync(dayConfig, join(dir, "airflow-gitops.yaml"));
    const steps = timeline.filter((t) => t.step).map((t) => ({ step: t.step!, at: t.at.toISOString(), what: t.what.replace(/ \(.*\)$/, "") }));
    const measured: MeasuredDay = { environment: "prod", source: "test/e2e/peak-hours.test.ts", steps };
    writeFileSync(join(dir, "measured-day.json"), `${JSON.stringify(measured, null, 2)}\n`);
    const result = await runCli(["schedule", "prod", "--config", join(dir, "airflow-gitops.yaml"), "--measured", join(dir, "measured-day.json")]);
    expect(result.code, result.err).toBe(0);
    console.log(result.out.split("\n").slice(-5).join("\n"));
    const lags = [...result.out.matchAll(/ ([+-]\d+) s$/gm)].map((m) => Number(m[1]));
    expect(lags).toHaveLength(3);
    // Each step after its planned minute and within KEDA's polling interval (30 s), the placeholders' cooldown
    // (60 s, for the last step), the HPA's period (15 s) and the test's own polling.
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(0);
    for (const lag of lags) expect(lag).toBeLessThan(150);
  });
});
