/**
 * The generated repository as a user runs it: committed to a git server, bootstrapped with
 * `kubectl apply -k argocd/` once, and from then on changed only by commits, synced by the real Argo CD
 * (application-controller, repo-server, Redis) into the local control plane. Every verdict below is Argo
 * CD's own: the Applications' sync, health and operation status and their conditions.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { Watch } from "@kubernetes/client-node";
import { ApiError, ensureBinaries, volumesFor, type KubeObject } from "../cluster/index.js";
import { startArgoCd, type LocalArgoCd } from "../cluster/argocd.js";
import { gitEnv, startGitServer, type GitServer } from "../cluster/git-server.js";
import { serverCertificate } from "../cluster/pki.js";
import { STOOD_IN_KINDS, standInForReadiness } from "../cluster/ready-stand-in.js";
import { exampleText, runCli } from "../helpers.js";
import { tempDir } from "../temp-dirs.js";
import { eventually, kustomize58, useCluster } from "./cluster-workloads.js";

const { cluster, api } = useCluster();

/** argocd-cm `timeout.reconciliation`: how often the controller compares with git without being asked. */
const RECONCILIATION_S = 20;
const CONVERGE_MS = 480_000;

interface ResourceStatus {
  group?: string;
  kind: string;
  namespace?: string;
  name: string;
  status?: string;
  health?: { status: string; message?: string };
  hook?: boolean;
}

interface SyncedResource {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  status: string;
  message?: string;
  hookType?: string;
  hookPhase?: string;
  syncPhase?: string;
}

interface Application extends KubeObject {
  spec: { project: string; source: { repoURL: string; path: string; targetRevision: string }; destination: { namespace: string } };
  status?: {
    sync?: { status: string; revision?: string };
    health?: { status: string; message?: string };
    reconciledAt?: string;
    conditions?: { type: string; message: string }[];
    resources?: ResourceStatus[];
    operationState?: OperationState;
  };
}

interface OperationState {
  phase: string;
  message?: string;
  startedAt: string;
  finishedAt?: string;
  /** `sync.resources` names the only resources synced, as a self-heal sync does with those that drifted. */
  operation?: { sync?: { revision?: string; resources?: { group?: string; kind: string; name: string }[] } };
  syncResult?: { revision: string; resources?: SyncedResource[] };
}

const WAVE = "argocd.argoproj.io/sync-wave";
const HOOK = "argocd.argoproj.io/hook";
const wave = (o: KubeObject) => Number(o.metadata.annotations?.[WAVE] ?? "0");
const group = (o: KubeObject) => (o.apiVersion.includes("/") ? o.apiVersion.split("/")[0]! : "");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let git: GitServer;
let argocd: LocalArgoCd | undefined;
let stopStandIn: (() => Promise<void>) | undefined;
/** The working repository the server serves: the user's clone, where `gen` runs and commits are made. */
let repo: string;
let namespace: string;
/** The Applications `argocd/` defines, and for each environment's the objects its overlay renders. */
let applications: Application[] = [];
const rendered = new Map<string, KubeObject[]>();
let failed = false;
/**
 * Every operation each Application went through, by start time, as last seen: a watch sees each version
 * of the Application, where a poll would miss a sync that another (a self-heal) followed within seconds.
 */
const operations = new Map<string, Map<string, OperationState>>();
const watching: { stop: boolean; controller?: AbortController } = { stop: false };
/** Every finished sync attempt seen, retries included: the Application, its phase, the revision it synced, its messages. */
const attempts: { app: string; phase: string; revision?: string; messages: string[] }[] = [];
let watchEvents = 0;
let watchRestarts = 0;

/** Watches the Applications until stopped, resuming from the last version seen when the stream ends. */
async function recordOperations(): Promise<void> {
  let version: string | undefined;
  const start = async (): Promise<void> => {
    if (watching.stop) return;
    watching.controller = await new Watch(cluster().kubeConfig()).watch(
      "/apis/argoproj.io/v1alpha1/applications",
      { allowWatchBookmarks: true, ...(version ? { resourceVersion: version } : {}) },
      (type, object: Application) => {
        // An ERROR (410 Gone: the version is too old to resume from) ends the stream; start again from now.
        if (type === "ERROR") return void (version = undefined);
        version = object.metadata.resourceVersion as string;
        if (type === "BOOKMARK") return;
        watchEvents++;
        const state = object.status?.operationState;
        if (!state) return;
        if (!operations.has(object.metadata.name)) operations.set(object.metadata.name, new Map());
        operations.get(object.metadata.name)!.set(state.startedAt, state);
        // A retry keeps its operation's start time: each attempt that ended is kept on its own.
        if (state.finishedAt) attempts.push({ app: object.metadata.name, phase: state.phase, revision: state.syncResult?.revision ?? state.operation?.sync?.revision, messages: [state.message ?? "", ...(state.syncResult?.resources ?? []).map((r) => r.message ?? "")].filter(Boolean) });
      },
      (error) => {
        if (watching.stop) return;
        watchRestarts++;
        if (error) process.stderr.write(`[argocd] the Applications' watch ended (${error}); resuming\n`);
        setTimeout(() => void start(), 200);
      },
    );
  };
  await start();
}

const git$ = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: gitEnv(repo), encoding: "utf8" }).trim();

/** Where an Application lives: the root in Argo CD's namespace, the environments' in their own. */
const namespaceOf = (name: string) => applications.find((a) => a.metadata.name === name)!.metadata.namespace!;

