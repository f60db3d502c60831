/**
 * KEDA beside the local control plane: its operator (ScaledObjects → HPAs, activation to and from zero, the
 * cron scaler), its metrics API server (`external.metrics.k8s.io`, registered with the API server's
 * aggregator, which the controller-manager's HPA controller reads) and its admission webhooks, built from the
 * pinned module (`controller-pins.ts`) and run out of cluster under the install's ServiceAccount
 * `keda/keda-operator` with the RBAC of the module's `config/`.
 *
 * Out of cluster, three things are done by hand that the install's Services and cert rotation would do:
 * - certificates: one from the cluster's CA (server and client: the operator and the metrics server talk
 *   gRPC over mTLS) in `--cert-dir`, as `ca.crt`, `tls.crt`, `tls.key`; cert rotation stays off (it writes a
 *   Secret and waits for a kubelet to mount it);
 * - the APIService points at 127.0.0.1, where the metrics server listens (`aggregation.ts`);
 * - the webhook configuration calls `https://127.0.0.1:<port>/<path>` instead of the Service.
 * The metrics server's plain `/metrics` listener and the webhook server have no flag for their address (they
 * listen on every interface); the build binds them to 127.0.0.1.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject, RawApi } from "./api.js";
import { registerLocalApiService, serviceNames } from "./aggregation.js";
import type { ClusterState } from "./cluster.js";
import { KEDA } from "./controller-pins.js";
import { moduleDir } from "./crds.js";
import { ensureSourceBuild, type SourceBuild } from "./module-build.js";
import { serverCertificate } from "./pki.js";
import { freePort, probe, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

const BUILD: SourceBuild = {
  name: "keda",
  module: KEDA.module,
  version: KEDA.version,
  packages: ["./cmd/operator", "./cmd/adapter", "./cmd/webhooks"],
  ldflags: `-s -w -X ${KEDA.module}/version.Version=${KEDA.version.replace(/^v/, "")} -X ${KEDA.module}/version.GitCommit=${KEDA.version}`,
  patches: [
    { file: "cmd/adapter/main.go", from: 'metricsBindAddress := fmt.Sprintf(":%v", metricsAPIServerPort)', to: 'metricsBindAddress := fmt.Sprintf("127.0.0.1:%v", metricsAPIServerPort)' },
    { file: "cmd/webhooks/main.go", from: "\t\t\tPort:    webhooksPort,\n", to: '\t\t\tHost:    "127.0.0.1",\n\t\t\tPort:    webhooksPort,\n' },
  ],
};

export async function ensureKeda(log: (line: string) => void = () => {}): Promise<{ operator: string; adapter: string; webhooks: string }> {
  const dir = await ensureSourceBuild(BUILD, log);
  return { operator: join(dir, "operator"), adapter: join(dir, "adapter"), webhooks: join(dir, "webhooks") };
}

export const KEDA_NAMESPACE = "keda";
const SERVICE_ACCOUNT = "keda-operator";

/** The module's own objects (`config/…`), parsed. */
function configObjects(files: readonly string[]): KubeObject[] {
  const dir = moduleDir(KEDA.module, KEDA.version);
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, "config", file), "utf8"))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null),
  );
}

export interface KedaOptions {
  cluster: ClusterState;
  api: RawApi;
  logsDir: string;
  dir: string;
  log?: (line: string) => void;
}

export class Keda {
  private constructor(readonly components: Component[]) {}

