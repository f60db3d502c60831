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

afterEach((context) => {
  if (context.task.result?.state === "fail") failed = true;
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
});