async function application(name: string): Promise<Application> {
  return api().request<Application>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${namespaceOf(name)}/applications/${name}`);
}

const environments = () => applications.filter((a) => a.spec.source.path.startsWith("overlays/"));
const rootApp = () => applications.find((a) => !a.spec.source.path.startsWith("overlays/"))!;

/** `gen` for the repository's config after `change`, then a commit; returns the commit. */
async function commitConfig(message: string, change: (config: any) => void): Promise<string> {
  const file = join(repo, "airflow-gitops.yaml");
  const config = parse(readFileSync(file, "utf8"));
  change(config);
  writeFileSync(file, stringify(config));
  const result = await runCli(["gen", "--config", file]);
  if (result.code !== 0) throw new Error(`gen failed: ${result.err}`);
  git$("add", "-A");
  git$("commit", "-q", "-m", message);
  await renderOverlays();
  return git$("rev-parse", "HEAD");
}

async function renderOverlays(): Promise<void> {
  for (const app of environments()) rendered.set(app.metadata.name, await kustomize58(join(repo, app.spec.source.path)));
}

/** What Argo CD says of an Application, in one line, for failure messages. */
function summary(app: Application): string {
  const s = app.status;
  const outOfSync = (s?.resources ?? []).filter((r) => r.status && r.status !== "Synced").map((r) => `${r.kind}/${r.name}:${r.status}`);
  const unhealthy = (s?.resources ?? []).filter((r) => r.health && r.health.status !== "Healthy").map((r) => `${r.kind}/${r.name}:${r.health!.status}(${r.health!.message ?? ""})`);
  return [
    `${app.metadata.name}: sync=${s?.sync?.status} health=${s?.health?.status}`,
    `operation=${s?.operationState?.phase}(${s?.operationState?.message ?? ""})`,
    outOfSync.length ? `outOfSync=[${outOfSync.join(", ")}]` : "",
    unhealthy.length ? `unhealthy=[${unhealthy.join(", ")}]` : "",
    s?.conditions?.length ? `conditions=${JSON.stringify(s.conditions)}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

/** Every Application Synced and Healthy (at `revision` when given) with its last sync Succeeded; else what is not. */
async function notConverged(revision?: string): Promise<string[] | undefined> {
  const problems: string[] = [];
  for (const { metadata } of applications) {
    const app = await application(metadata.name);
    const s = app.status;
    // The root app needs no sync when `kubectl apply -k argocd/` made exactly what git holds: it may have no operation.
    const synced = s?.operationState
      ? s.operationState.phase === "Succeeded" && (!revision || s.operationState.syncResult?.revision === revision || metadata.name === rootApp().metadata.name)
      : metadata.name === rootApp().metadata.name;
    const ok = s?.sync?.status === "Synced" && s.health?.status === "Healthy" && (!revision || s.sync.revision === revision) && synced;
    if (!ok) problems.push(summary(app));
  }
  return problems.length ? problems : undefined;
}

async function live(o: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): Promise<KubeObject | undefined> {
  try {
    return await api().get(o);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Asks for a hard refresh (as `argocd app get --hard-refresh` does) and waits until the controller took it. */
async function hardRefresh(name: string): Promise<void> {
  await api().request(
    "PATCH",
    `/apis/argoproj.io/v1alpha1/namespaces/${namespaceOf(name)}/applications/${name}`,
    JSON.stringify({ metadata: { annotations: { "argocd.argoproj.io/refresh": "hard" } } }),
    "application/merge-patch+json",
  );
  await eventually(`${name} takes the hard refresh`, async () => ((await application(name)).metadata.annotations?.["argocd.argoproj.io/refresh"] ? "pending" : undefined), 120_000);
}

function migrationJob(app: Application): KubeObject {
  const job = rendered.get(app.metadata.name)!.find((o) => o.kind === "Job" && o.metadata.annotations?.[HOOK] && /migrat/.test(o.metadata.name));
  if (!job) throw new Error(`${app.metadata.name}: the overlay has no migration hook Job`);
  return job;
}

/** The Job's pods, by the controller-uid label the Job controller puts on them. */
async function jobPods(job: KubeObject): Promise<KubeObject[]> {
  const uid = job.metadata.uid as string;
  const list = await api().request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${job.metadata.namespace}/pods?labelSelector=${encodeURIComponent(`batch.kubernetes.io/controller-uid=${uid}`)}`);
  return list.items;
}

const uid = (o: KubeObject | undefined) => o?.metadata.uid as string | undefined;

beforeAll(async () => {
  const root = tempDir("airflow-gitops-git-");
  const tls = serverCertificate(cluster().state.dir, "git-server");
  git = await startGitServer({ root, cert: tls.cert, key: tls.key });
  repo = join(root, "airflow-gitops");
  mkdirSync(repo);
  // The user's config, with this repository's URL: the generated Applications are not touched afterwards.
  const config = parse(exampleText());
  config.repository = { ...config.repository, url: git.url("airflow-gitops"), revision: "main" };
  writeFileSync(join(repo, "airflow-gitops.yaml"), stringify(config));
  const result = await runCli(["gen", "--config", join(repo, "airflow-gitops.yaml")]);
  if (result.code !== 0) throw new Error(`gen failed: ${result.err}`);
  git$("init", "-q", "-b", "main");
  git$("add", "-A");
  git$("commit", "-q", "-m", "the generated repository");

  const argocdObjects = await kustomize58(join(repo, "argocd"));
  applications = argocdObjects.filter((o): o is Application => o.kind === "Application");
  namespace = rootApp().metadata.namespace!;
  await renderOverlays();
  // The EFS CSI driver's part: a volume bound to each claim.
  for (const objects of rendered.values()) for (const volume of volumesFor(objects)) await api().apply(volume, { fieldManager: "efs-csi-stand-in" });

  const { kustomize } = await ensureBinaries();
  await recordOperations();
  argocd = await startArgoCd({
    cluster: cluster(),
    api: api(),
    kustomize,
    namespace,
    applicationNamespaces: [...new Set(environments().map((a) => a.metadata.namespace!))],
    tlsCerts: { "127.0.0.1": readFileSync(tls.ca, "utf8") },
    reconciliationSeconds: RECONCILIATION_S,
    log: (line) => process.stderr.write(`[argocd] ${line}\n`),
  });
  // Bootstrapping, exactly as the README says.
  execFileSync("kubectl", ["apply", "-k", "argocd/"], { cwd: repo, env: { ...process.env, KUBECONFIG: cluster().kubeconfigPath }, stdio: "pipe" });
});

/** A commit a test makes to revert it afterwards: reverted here when the test failed before doing so, so the next test starts from the generated tree. */
let reverting: string | undefined;

afterEach(async (context) => {
  if (context.task.result?.state === "fail") failed = true;
  if (reverting && git$("rev-parse", "HEAD") === reverting) {
    git$("revert", "--no-edit", "HEAD");
    await renderOverlays();
  }
  reverting = undefined;
});

afterAll(async () => {
  watching.stop = true;
  watching.controller?.abort();
  await stopStandIn?.();
  await argocd?.stop();
  await git?.stop();
  if (failed) process.stderr.write(`[argocd] a test failed: Argo CD's logs are kept with the cluster's\n`);
});

describe("the real Argo CD syncs the generated repository", () => {
  it("without the External Secrets, KEDA and Karpenter controllers, each environment's sync waits at the first wave holding their resources", async () => {
    const stoodIn = new Set<string>(STOOD_IN_KINDS.map((k) => k.kind));
    for (const app of environments()) {
      const objects = rendered.get(app.metadata.name)!;
      const gate = Math.min(...objects.filter((o) => stoodIn.has(o.kind)).map(wave));
      const waiting = objects.filter((o) => stoodIn.has(o.kind) && wave(o) === gate);
      const names = waiting.map((o) => `${group(o)}/${o.kind}/${o.metadata.name}`);
      let last: Application | undefined;
      await eventually(
        `${app.metadata.name} waits for the health of ${names.join(" or ")}`,
        async () => {
          last = await application(app.metadata.name);
          const message = last.status?.operationState?.message ?? "";
          return last.status?.operationState?.phase === "Running" && names.some((n) => message === `waiting for healthy state of ${n}` || message.startsWith(`waiting for healthy state of ${n} and `)) ? undefined : summary(last);
        },
        CONVERGE_MS,
      );
      // Argo CD's built-in health of those kinds, with no controller to report on them.
      const health = last!.status!.resources!.filter((r) => waiting.some((o) => o.kind === r.kind && o.metadata.name === r.name)).map((r) => r.health);
      expect(health.length).toBeGreaterThan(0);
      for (const h of health) expect(h?.status).toBe("Progressing");
      // The gate holds: nothing of a later wave exists yet.
      for (const o of objects.filter((x) => wave(x) > gate && !x.metadata.annotations?.[HOOK])) expect(await live(o), `${o.kind}/${o.metadata.name}`).toBeUndefined();
      process.stderr.write(`[argocd] ${app.metadata.name}: "${last!.status!.operationState!.message}"; health: ${JSON.stringify(health)}\n`);
    }
  });

  it("with Ready reported, every Application and the root app are Synced and Healthy, the waves applied in order", async () => {
    stopStandIn = standInForReadiness(api());
    await eventually("every Application Synced and Healthy", () => notConverged(git$("rev-parse", "HEAD")), CONVERGE_MS);
    for (const app of environments()) {
      const objects = rendered.get(app.metadata.name)!.filter((o) => o.kind !== "Namespace");
      const created = new Map<number, number[]>();
      for (const o of objects) {
        const object = await live(o);
        expect(object, `${o.kind}/${o.metadata.name} exists`).toBeDefined();
        const at = Date.parse(object!.metadata.creationTimestamp as string);
        created.set(wave(o), [...(created.get(wave(o)) ?? []), at]);
      }
      const waves = [...created.keys()].sort((a, b) => a - b);
      const order = waves.map((w) => `wave ${w}: ${new Date(Math.min(...created.get(w)!)).toISOString()}..${new Date(Math.max(...created.get(w)!)).toISOString()}`);
      process.stderr.write(`[argocd] ${app.metadata.name} creation times by wave:\n  ${order.join("\n  ")}\n`);
      // Argo CD waits for a wave's health, then 2 s more, before the next: no overlap even at 1 s resolution.
      for (let i = 1; i < waves.length; i++) expect(Math.min(...created.get(waves[i]!)!), order.join("; ")).toBeGreaterThan(Math.max(...created.get(waves[i - 1]!)!));
      // The stand-in's condition is what made them Healthy, and Argo CD read it.
      const standing = (await application(app.metadata.name)).status!.resources!.filter((r) => STOOD_IN_KINDS.some((k) => k.kind === r.kind));
      expect(standing.length).toBeGreaterThan(0);
      for (const r of standing) {
        expect(r.health?.status, `${r.kind}/${r.name}`).toBe("Healthy");
        if (r.kind !== "Ingress") expect(r.health?.message, `${r.kind}/${r.name}`).toContain("marked Ready");
      }
    }
  });

  const jobUids = new Map<string, string>();

  it("the migration Job ran as a Sync hook, once, and succeeded", async () => {
    const revision = git$("rev-parse", "HEAD");
    for (const app of environments()) {
      const job = migrationJob(app);
      const finished = [...(operations.get(app.metadata.name)?.values() ?? [])].filter((o) => o.phase === "Succeeded" && o.syncResult?.revision === revision);
      // A full sync runs the hooks; a self-heal sync applies only what drifted, and runs none.
      const full = finished.filter((o) => !o.operation?.sync?.resources?.length);
      const partial = finished.filter((o) => o.operation?.sync?.resources?.length);
      for (const o of partial) process.stderr.write(`[argocd] ${app.metadata.name}: a self-heal sync at ${o.startedAt} of ${o.operation!.sync!.resources!.map((r) => `${r.kind}/${r.name}`).join(", ")}\n`);
      const seen = [...(operations.get(app.metadata.name)?.values() ?? [])].map((o) => `${o.startedAt} ${o.phase} ${o.syncResult?.revision ?? "-"} ${o.operation?.sync?.resources?.length ?? 0}`);
      expect(full, `${app.metadata.name}: one full sync of ${revision}; seen: ${seen.join("; ")} (${watchEvents} events, ${watchRestarts} restarts)`).toHaveLength(1);
      const result = full[0]!.syncResult!.resources!.filter((r) => r.kind === "Job" && r.name === job.metadata.name);
      expect(result).toEqual([expect.objectContaining({ hookType: "Sync", hookPhase: "Succeeded", syncPhase: "Sync" })]);
      for (const o of partial) expect(o.syncResult?.resources?.filter((r) => r.kind === "Job" && r.name === job.metadata.name) ?? []).toEqual([]);
      const current = await live(job);
      expect((current as any).status.succeeded).toBe(1);
      expect(await jobPods(current!)).toHaveLength(1);
      jobUids.set(app.metadata.name, uid(current)!);
    }
  });

  it(`no drift: after a hard refresh every Application stays Synced, with no new sync, for two reconciliation periods (${RECONCILIATION_S} s)`, async () => {
    const before = new Map<string, string | undefined>();
    for (const { metadata } of applications) {
      before.set(metadata.name, (await application(metadata.name)).status?.operationState?.startedAt);
      await hardRefresh(metadata.name);
    }
    const reconciled = new Map<string, Set<string>>(applications.map((a) => [a.metadata.name, new Set()]));
    const deadline = Date.now() + (2 * RECONCILIATION_S + 10) * 1000;
    while (Date.now() < deadline) {
      for (const { metadata } of applications) {
        const app = await application(metadata.name);
        expect(app.status?.sync?.status, summary(app)).toBe("Synced");
        expect(app.status?.operationState?.startedAt, `${metadata.name} started no sync`).toBe(before.get(metadata.name));
        reconciled.get(metadata.name)!.add(app.status!.reconciledAt!);
      }
      await sleep(2000);
    }
    // The controller compared at least twice more in that time (each comparison stamps reconciledAt).
    for (const [name, times] of reconciled) expect(times.size, name).toBeGreaterThanOrEqual(2);
    for (const app of environments()) expect(uid(await live(migrationJob(app)))).toBe(jobUids.get(app.metadata.name));
  });

  it("a commit changing an airflow.cfg option is synced without a hand: the ConfigMap changes, the pods roll, the migration runs once more", async () => {
    const scheduler = (name: string) => rendered.get(name)!.find((o) => o.kind === "Deployment" && /scheduler$/.test(o.metadata.name))!;
    const checksum = (o: KubeObject) => (o as any).spec.template.metadata.annotations?.["checksum/airflow-config"] as string | undefined;
    const oldChecksums = new Map(environments().map((a) => [a.metadata.name, checksum(scheduler(a.metadata.name))]));
    const revision = await commitConfig("max_active_tasks_per_dag 24", (c) => (c.airflow.config.core.max_active_tasks_per_dag = 24));
    await eventually(`every Application synced to ${revision}`, () => notConverged(revision), CONVERGE_MS);
    for (const app of environments()) {
      const objects = rendered.get(app.metadata.name)!;
      const config = objects.find((o) => o.kind === "ConfigMap" && (o as any).data?.["airflow.cfg"])!;
      expect((config as any).data["airflow.cfg"]).toMatch(/max_active_tasks_per_dag = 24/);
      expect((await live(config) as any).data).toEqual((config as any).data);
      const deployment = scheduler(app.metadata.name);
      expect(checksum(deployment)).not.toBe(oldChecksums.get(app.metadata.name));
      const selector = Object.entries((deployment as any).spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(",");
      await eventually(`${deployment.metadata.name} rolled to the new config`, async () => {
        const pods = (await api().request<{ items: any[] }>("GET", `/api/v1/namespaces/${deployment.metadata.namespace}/pods?labelSelector=${encodeURIComponent(selector)}`)).items.filter((p) => !p.metadata.deletionTimestamp);
        const rolled = pods.filter((p) => p.metadata.annotations?.["checksum/airflow-config"] === checksum(deployment) && p.status?.phase === "Running");
        return rolled.length === pods.length && pods.length === ((deployment as any).spec.replicas ?? 1) ? undefined : pods.map((p) => `${p.metadata.name}:${p.status?.phase}:${p.metadata.annotations?.["checksum/airflow-config"]?.slice(0, 8)}`);
      }, 180_000);
      const job = await live(migrationJob(app));
      expect(uid(job), "the hook Job was created again for this sync").not.toBe(jobUids.get(app.metadata.name));
      expect(await jobPods(job!)).toHaveLength(1);
      jobUids.set(app.metadata.name, uid(job)!);
    }
  });

  it("a commit changing the image tag and a peak window is synced without a hand: the Airflow pods roll to the new image, the migration runs with it, the cron triggers follow the window", async () => {
    const tag = "3.3.2-acme.1";
    const revision = await commitConfig(`Airflow image ${tag}; the morning rush from 06:30`, (c) => {
      c.airflow.image.tag = tag;
      for (const e of Object.values<any>(c.environments)) for (const w of e.peakHours?.windows ?? []) if (w.start === "07:00") w.start = "06:30";
    });
    await eventually(`every Application synced to ${revision}`, () => notConverged(revision), CONVERGE_MS);
    const image = `${parse(readFileSync(join(repo, "airflow-gitops.yaml"), "utf8")).airflow.image.repository}:${tag}`;
    const starts: string[] = [];
    for (const app of environments()) {
      const objects = rendered.get(app.metadata.name)!;
      const airflow = objects.filter((o) => o.kind === "Deployment" && (o as any).spec.template.spec.containers.some((c: any) => c.image === image));
      expect(airflow.length, `${app.metadata.name}: Deployments running ${image}`).toBeGreaterThanOrEqual(4);
      for (const deployment of airflow) {
        const selector = Object.entries((deployment as any).spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(",");
        await eventually(`${deployment.metadata.name} rolled to ${image}`, async () => {
          const pods = (await api().request<{ items: any[] }>("GET", `/api/v1/namespaces/${deployment.metadata.namespace}/pods?labelSelector=${encodeURIComponent(selector)}`)).items.filter((p) => !p.metadata.deletionTimestamp);
          const old = pods.filter((p) => p.spec.containers.some((c: any) => c.image.startsWith("apache/airflow:") && c.image !== image) || p.status?.phase !== "Running");
          return old.length === 0 && pods.length > 0 ? undefined : old.map((p) => `${p.metadata.name}:${p.status?.phase}`);
        }, 180_000);
      }
      const job = await live(migrationJob(app));
      expect((job as any).spec.template.spec.containers[0].image).toBe(image);
      expect((job as any).status.succeeded).toBe(1);
      for (const so of objects.filter((o) => o.kind === "ScaledObject")) {
        const cron = ((await live(so)) as any).spec.triggers.filter((t: any) => t.type === "cron");
        expect(cron.map((t: any) => t.metadata.start), `${so.metadata.name}'s cron triggers`).toEqual((so as any).spec.triggers.filter((t: any) => t.type === "cron").map((t: any) => t.metadata.start));
        starts.push(...cron.map((t: any) => t.metadata.start));
      }
    }
    expect(starts).toContain("30 6 * * 1-5");
    expect(starts).not.toContain("0 7 * * 1-5");
  });

  it("self-heal: an object deleted by hand comes back, one changed by hand is restored", async () => {
    for (const app of environments()) {
      const objects = rendered.get(app.metadata.name)!;
      const deleted = objects.find((o) => o.kind === "ConfigMap" && /statsd/.test(o.metadata.name))!;
      const changed = objects.find((o) => o.kind === "ConfigMap" && (o as any).data?.["airflow.cfg"])!;
      const oldUid = uid(await live(deleted));
      await api().delete(deleted);
      await api().request("PATCH", await api().path(changed), JSON.stringify({ data: { "airflow.cfg": "[core]\nparallelism = 1\n" } }), "application/merge-patch+json");
      await eventually(`${app.metadata.name}: ${deleted.metadata.name} re-created and ${changed.metadata.name} restored`, async () => {
        const back = await live(deleted);
        const restored = await live(changed);
        const ok = back && uid(back) !== oldUid && (restored as any)?.data?.["airflow.cfg"] === (changed as any).data["airflow.cfg"];
        return ok ? undefined : summary(await application(app.metadata.name));
      }, CONVERGE_MS);
    }
    await eventually("every Application Synced and Healthy", () => notConverged(), CONVERGE_MS);
  });

  it("prune: an object the config no longer makes disappears; the data volumes' claims stay", async () => {
    const claims = new Map<string, string | undefined>();
    for (const objects of rendered.values()) for (const o of objects.filter((x) => x.kind === "PersistentVolumeClaim")) claims.set(`${o.metadata.namespace}/${o.metadata.name}`, uid(await live(o)));
    const before = new Map([...rendered].map(([name, objects]) => [name, objects]));
    const revision = await commitConfig("a public DAG repository", (c) => {
      c.dags.gitSync.repository = "https://github.com/acme/public-dags.git";
      c.dags.gitSync.auth = "none";
      delete c.secrets.parameters.git;
    });
    await eventually(`every Application synced to ${revision}`, () => notConverged(revision), CONVERGE_MS);
    for (const app of environments()) {
      const now = new Set(rendered.get(app.metadata.name)!.map((o) => `${o.kind}/${o.metadata.name}`));
      const removed = before.get(app.metadata.name)!.filter((o) => !now.has(`${o.kind}/${o.metadata.name}`));
      expect(removed.map((o) => `${o.kind}/${o.metadata.name}`)).toContain("ExternalSecret/airflow-git-credentials");
      for (const o of removed) expect(await live(o), `${o.kind}/${o.metadata.name} pruned`).toBeUndefined();
    }
    for (const objects of rendered.values()) for (const o of objects.filter((x) => x.kind === "PersistentVolumeClaim")) expect(uid(await live(o))).toBe(claims.get(`${o.metadata.namespace}/${o.metadata.name}`));
  });

  it("a broken commit (an overlay that does not build): what runs stays, the condition names the error; the next commit recovers", async () => {
    const app = environments()[0]!;
    const uids = new Map<string, string | undefined>();
    for (const o of rendered.get(app.metadata.name)!) uids.set(`${o.kind}/${o.metadata.name}`, uid(await live(o)));
    const file = join(repo, app.spec.source.path, "kustomization.yaml");
    const good = readFileSync(file, "utf8");
    const kustomization = parse(good);
    kustomization.resources = [...(kustomization.resources ?? []), "missing-by-mistake.yaml"];
    writeFileSync(file, stringify(kustomization));
    git$("commit", "-q", "-am", "a kustomization naming a file that does not exist");
    // Without a refresh the controller reports a failed comparison only after its grace period (3 min).
    await hardRefresh(app.metadata.name);
    let message = "";
    await eventually(`${app.metadata.name} shows the build error`, async () => {
      const current = await application(app.metadata.name);
      message = current.status?.conditions?.find((c) => c.type === "ComparisonError")?.message ?? "";
      return message.includes("missing-by-mistake.yaml") ? undefined : summary(current);
    }, 180_000);
    process.stderr.write(`[argocd] ${app.metadata.name} ComparisonError: ${message}\n`);
    for (const o of rendered.get(app.metadata.name)!) expect(uid(await live(o)), `${o.kind}/${o.metadata.name}`).toBe(uids.get(`${o.kind}/${o.metadata.name}`));
    writeFileSync(file, good);
    git$("commit", "-q", "-am", "the kustomization fixed");
    const revision = git$("rev-parse", "HEAD");
    await eventually(`every Application at ${revision} without a ComparisonError`, async () => {
      const problems = (await notConverged()) ?? [];
      for (const { metadata } of applications) {
        const current = await application(metadata.name);
        if (current.status?.sync?.revision !== revision || current.status?.conditions?.some((c) => c.type === "ComparisonError")) problems.push(summary(current));
      }
      return problems.length ? problems : undefined;
    }, CONVERGE_MS);
  });

  it("the application-controller killed in the middle of a sync and started again finishes it", async () => {
    const app = environments()[0]!;
    const revision = await commitConfig("max_active_tasks_per_dag 20", (c) => (c.airflow.config.core.max_active_tasks_per_dag = 20));
    await eventually(`${app.metadata.name} syncing ${revision}`, async () => {
      const current = await application(app.metadata.name);
      const operation = current.status?.operationState as { phase: string; operation?: { sync?: { revision?: string } } } | undefined;
      return operation?.phase === "Running" && operation.operation?.sync?.revision === revision ? undefined : summary(current);
    }, CONVERGE_MS);
    const killed = argocd!.controller.pid;
    await argocd!.killAndRestartController();
    expect(argocd!.controller.pid).not.toBe(killed);
    await eventually(`every Application synced to ${revision}`, () => notConverged(revision), CONVERGE_MS);
  });

  it("faults: with the git server stopped the Applications show a ComparisonError and nothing in the cluster is deleted; once it is back they recover", async () => {
    const uids = new Map<string, string | undefined>();
    for (const objects of rendered.values()) for (const o of objects) uids.set(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, uid(await live(o)));
    await git.stop();
    try {
      for (const app of environments()) {
        await hardRefresh(app.metadata.name);
        let message = "";
        await eventually(`${app.metadata.name} shows a ComparisonError`, async () => {
          const current = await application(app.metadata.name);
          message = current.status?.conditions?.find((c) => c.type === "ComparisonError")?.message ?? "";
          return message ? undefined : summary(current);
        }, 180_000);
        process.stderr.write(`[argocd] ${app.metadata.name} ComparisonError: ${message}\n`);
        expect(message).toContain("127.0.0.1");
      }
      // Two more reconciliation periods without git: nothing was deleted or replaced.
      await sleep(2 * RECONCILIATION_S * 1000);
      for (const objects of rendered.values()) for (const o of objects) expect(uid(await live(o)), `${o.kind}/${o.metadata.name}`).toBe(uids.get(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`));
    } finally {
      await git.start();
    }
    for (const { metadata } of applications) await hardRefresh(metadata.name);
    await eventually("no ComparisonError, every Application Synced and Healthy", async () => {
      const problems = (await notConverged()) ?? [];
      for (const { metadata } of applications) {
        const app = await application(metadata.name);
        if (app.status?.conditions?.some((c) => c.type === "ComparisonError")) problems.push(summary(app));
      }
      return problems.length ? problems : undefined;
    }, CONVERGE_MS);
  });

  it("two environments in one cluster: each cluster-scoped object is tracked by one Application, and no two environments make the same one", async () => {
    const owners = new Map<string, string>();
    for (const app of environments()) {
      const instance = `${app.metadata.namespace}_${app.metadata.name}`;
      const clusterScoped = rendered.get(app.metadata.name)!.filter((o) => !o.metadata.namespace);
      expect(clusterScoped.map((o) => o.kind)).toEqual(expect.arrayContaining(["Namespace", "PriorityClass", "StorageClass", "ValidatingAdmissionPolicy"]));
      for (const o of clusterScoped) {
        const key = `${group(o)}/${o.kind}/${o.metadata.name}`;
        expect(owners.get(key), `${key} is made by ${owners.get(key)} and ${app.metadata.name}`).toBeUndefined();
        owners.set(key, app.metadata.name);
        // Argo CD's tracking id: <application>:<group>/<kind>:<namespace>/<name>, written when it applied the object.
        const [owner, groupKind, namespaced] = ((await live(o))?.metadata.annotations?.["argocd.argoproj.io/tracking-id"] ?? "").split(":");
        expect([owner, groupKind, namespaced?.split("/").pop()], key).toEqual([instance, `${group(o)}/${o.kind}`, o.metadata.name]);
      }
    }
    process.stderr.write(`[argocd] cluster-scoped objects and their one owner: ${[...owners].map(([k, v]) => `${k}=${v}`).join(", ")}\n`);
  });

  /** A commit adding `objects` as `file` to the kustomization of `dir` (and any other files given); returns it. */
  function commitObjects(message: string, changes: { dir: string; file: string; objects: object[]; listed?: boolean }[]): string {
    for (const { dir, file, objects, listed = true } of changes) {
      mkdirSync(join(repo, dir), { recursive: true });
      writeFileSync(join(repo, dir, file), objects.map((o) => stringify(o)).join("---\n"));
      if (!listed) continue;
      const kustomization = join(repo, dir, "kustomization.yaml");
      const k = parse(readFileSync(kustomization, "utf8"));
      k.resources = [...(k.resources ?? []), file];
      writeFileSync(kustomization, stringify(k));
    }
    git$("add", "-A");
    git$("commit", "-q", "-m", message);
    return (reverting = git$("rev-parse", "HEAD"));
  }

  /** Some sync attempt of `app` at `revision` failed with a message matching `pattern`. */
  async function refused(app: string, revision: string, pattern: RegExp): Promise<string> {
    let found = "";
    await eventually(`${app} refuses ${revision.slice(0, 8)} with ${pattern}`, async () => {
      const attempt = attempts.find((a) => a.app === app && a.revision === revision && a.phase !== "Succeeded" && a.messages.some((m) => pattern.test(m)));
      if (attempt) return void (found = attempt.messages.find((m) => pattern.test(m))!);
      const seen = attempts.filter((a) => a.app === app).slice(-3).map((a) => `${a.phase}@${a.revision?.slice(0, 8)}: ${a.messages.join(" | ")}`);
      return seen.length ? seen : summary(await application(app));
    }, 240_000);
    return found;
  }

  /** Every Application Synced and Healthy at `revision`, its last operation (if any) Succeeded. */
  async function settledAt(revision: string): Promise<void> {
    for (const { metadata } of applications) await hardRefresh(metadata.name);
    await eventually(`every Application settled at ${revision.slice(0, 8)}`, async () => {
      const problems = (await notConverged()) ?? [];
      for (const { metadata } of applications) {
        const app = await application(metadata.name);
        if (app.status?.sync?.revision !== revision) problems.push(summary(app));
      }
      return problems.length ? problems : undefined;
    }, CONVERGE_MS);
  }

  const revert = () => {
    git$("revert", "--no-edit", "HEAD");
    reverting = undefined;
    return git$("rev-parse", "HEAD");
  };

  const escalating = (namespace?: string) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "escalate", ...(namespace ? { namespace } : {}) },
    spec: {
      selector: { matchLabels: { app: "escalate" } },
      template: { metadata: { labels: { app: "escalate" } }, spec: { serviceAccountName: "argocd-application-controller", containers: [{ name: "c", image: "busybox" }] } },
    },
  });

  it("a hostile commit is refused on its own revision: a Deployment into Argo CD's namespace (as its controller) by the root, a ClusterRoleBinding by the environment's project; nothing is created, the revert is synced", async () => {
    const root = rootApp().metadata.name;
    const dev = environments()[0]!;
    const scheduler = rendered.get(dev.metadata.name)!.find((o) => o.kind === "ServiceAccount" && /scheduler$/.test(o.metadata.name))!;
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "scheduler-is-cluster-admin" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: scheduler.metadata.name, namespace: scheduler.metadata.namespace }],
    };
    const hostile = commitObjects("hostile: a Deployment in argocd, a ClusterRoleBinding", [
      { dir: "argocd/apps", file: "escalate.yaml", objects: [escalating(namespace)] },
      { dir: dev.spec.source.path, file: "cluster-admin.yaml", objects: [binding] },
    ]);
    const byRoot = await refused(root, hostile, /resource apps:Deployment is not permitted in project/);
    const byProject = await refused(dev.metadata.name, hostile, /resource rbac\.authorization\.k8s\.io:ClusterRoleBinding is not permitted in project/);
    process.stderr.write(`[argocd] ${root}: "${byRoot}"; ${dev.metadata.name}: "${byProject}"\n`);
    expect(byRoot).toContain(`project ${rootApp().spec.project}`);
    expect(byProject).toContain(`project ${dev.spec.project}`);
    expect(await live({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "escalate", namespace } })).toBeUndefined();
    expect(await live(binding as KubeObject)).toBeUndefined();
    await settledAt(revert());
  });

  it("a hostile commit widening the environments' project is refused by the root; the project stays as the administrator applied it", async () => {
    const project = await api().request<KubeObject>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/appprojects/${environments()[0]!.spec.project}`);
    const widened = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: project.metadata.name, namespace },
      spec: { sourceRepos: ["*"], sourceNamespaces: ["*"], destinations: [{ server: "*", namespace: "*" }], clusterResourceWhitelist: [{ group: "*", kind: "*" }] },
    };
    const hostile = commitObjects("hostile: a project allowing everything", [{ dir: "argocd/apps", file: "widened.yaml", objects: [widened] }]);
    const message = await refused(rootApp().metadata.name, hostile, /resource argoproj\.io:AppProject is not permitted in project/);
    process.stderr.write(`[argocd] ${rootApp().metadata.name}: "${message}"\n`);
    const after = await api().request<KubeObject>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/appprojects/${project.metadata.name}`);
    expect(after.spec).toEqual(project.spec);
    expect(after.metadata.generation).toBe(project.metadata.generation);
    await settledAt(revert());
  });

  it("a hostile commit of Applications into the Argo CD namespace, one in the unrestricted default project, one in the environments' project: both are refused by the controller and deploy nothing", async () => {
    const appsNamespace = environments()[0]!.metadata.namespace!;
    const hostileApp = (name: string, project: string) => ({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: { name, namespace: appsNamespace },
      spec: {
        project,
        source: { repoURL: rootApp().spec.source.repoURL, targetRevision: "main", path: "hostile" },
        destination: { server: "https://kubernetes.default.svc", namespace },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    });
    const hostile = commitObjects("hostile: Applications deploying into argocd", [
      { dir: "hostile", file: "kustomization.yaml", objects: [{ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["escalate.yaml"] }], listed: false },
      { dir: "hostile", file: "escalate.yaml", objects: [escalating()], listed: false },
      { dir: "argocd/apps", file: "hostile-applications.yaml", objects: [hostileApp("hostile-default", "default"), hostileApp("hostile-airflow", environments()[0]!.spec.project)] },
    ]);
    // The root may write Applications into their namespace: that sync succeeds; the controller judges each Application.
    await eventually(`the root synced ${hostile.slice(0, 8)}`, async () => (attempts.some((a) => a.app === rootApp().metadata.name && a.revision === hostile && a.phase === "Succeeded") ? undefined : summary(await application(rootApp().metadata.name))), 240_000);
    const expected: [string, RegExp][] = [
      ["hostile-default", new RegExp(`application 'hostile-default' in namespace '${appsNamespace}' is not permitted to use project 'default'`)],
      ["hostile-airflow", new RegExp(`namespace '${namespace}' do not match any of the allowed destinations in project '${environments()[0]!.spec.project}'`)],
    ];
    for (const [name, pattern] of expected) {
      let message = "";
      await eventually(`${name} is refused`, async () => {
        const app = await api().request<Application>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${appsNamespace}/applications/${name}`);
        message = app.status?.conditions?.find((c) => pattern.test(c.message))?.message ?? "";
        return message ? undefined : JSON.stringify(app.status ?? {});
      }, 120_000);
      process.stderr.write(`[argocd] ${name}: "${message}"\n`);
    }
    // Two more reconciliation periods: neither was synced, nothing reached the Argo CD namespace.
    await sleep(2 * RECONCILIATION_S * 1000);
    for (const [name] of expected) {
      const app = await api().request<Application>("GET", `/apis/argoproj.io/v1alpha1/namespaces/${appsNamespace}/applications/${name}`);
      expect(app.status?.operationState, name).toBeUndefined();
    }
    expect(await live(escalating(namespace) as KubeObject)).toBeUndefined();
    await settledAt(revert());
    for (const [name] of expected) expect(await live({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name, namespace: appsNamespace } }), `${name} pruned`).toBeUndefined();
  });

  it("a migration that cannot finish fails the sync with the Job controller's reason, and nothing after the hook is applied; the revert is synced", async () => {
    const app = environments()[0]!;
    const environment = app.spec.source.path.split("/").pop()!;
    const podsOf = async () => {
      const list = await api().request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${app.spec.destination.namespace}/pods`);
      return new Map(list.items.filter((p) => (p.metadata as any).ownerReferences?.some((o: { kind: string }) => o.kind === "ReplicaSet")).map((p) => [p.metadata.name, uid(p)]));
    };
    const running = await podsOf();
    expect(running.size).toBeGreaterThan(0);
    const revision = await commitConfig("a migration Job no node takes, with a 60 s deadline", (c) => {
      const e = c.environments[environment];
      e.pods = { ...e.pods, jobs: { ...e.pods?.jobs, nodeSelector: { "airflow-gitops.test/no-such-node": "true" } } };
      e.components = { ...e.components, migrations: { ...e.components?.migrations, activeDeadlineSeconds: 60 } };
    });
    reverting = revision;
    const started = Date.now();
    const message = await refused(app.metadata.name, revision, /Job was active longer than specified deadline/);
    process.stderr.write(`[argocd] ${app.metadata.name} after ${Math.round((Date.now() - started) / 1000)} s: "${message}"\n`);
    const job = await live(migrationJob(app));
    expect((job as any)?.status?.conditions ?? []).toEqual(expect.arrayContaining([expect.objectContaining({ type: "Failed", reason: "DeadlineExceeded" })]));
    // The running workloads are untouched: the same pods, none replaced.
    expect(await podsOf()).toEqual(running);
    const back = revert();
    await renderOverlays();
    await settledAt(back);
    expect((await live(migrationJob(app)) as any).status.succeeded).toBe(1);
  });

  it("an environment removed from the config: its Application and objects are deleted, its namespace and data claims stay; the other environment in the cluster is untouched", async () => {
    const [gone, kept] = [environments()[0]!, environments()[1]!];
    const keptUids = new Map<string, string | undefined>();
    for (const o of rendered.get(kept.metadata.name)!) keptUids.set(`${o.kind}/${o.metadata.name}`, uid(await live(o)));
    const goneObjects = rendered.get(gone.metadata.name)!;
    const stays = (o: KubeObject) => o.kind === "Namespace" || o.kind === "PersistentVolumeClaim";
    const stayingUids = new Map(await Promise.all(goneObjects.filter(stays).map(async (o) => [`${o.kind}/${o.metadata.name}`, uid(await live(o))] as const)));
    const environment = gone.spec.source.path.split("/").pop()!;
    applications = applications.filter((a) => a.metadata.name !== gone.metadata.name);
    const revision = await commitConfig(`remove the ${environment} environment`, (c) => {
      delete c.environments[environment];
      delete c.argocd.environments?.[environment];
    });
    await eventually(`${gone.metadata.name} and what it deployed deleted`, async () => {
      const left = [];
      if (await live(gone)) left.push(`Application/${gone.metadata.name}`);
      for (const o of goneObjects.filter((x) => !stays(x))) if (await live(o)) left.push(`${o.kind}/${o.metadata.name}`);
      return left.length ? left : undefined;
    }, CONVERGE_MS);
    for (const o of goneObjects.filter(stays)) expect(uid(await live(o)), `${o.kind}/${o.metadata.name} stays`).toBe(stayingUids.get(`${o.kind}/${o.metadata.name}`));
    await settledAt(revision);
    for (const o of rendered.get(kept.metadata.name)!) expect(uid(await live(o)), `${kept.metadata.name}: ${o.kind}/${o.metadata.name}`).toBe(keptUids.get(`${o.kind}/${o.metadata.name}`));
  });
});
