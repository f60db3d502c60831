/**
 * The real Argo CD beside the local control plane: its application-controller and repo-server, built from
 * the pinned Go module (`argocd-pin.ts`) into the binary cache, and a Redis server from the machine's
 * packages. The controller runs out of cluster under its own ServiceAccount, with the RBAC, the
 * ConfigMaps and the Secret of the module's own `manifests/`; the Application destination
 * `https://kubernetes.default.svc` means the local API server (`ARGOCD_FAKE_IN_CLUSTER`, upstream's recipe
 * for running Argo CD locally). No UI, API server, Dex, ApplicationSet controller or notifications run.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject, RawApi } from "./api.js";
import { ARGOCD } from "./argocd-pin.js";
import type { LocalCluster } from "./cluster.js";
import { moduleDir } from "./crds.js";
import { ensureSourceBuild, type SourceBuild } from "./module-build.js";
import { freePort, isRunning, probe, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

function ldflags(): string {
  const common = `${ARGOCD.module}/common`;
  const version = ARGOCD.version.replace(/^v/, "");
  return ["-s", "-w", "-X", `${common}.version=${version}`, "-X", `${common}.gitTag=${ARGOCD.version}`, "-X", `${common}.gitTreeState=clean`].join(" ");
}

/**
 * One multi-call binary (`ARGOCD_BINARY_NAME` selects the program) from `./cmd`, with the Go toolchain Argo CD
 * asks for; the gitops-engine replace points into Argo CD's repository, outside the module zip, so it is dropped
 * and the same release comes from the Go proxy.
 */
const BUILD: SourceBuild = {
  name: "argocd",
  module: ARGOCD.module,
  version: ARGOCD.version,
  toolchain: ARGOCD.toolchain,
  packages: ["./cmd"],
  rename: { cmd: "argocd" },
  ldflags: ldflags(),
  edits: [`-dropreplace=${ARGOCD.gitopsEngine}`],
  // The key of the recipe as it was first written, so the cached binary stays valid.
  key: { ...ARGOCD, flags: ["-p", "2", "-trimpath"], goflags: "-mod=mod -buildvcs=false", ldflags: ldflags() },
};

/** The Argo CD multi-call binary, building it when missing. */
export async function ensureArgoCd(log: (line: string) => void = () => {}): Promise<string> {
  return join(await ensureSourceBuild(BUILD, log), "argocd");
}

/** The objects of the module's `manifests/` files, put in `namespace` (as `kustomize edit set namespace` does). */
function manifests(namespace: string, files: readonly string[]): KubeObject[] {
  const dir = moduleDir(ARGOCD.module, ARGOCD.version, ARGOCD.toolchain);
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, "manifests", file), "utf8"))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null)
      .map((o) => {
        const cluster = o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding";
        const subjects = (o.subjects as { kind: string; namespace?: string }[] | undefined)?.map((s) => (s.kind === "ServiceAccount" ? { ...s, namespace } : s));
        return { ...o, metadata: { ...o.metadata, ...(cluster ? {} : { namespace }) }, ...(subjects ? { subjects } : {}) };
      }),
  );
}

/** The settings and the application-controller's RBAC of a cluster install (`manifests/cluster-install`). */
const INSTALL_FILES = [
  "base/config/argocd-cm.yaml",
  "base/config/argocd-cmd-params-cm.yaml",
  "base/config/argocd-secret.yaml",
  "base/config/argocd-rbac-cm.yaml",
  "base/config/argocd-ssh-known-hosts-cm.yaml",
  "base/config/argocd-tls-certs-cm.yaml",
  "base/config/argocd-gpg-keys-cm.yaml",
  "base/application-controller-roles/argocd-application-controller-sa.yaml",
  "base/application-controller-roles/argocd-application-controller-role.yaml",
  "base/application-controller-roles/argocd-application-controller-rolebinding.yaml",
  "cluster-rbac/application-controller/argocd-application-controller-clusterrole.yaml",
  "cluster-rbac/application-controller/argocd-application-controller-clusterrolebinding.yaml",
] as const;

/**
 * The `default` project every install has, allowing everything: argocd-server creates it at start-up
 * (`initializeDefaultProject` in `server/server.go`), and no argocd-server runs here.
 */
function defaultProject(namespace: string): KubeObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: "default", namespace },
    spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], clusterResourceWhitelist: [{ group: "*", kind: "*" }] },
  };
}

