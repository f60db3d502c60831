/**
 * The peak-hour controllers the suite builds and runs (`keda.ts`, `karpenter.ts`, `metrics-server.ts`) and whose CRDs it
 * installs (`crds.ts`): one release each, so the schemas are the ones the running controller reads.
 */
export const KEDA = { module: "github.com/kedacore/keda/v2", version: "v2.21.0" } as const;

/** Karpenter's core module, with its kwok cloud provider (`kwok/`): the provider that makes Nodes without a cloud. */
export const KARPENTER = { module: "sigs.k8s.io/karpenter", version: "v1.14.1" } as const;

/** The HPA's CPU metrics (metrics.k8s.io), scraped from kwok's emulated kubelet endpoints. */
export const METRICS_SERVER = { module: "sigs.k8s.io/metrics-server", version: "v0.8.0" } as const;
