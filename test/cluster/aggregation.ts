/**
 * Registering an extension API server that listens on 127.0.0.1 (KEDA's metrics server, metrics-server) with
 * the API server's aggregator. The APIService's Service becomes an ExternalName for 127.0.0.1, which the
 * aggregator dials at the APIService's port (its default routing, `--enable-aggregator-routing=false`): there
 * is no kube-proxy for a ClusterIP, and Endpoints may not hold a loopback address. The caBundle is the CA of
 * the server's certificate, whose names include the Service's (`<name>.<namespace>.svc`, the name the
 * aggregator verifies), in place of any `insecureSkipTLSVerify` of the upstream manifest.
 */
import type { KubeObject, RawApi } from "./api.js";

interface ApiServiceSpec {
  service: { name: string; namespace: string; port?: number };
  insecureSkipTLSVerify?: boolean;
  [field: string]: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Applies the Service and the APIService, then waits until the aggregator reports it Available. */
export async function registerLocalApiService(api: RawApi, apiService: KubeObject, port: number, caPem: string, timeoutMs = 120_000): Promise<void> {
  const { insecureSkipTLSVerify: _, ...spec } = apiService.spec as ApiServiceSpec;
  const { name, namespace } = spec.service;
  await api.apply(
    { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec: { type: "ExternalName", externalName: "127.0.0.1" } },
    { fieldManager: "aggregation" },
  );
  await api.apply(
    { ...apiService, spec: { ...spec, service: { name, namespace, port }, caBundle: Buffer.from(caPem).toString("base64") } },
    { fieldManager: "aggregation" },
  );
  const path = `/apis/apiregistration.k8s.io/v1/apiservices/${apiService.metadata.name}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await api.request<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>("GET", path);
    const available = current.status?.conditions?.find((c) => c.type === "Available");
    if (available?.status === "True") break;
    if (Date.now() > deadline) throw new Error(`APIService ${apiService.metadata.name} not Available after ${timeoutMs / 1000}s: ${available?.message ?? "no condition"}`);
    await sleep(500);
  }
  api.forgetDiscovery();
}

/** The server names to put in the certificate of an APIService's server. */
export function serviceNames(name: string, namespace: string): string[] {
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}
