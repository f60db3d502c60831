/**
 * A throwaway Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (RBAC, default admission
 * plugins including PodSecurity, service-account issuer), kube-controller-manager, kube-scheduler and
 * the kwok controller playing a simulated fleet. Every process is stopped by its id.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { RawApi, type KubeObject } from "./api.js";
import { cacheRoot, ensureBinaries, type Binaries } from "./binaries.js";
import { pinnedCrds } from "./crds.js";
import { FLEET_LABEL, fleetFromConfig, fleetNodes, KWOK_NODE_ANNOTATION, type FleetOptions } from "./fleet.js";
import { kwokStagesConfig } from "./kwok-stages.js";
import { FRONT_PROXY_CLIENT, generatePki, kubeconfigText, type Pki } from "./pki.js";
import { assertPortFree, ComponentError, freePort, isRunning, probe, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

export const PORT_NAMES = ["etcd-client", "etcd-peer", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
export type PortName = (typeof PORT_NAMES)[number];

const SERVICE_CIDR = "10.96.0.0/16";
const SERVICE_IP = "10.96.0.1";

export interface ClusterState {
  /** Temporary directory holding certificates, kubeconfigs, etcd data; removed by stop. */
  dir: string;
  /** Component logs; removed on a clean stop, kept (and named) when something failed. */
  logsDir: string;
  /** The admin kubeconfig (client certificate in group system:masters). */
  kubeconfig: string;
  /** The API server's audit log (JSON lines): every service-account token issued, with who asked for it. */
  auditLog?: string;
  server: string;
  ports: Record<PortName, number>;
  components: Component[];
}

export interface StartOptions {
  /** The config whose region and peak-hour node pools shape the fleet; the example by default. */
  config?: string;
  /** Fixed ports instead of free ones (the fault tests use this). */
  ports?: Partial<Record<PortName, number>>;
  binaries?: Binaries;
  readyTimeoutMs?: number;
  fleet?: Partial<Pick<FleetOptions, "onDemandPerZone" | "peakNodesPerPool">>;
  log?: (line: string) => void;
  /** Called with each process as it starts (its pid), before it is known to be ready. */
  onStarted?: (component: Component) => void;
}

type Launch = (name: string, binary: string, args: string[]) => Component;

const EXAMPLE_CONFIG = join(import.meta.dirname, "..", "..", "airflow-gitops.yaml");

export class LocalCluster {
  constructor(readonly state: ClusterState) {}

  get kubeconfigPath(): string {
    return this.state.kubeconfig;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.state.kubeconfig);
    return kc;
  }

  /** Stops every process; removes the temporary dir, and the logs unless `keepLogs` (then returns their path). */
  stop(options: { keepLogs?: boolean } = {}): Promise<string | undefined> {
    return stopCluster(this.state, options);
  }
}

function logsLocation(): string {
  const root = join(cacheRoot(), "cluster-logs");
  mkdirSync(root, { recursive: true });
  // Keep the last few runs' logs only.
  const old = readdirSync(root).sort();
  for (const entry of old.slice(0, Math.max(0, old.length - 9))) rmSync(join(root, entry), { recursive: true, force: true });
  const dir = join(root, `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function stopCluster(state: ClusterState, options: { keepLogs?: boolean } = {}): Promise<string | undefined> {
  for (const component of [...state.components].reverse()) await stopComponent(component);
  rmSync(state.dir, { recursive: true, force: true });
  if (options.keepLogs) return state.logsDir;
  rmSync(state.logsDir, { recursive: true, force: true });
  return undefined;
}

/** Starts the control plane and the fleet; returns once nodes are Ready and the CRDs Established. */
export async function startCluster(options: StartOptions = {}): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const binaries = options.binaries ?? (await ensureBinaries(log));
  const timeout = options.readyTimeoutMs ?? 120_000;
  const fleet = fleetFromConfig(options.config ?? EXAMPLE_CONFIG, options.fleet ?? {});
  // The pid in the name tells one process's clusters from those of a suite process running beside it.
  const dir = mkdtempSync(join(tmpdir(), `airflow-gitops-cluster-${process.pid}-`));
  const logsDir = logsLocation();
  const state: ClusterState = { dir, logsDir, kubeconfig: join(dir, "kubeconfig"), server: "", ports: {} as ClusterState["ports"], components: [] };
  const launch: Launch = (name, binary, args) => {
    const component = startComponent(name, binary, args, logsDir);
    state.components.push(component);
    options.onStarted?.(component);
    return component;
  };
  try {
    for (const name of PORT_NAMES) {
      const fixed = options.ports?.[name];
      const component = name.startsWith("etcd") ? "etcd" : name;
      if (fixed !== undefined) await assertPortFree(component, fixed, join(logsDir, `${component}.log`));
      state.ports[name] = fixed ?? (await freePort());
    }
    const pki = generatePki(dir, SERVICE_IP);
    state.server = `https://127.0.0.1:${state.ports["kube-apiserver"]}`;
    await startEtcd(state, binaries, launch, timeout);
    log("etcd ready");
    await startApiServer(state, binaries, launch, pki, timeout);
    log("kube-apiserver ready");
    await startControllers(state, binaries, launch, pki, timeout);
    log("kube-controller-manager, kube-scheduler and kwok ready");
    const cluster = new LocalCluster(state);
    const api = new RawApi(cluster.kubeConfig());
    await installCrds(api, timeout);
    log("CRDs established");
    await createFleet(api, fleet, timeout, state.components.find((c) => c.name === "kwok")!);
    log("fleet ready");
    return cluster;
  } catch (error) {
    await stopCluster(state, { keepLogs: true });
    if (error instanceof ComponentError) throw error;
    throw new Error(`${(error as Error).message}\n  component logs: ${logsDir}`, { cause: error });
  }
}

