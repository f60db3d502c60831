/**
 * metrics-server beside the local control plane: the resource metrics API (`metrics.k8s.io`) the HPA
 * controller reads for a CPU trigger, built from the pinned module (`controller-pins.ts`) and run out of cluster.
 * It scrapes every node's kubelet endpoint, which kwok plays: the fleet's nodes have the address 127.0.0.1, the
 * kwok server's port as their kubelet port, and the annotation that names their path on that server
 * (`fleet.ts`); kwok reports each pod's CPU from its `kwok.x-k8s.io/usage-cpu` annotation (`kwok-stages.ts`).
 * Flags as kwokctl runs it next to kwok (self-signed kubelet certificates, hence `--kubelet-insecure-tls`).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject, RawApi } from "./api.js";
import { registerLocalApiService, serviceNames } from "./aggregation.js";
import type { ClusterState } from "./cluster.js";
import { METRICS_SERVER } from "./controller-pins.js";
import { moduleDir } from "./crds.js";
import { ensureSourceBuild, type SourceBuild } from "./module-build.js";
import { clientCertificate, kubeconfigFor, serverCertificate } from "./pki.js";
import { freePort, probe, readyOrStopped, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

const BUILD: SourceBuild = {
  name: "metrics-server",
  module: METRICS_SERVER.module,
  version: METRICS_SERVER.version,
  packages: ["./cmd/metrics-server"],
  ldflags: `-s -w -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER.version}`,
};

export const METRICS_SERVER_USER = "metrics-server";

export interface MetricsServerOptions {
  cluster: ClusterState;
  api: RawApi;
  logsDir: string;
  dir: string;
  log?: (line: string) => void;
}

export async function ensureMetricsServer(log: (line: string) => void = () => {}): Promise<string> {
  return join(await ensureSourceBuild(BUILD, log), "metrics-server");
}

export class MetricsServer {
  private constructor(readonly component: Component) {}

  static async start(options: MetricsServerOptions): Promise<MetricsServer> {
    const binary = await ensureMetricsServer(options.log);
    mkdirSync(options.dir, { recursive: true });
    const apiService = parseAllDocuments(readFileSync(join(moduleDir(METRICS_SERVER.module, METRICS_SERVER.version), "manifests", "base", "apiservice.yaml"), "utf8"))
      .map((d) => d.toJS() as KubeObject | null)
      .find((o) => o?.kind === "APIService")!;
    const { name, namespace } = (apiService.spec as { service: { name: string; namespace: string } }).service;
    const tls = serverCertificate(options.cluster.dir, "metrics-server", { dnsNames: serviceNames(name, namespace) });
    // In system:masters: the module's ClusterRoles (manifests/base/rbac.yaml) are not what this test is about.
    const identity = clientCertificate(options.dir, { caCert: tls.ca, caKey: join(options.cluster.dir, "ca.key") }, METRICS_SERVER_USER, `/O=system:masters/CN=${METRICS_SERVER_USER}`);
    const kubeconfig = join(options.dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigFor(options.cluster.server, tls.ca, METRICS_SERVER_USER, identity));
    const port = await freePort();
    const component = startComponent(
      "metrics-server",
      binary,
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        `--tls-cert-file=${tls.cert}`,
        `--tls-private-key-file=${tls.key}`,
        "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port",
        "--kubelet-insecure-tls",
        "--metric-resolution=15s",
        "--v=2",
      ],
      options.logsDir,
      { PATH: process.env.PATH, HOME: options.dir },
    );
    await readyOrStopped(component, async () => {
      await waitReady(component, "/livez", async () => (await probe(`https://127.0.0.1:${port}/livez`, { ca: tls.ca }))?.status === 200, 120_000);
      await registerLocalApiService(options.api, apiService, port, readFileSync(tls.ca, "utf8"));
    });
    return new MetricsServer(component);
  }

  stop(): Promise<void> {
    return stopComponent(this.component);
  }
}