  /** Installs KEDA's RBAC, starts its three programs and registers them; returns once the external metrics API is Available. */
  static async start(options: KedaOptions): Promise<Keda> {
    const { api, cluster } = options;
    const binaries = await ensureKeda(options.log);
    mkdirSync(options.dir, { recursive: true });
    await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: KEDA_NAMESPACE } }, { fieldManager: "keda-install" });
    await api.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SERVICE_ACCOUNT, namespace: KEDA_NAMESPACE } }, { fieldManager: "keda-install" });
    for (const object of configObjects(["rbac/role.yaml", "rbac/role_binding.yaml", "metrics-server/role.yaml", "metrics-server/role_binding.yaml"])) {
      await api.apply(object, { fieldManager: "keda-install" });
    }

    const certDir = join(options.dir, "certs");
    mkdirSync(certDir, { recursive: true });
    const services = ["keda-metrics-apiserver", "keda-operator", "keda-admission-webhooks"].flatMap((s) => serviceNames(s, KEDA_NAMESPACE));
    const tls = serverCertificate(cluster.dir, "keda", { dnsNames: services, clientAuth: true });
    copyFileSync(tls.ca, join(certDir, "ca.crt"));
    copyFileSync(tls.cert, join(certDir, "tls.crt"));
    copyFileSync(tls.key, join(certDir, "tls.key"));

    // The three programs' credentials: a token of the install's ServiceAccount, so its RBAC is what they may do.
    const token = await api.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${KEDA_NAMESPACE}/serviceaccounts/${SERVICE_ACCOUNT}/token`,
      JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86_400 } }),
    );
    const kubeconfig = join(options.dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: local, cluster: {server: "${cluster.server}", certificate-authority: "${tls.ca}"}}]`,
        `users: [{name: ${SERVICE_ACCOUNT}, user: {token: "${token.status.token}"}}]`,
        `contexts: [{name: local, context: {cluster: local, user: ${SERVICE_ACCOUNT}, namespace: ${KEDA_NAMESPACE}}}]`,
        "current-context: local",
        "",
      ].join("\n"),
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: options.dir,
      KUBECONFIG: kubeconfig,
      // Every namespace; the namespace of the install (leader election, cluster-scoped objects' Secrets).
      WATCH_NAMESPACE: "",
      POD_NAMESPACE: KEDA_NAMESPACE,
      KEDA_CLUSTER_OBJECT_NAMESPACE: KEDA_NAMESPACE,
    };
    const port = async () => `127.0.0.1:${await freePort()}`;
    const ports = {
      operatorMetrics: await port(),
      operatorHealth: await port(),
      grpc: await port(),
      adapterSecure: await freePort(),
      adapterMetrics: await freePort(),
      webhooksMetrics: await port(),
      webhooksHealth: await port(),
      webhooks: await freePort(),
    };
    const keda = new Keda([]);
    const launch = (name: string, binary: string, args: string[]) => {
      const component = startComponent(name, binary, args, options.logsDir, env);
      keda.components.push(component);
      return component;
    };
    try {
      const operator = launch("keda-operator", binaries.operator, [
        `--metrics-bind-address=${ports.operatorMetrics}`,
        `--health-probe-bind-address=${ports.operatorHealth}`,
        `--metrics-service-bind-address=${ports.grpc}`,
        `--cert-dir=${certDir}`,
        "--leader-elect=false",
        "--enable-cert-rotation=false",
        "--zap-log-level=debug",
        "--zap-time-encoding=iso8601",
      ]);
      const adapter = launch("keda-metrics-apiserver", binaries.adapter, [
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.adapterSecure}`,
        `--cert-dir=${certDir}`,
        `--tls-cert-file=${join(certDir, "tls.crt")}`,
        `--tls-private-key-file=${join(certDir, "tls.key")}`,
        `--client-ca-file=${join(certDir, "ca.crt")}`,
        `--port=${ports.adapterMetrics}`,
        `--metrics-service-address=${ports.grpc}`,
        `--lister-kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--v=2",
      ]);
      const webhooks = launch("keda-admission-webhooks", binaries.webhooks, [
        `--metrics-bind-address=${ports.webhooksMetrics}`,
        `--health-probe-bind-address=${ports.webhooksHealth}`,
        `--cert-dir=${certDir}`,
        `--port=${ports.webhooks}`,
        "--zap-time-encoding=iso8601",
      ]);
      const ok = (url: string, tlsOptions = {}) => async () => (await probe(url, tlsOptions))?.status === 200;
      await waitReady(operator, "/readyz", ok(`http://${ports.operatorHealth}/readyz`), 120_000);
      await waitReady(adapter, "/readyz", ok(`https://127.0.0.1:${ports.adapterSecure}/readyz`, { ca: tls.ca }), 120_000);
      await waitReady(webhooks, "/readyz", ok(`http://${ports.webhooksHealth}/readyz`), 120_000);

      const ca = readFileSync(tls.ca, "utf8");
      for (const object of configObjects(["metrics-server/api_service.yaml"])) await registerLocalApiService(api, object, ports.adapterSecure, ca);
      for (const object of configObjects(["webhooks/validation_webhooks.yaml"])) {
        const hooks = (object.webhooks as { clientConfig: { service: { path: string } } }[]).map((hook) => ({
          ...hook,
          clientConfig: { url: `https://127.0.0.1:${ports.webhooks}${hook.clientConfig.service.path}`, caBundle: Buffer.from(ca).toString("base64") },
        }));
        await api.apply({ ...object, webhooks: hooks }, { fieldManager: "keda-install" });
      }
    } catch (error) {
      await keda.stop();
      throw error;
    }
    return keda;
  }

  async stop(): Promise<void> {
    for (const component of [...this.components].reverse()) await stopComponent(component);
  }
}