async function startEtcd(state: ClusterState, binaries: Binaries, launch: Launch, timeout: number): Promise<void> {
  const client = `http://127.0.0.1:${state.ports["etcd-client"]}`;
  const peer = `http://127.0.0.1:${state.ports["etcd-peer"]}`;
  const etcd = launch(
    "etcd",
    binaries.etcd,
    [
      "--name=default",
      `--data-dir=${join(state.dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // A throwaway store: durability costs time and buys nothing.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
  );
  await waitReady(etcd, `${client}/health`, async () => (await probe(`${client}/health`))?.body.includes('"health":"true"') ?? false, timeout);
}

/** The audit policy: TokenRequests only (metadata: who asked for which ServiceAccount's token), nothing else. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: ["serviceaccounts/token"]
  - level: None
`;

async function startApiServer(state: ClusterState, binaries: Binaries, launch: Launch, pki: Pki, timeout: number): Promise<void> {
  const auditPolicy = join(state.dir, "audit-policy.yaml");
  writeFileSync(auditPolicy, AUDIT_POLICY);
  state.auditLog = join(state.logsDir, "kube-apiserver-audit.log");
  const apiserver = launch(
    "kube-apiserver",
    binaries["kube-apiserver"],
    [
      `--etcd-servers=http://127.0.0.1:${state.ports["etcd-client"]}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      // The `kubernetes` Service cannot point at a loopback address; nothing here needs it to.
      "--endpoint-reconciler-type=none",
      `--secure-port=${state.ports["kube-apiserver"]}`,
      `--cert-dir=${join(state.dir, "apiserver-certs")}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      // API aggregation (KEDA's metrics server registers external.metrics.k8s.io): the aggregator calls an
      // extension server with the front proxy's certificate and names the user in these headers.
      `--requestheader-client-ca-file=${pki.frontProxy.caCert}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${pki.frontProxy.clientCert}`,
      `--proxy-client-key-file=${pki.frontProxy.clientKey}`,
      "--authorization-mode=RBAC",
      // Privileged containers are allowed cluster-wide (as on EKS); Pod Security admission decides per namespace.
      "--allow-privileged=true",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--profiling=false",
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${state.auditLog}`,
      "--audit-log-mode=blocking",
      "--v=1",
    ],
  );
  const admin = pki.clients.admin;
  await waitReady(
    apiserver,
    `${state.server}/readyz`,
    async () => (await probe(`${state.server}/readyz`, { ca: pki.caCert, cert: admin.cert, key: admin.key }))?.status === 200,
    timeout,
  );
  writeFileSync(state.kubeconfig, kubeconfigText(state.server, pki, "admin"));
  writeFileSync(join(state.dir, "kube-controller-manager.kubeconfig"), kubeconfigText(state.server, pki, "kube-controller-manager"));
  writeFileSync(join(state.dir, "kube-scheduler.kubeconfig"), kubeconfigText(state.server, pki, "kube-scheduler"));
}

/** What the controller-manager and the scheduler share: one kubeconfig for everything, serving on loopback, no leader election. */
function controlLoopFlags(kubeconfig: string, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    "--leader-elect=false",
    "--v=1",
  ];
}

async function startControllers(state: ClusterState, binaries: Binaries, launch: Launch, pki: Pki, timeout: number): Promise<void> {
  const kcmConfig = join(state.dir, "kube-controller-manager.kubeconfig");
  const kcm = launch(
    "kube-controller-manager",
    binaries["kube-controller-manager"],
    [
      ...controlLoopFlags(kcmConfig, state.ports["kube-controller-manager"], join(state.dir, "kcm-certs")),
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      "--use-service-account-credentials=true",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ],
  );
  const schedulerConfig = join(state.dir, "kube-scheduler.kubeconfig");
  const scheduler = launch(
    "kube-scheduler",
    binaries["kube-scheduler"],
    controlLoopFlags(schedulerConfig, state.ports["kube-scheduler"], join(state.dir, "scheduler-certs")),
  );
  const stages = join(state.dir, "kwok-stages.yaml");
  writeFileSync(stages, kwokStagesConfig());
  const kwok = launch(
    "kwok",
    binaries.kwok,
    [
      `--kubeconfig=${state.kubeconfig}`,
      `--config=${stages}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      "--node-lease-duration-seconds=40",
      `--server-address=127.0.0.1:${state.ports.kwok}`,
      "--cidr=10.244.0.0/16",
      // A node's kubelet is kwok's server: metrics-server scrapes it at the node's address and port.
      "--node-ip=127.0.0.1",
      `--node-port=${state.ports.kwok}`,
    ],
  );
  const healthy = (url: string) => async () => (await probe(url))?.status === 200;
  await waitReady(kcm, "/healthz", healthy(`https://127.0.0.1:${state.ports["kube-controller-manager"]}/healthz`), timeout);
  await waitReady(scheduler, "/healthz", healthy(`https://127.0.0.1:${state.ports["kube-scheduler"]}/healthz`), timeout);
  await waitReady(kwok, "/healthz", healthy(`http://127.0.0.1:${state.ports.kwok}/healthz`), timeout);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function installCrds(api: RawApi, timeout: number): Promise<void> {
  const crds = pinnedCrds();
  // Created, not server-side applied: on a fresh cluster the result is the same, and field management of
  // CRDs this large (Argo CD's Application) costs seconds each.
  await Promise.all(crds.map((crd) => api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", JSON.stringify(crd))));
  const deadline = Date.now() + timeout;
  for (const crd of crds) {
    for (;;) {
      const current = await api.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(crd as unknown as KubeObject);
      if (current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} was not Established within ${timeout / 1000}s`);
      await sleep(200);
    }
  }
  api.forgetDiscovery();
}

async function createFleet(api: RawApi, fleet: FleetOptions, timeout: number, kwok: Component): Promise<void> {
  const nodes = fleetNodes(fleet);
  for (const node of nodes) {
    const { status, ...spec } = node;
    await api.request("POST", "/api/v1/nodes", JSON.stringify(spec));
    await api.request("PATCH", `/api/v1/nodes/${node.metadata!.name}/status`, JSON.stringify({ status }), "application/merge-patch+json");
  }
  await waitReady(
    kwok,
    `${nodes.length} simulated nodes Ready`,
    async () => {
      const list = await api.request<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>("GET", `/api/v1/nodes?labelSelector=${FLEET_LABEL}%3Dtrue`);
      return list.items.length === nodes.length && list.items.every((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    },
    timeout,
  );
  // kwok's node-initialize stage renders the status from its own cached copy of a new Node: when that copy
  // predates the status patch above, it writes kwok's default capacity (1k CPUs) over the real one. Once a
  // node is Ready the stage no longer matches it, so the capacity set now stays.
  type Sized = { metadata: { name: string }; status?: { allocatable?: Record<string, string> } };
  await waitReady(
    kwok,
    `${nodes.length} simulated nodes with their instance's capacity`,
    async () => {
      const live = (await api.request<{ items: Sized[] }>("GET", `/api/v1/nodes?labelSelector=${FLEET_LABEL}%3Dtrue`)).items;
      let sized = true;
      for (const node of nodes) {
        const current = live.find((n) => n.metadata.name === node.metadata!.name);
        if (current?.status?.allocatable?.cpu === node.status!.allocatable!.cpu) continue;
        sized = false;
        const { capacity, allocatable } = node.status!;
        await api.request("PATCH", `/api/v1/nodes/${node.metadata!.name}/status`, JSON.stringify({ status: { capacity, allocatable } }), "application/merge-patch+json");
      }
      return sized;
    },
    timeout,
  );
}

// ---------------------------------------------------------------------------------------------
// `npm run cluster -- up/down`: the state of a cluster left running lives in a file under the cache.

/** One state file per checkout, so that clusters started from different clones do not meet. */
export function stateFile(): string {
  const checkout = createHash("sha256").update(resolve(import.meta.dirname, "..", "..")).digest("hex").slice(0, 12);
  return process.env.AIRFLOW_GITOPS_CLUSTER_STATE || join(cacheRoot(), "cluster", checkout, "state.json");
}

export function readState(): ClusterState | undefined {
  const file = stateFile();
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterState;
}

export function writeState(state: ClusterState): void {
  mkdirSync(dirname(stateFile()), { recursive: true });
  writeFileSync(stateFile(), JSON.stringify(state, null, 2));
}

export function clearState(): void {
  rmSync(stateFile(), { force: true });
}

export function anyRunning(state: ClusterState): boolean {
  return state.components.some(isRunning);
}