export interface ArgoCdOptions {
  cluster: LocalCluster;
  api: RawApi;
  /** The pinned kustomize the repo-server runs (it finds `kustomize` on its PATH). */
  kustomize: string;
  namespace?: string;
  /** Namespaces beside its own whose Applications the controller reconciles (`application.namespaces`). */
  applicationNamespaces?: readonly string[];
  /** PEM certificates by git server host name, as `argocd-tls-certs-cm` holds them. */
  tlsCerts?: Record<string, string>;
  /** `timeout.reconciliation` of argocd-cm (default 180 s, jitter 0 here); short in tests so that polling git is quick. */
  reconciliationSeconds?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis answers PING. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(2000);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) {
        socket.destroy();
        resolve(answer.startsWith("+PONG"));
      }
    });
    socket.on("timeout", () => (socket.destroy(), resolve(false)));
    socket.on("error", () => resolve(false));
  });
}

/** The environment of an Argo CD program: the machine's, without git settings that would override Argo CD's own. */
function programEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(GIT_|KUBECONFIG$|ARGOCD_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** A running Argo CD: its processes (stopped by pid) and what the tests need to restart or inspect them. */
export class LocalArgoCd {
  readonly components: Component[] = [];
  constructor(
    readonly namespace: string,
    private readonly startController: () => Promise<Component>,
  ) {}

  get controller(): Component {
    return this.components.find((c) => c.name === "argocd-application-controller")!;
  }

  /** Kills the application-controller (SIGKILL, no grace) and starts it again. */
  async killAndRestartController(): Promise<void> {
    const old = this.controller;
    try {
      process.kill(old.pid, "SIGKILL");
    } catch {
      // already gone
    }
    while (isRunning(old)) await sleep(50);
    this.components.splice(this.components.indexOf(old), 1);
    // Starting it records the new process in `components`.
    await this.startController();
  }

  async stop(): Promise<void> {
    for (const component of [...this.components].reverse()) await stopComponent(component);
  }
}

/**
 * Installs Argo CD's settings and RBAC into `namespace` and starts Redis, the repo-server and the
 * application-controller on 127.0.0.1 (the controller's metrics server binds every interface: its address
 * is fixed in Argo CD's code, only the port is chosen). Its logs go beside the control plane's.
 */
export async function startArgoCd(options: ArgoCdOptions): Promise<LocalArgoCd> {
  const log = options.log ?? (() => {});
  const binary = await ensureArgoCd(log);
  const namespace = options.namespace ?? "argocd";
  const { api, cluster } = options;
  const state = cluster.state;
  const dir = join(state.dir, "argocd");
  const timeout = 120_000;
  for (const sub of ["tls", "ssh", "gpg-keys", "gpg-source", "home", "redis", "tmp", "bin"]) mkdirSync(join(dir, sub), { recursive: true });
  // The image puts these scripts of the module's hack/ on the repo-server's PATH; the repo-server runs
  // git-verify-wrapper.sh on every commit it renders. The module zip keeps no executable bits, so each is run by sh.
  const source = moduleDir(ARGOCD.module, ARGOCD.version, ARGOCD.toolchain);
  for (const script of ["git-verify-wrapper.sh", "gpg-wrapper.sh"]) {
    writeFileSync(join(dir, "bin", script), `#!/bin/sh\nexec sh '${join(source, "hack", script)}' "$@"\n`, { mode: 0o755 });
  }

  await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }, { fieldManager: "argocd-install" });
  const reconciliation = `${options.reconciliationSeconds ?? 180}s`;
  for (const object of manifests(namespace, INSTALL_FILES)) {
    if (object.kind === "ConfigMap" && object.metadata.name === "argocd-cm") {
      object.data = { ...(object.data as object), "timeout.reconciliation": reconciliation, "timeout.reconciliation.jitter": "0s" };
    }
    if (object.kind === "ConfigMap" && object.metadata.name === "argocd-tls-certs-cm") object.data = { ...(object.data as object), ...options.tlsCerts };
    await api.apply(object, { fieldManager: "argocd-install" });
  }
  // What the argocd-tls-certs-cm volume holds in the repo-server's pod: one file per host.
  for (const [host, pem] of Object.entries(options.tlsCerts ?? {})) writeFileSync(join(dir, "tls", host), pem);
  await api.apply(defaultProject(namespace), { fieldManager: "argocd-install" });

  // The controller's credentials: a token of its ServiceAccount, so the manifests' RBAC is what it may do.
  const token = await api.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/argocd-application-controller/token`,
    JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86_400 } }),
  );
  const kubeconfig = join(dir, "application-controller.kubeconfig");
  const ca = cluster.kubeConfig().getCurrentCluster()!.caFile!;
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: local, cluster: {server: "${state.server}", certificate-authority: "${ca}"}}]`,
      `users: [{name: argocd-application-controller, user: {token: "${token.status.token}"}}]`,
      `contexts: [{name: local, context: {cluster: local, user: argocd-application-controller, namespace: ${namespace}}}]`,
      "current-context: local",
      "",
    ].join("\n"),
  );

  const ports = { redis: await freePort(), repoServer: await freePort(), repoServerMetrics: await freePort(), controllerMetrics: await freePort() };
  const argocd = new LocalArgoCd(namespace, () => startController());
  const launch = (name: string, path: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const component = startComponent(name, path, args, state.logsDir, env);
    argocd.components.push(component);
    return component;
  };
  const common = {
    // What argocd-cm's timeout.reconciliation sets in the pods of a cluster install.
    ARGOCD_RECONCILIATION_TIMEOUT: reconciliation,
    // timeout.reconciliation.jitter: up to 60 s added to each period by default; none, so a period is a period.
    ARGOCD_RECONCILIATION_JITTER: "0s",
    ARGOCD_TLS_DATA_PATH: join(dir, "tls"),
    ARGOCD_SSH_DATA_PATH: join(dir, "ssh"),
    HOME: join(dir, "home"),
    // The repo-server's checkouts (`_argocd-repo/`) and the controller's scratch files.
    TMPDIR: join(dir, "tmp"),
  };
  const startController = async (): Promise<Component> => {
    const controller = launch(
      "argocd-application-controller",
      binary,
      [
        `--kubeconfig=${kubeconfig}`,
        `--namespace=${namespace}`,
        ...(options.applicationNamespaces?.length ? [`--application-namespaces=${options.applicationNamespaces.join(",")}`] : []),
        `--redis=127.0.0.1:${ports.redis}`,
        `--repo-server=127.0.0.1:${ports.repoServer}`,
        `--metrics-port=${ports.controllerMetrics}`,
        "--status-processors=4",
        "--operation-processors=2",
        "--kubectl-parallelism-limit=4",
        // Each resource's health in the Application's status, where the tests read it.
        "--persist-resource-health=true",
        "--logformat=text",
        "--loglevel=info",
      ],
      programEnv({
        ...common,
        ARGOCD_BINARY_NAME: "argocd-application-controller",
        // `https://kubernetes.default.svc` is the cluster of KUBECONFIG, not the pod's service account.
        ARGOCD_FAKE_IN_CLUSTER: "true",
        KUBECONFIG: kubeconfig,
        HOSTNAME: "argocd-application-controller-0",
      }),
    );
    await waitReady(controller, "/healthz", async () => (await probe(`http://127.0.0.1:${ports.controllerMetrics}/healthz`))?.status === 200, timeout);
    return controller;
  };

  try {
    const redis = launch("redis", "redis-server", [
      "--bind",
      "127.0.0.1",
      "--port",
      String(ports.redis),
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      join(dir, "redis"),
    ]);
    await waitReady(redis, "PING", () => redisPing(ports.redis), timeout);
    const repoServer = launch(
      "argocd-repo-server",
      binary,
      [
        "--address=127.0.0.1",
        `--port=${ports.repoServer}`,
        "--metrics-address=127.0.0.1",
        `--metrics-port=${ports.repoServerMetrics}`,
        `--redis=127.0.0.1:${ports.redis}`,
        "--parallelismlimit=2",
        "--logformat=text",
        "--loglevel=info",
      ],
      programEnv({
        ...common,
        ARGOCD_BINARY_NAME: "argocd-repo-server",
        ARGOCD_GPG_ENABLED: "false",
        ARGOCD_GNUPGHOME: join(dir, "gpg-keys"),
        ARGOCD_GPG_DATA_PATH: join(dir, "gpg-source"),
        PATH: [join(dir, "bin"), dirname(options.kustomize), process.env.PATH ?? ""].join(delimiter),
      }),
    );
    await waitReady(repoServer, "/metrics", async () => (await probe(`http://127.0.0.1:${ports.repoServerMetrics}/metrics`))?.status === 200, timeout);
    log("Argo CD repo-server ready");
    await startController();
    log("Argo CD application-controller ready");
    return argocd;
  } catch (error) {
    await argocd.stop();
    throw error;
  }
}
