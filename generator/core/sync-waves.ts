/**
 * The order Argo CD applies an environment in, written once: each kind's sync wave and why it waits
 * for the waves before it. Argo CD finishes a wave (applied and healthy) before starting the next.
 */
import type { Manifest } from "./components/types.js";

export const SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave";

interface Wave {
  wave: number;
  kinds: readonly string[];
  why: string;
}

export const SYNC_WAVES: readonly Wave[] = [
  {
    wave: -4,
    kinds: ["Namespace", "PriorityClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
    why: "the place everything else needs, and the rule on task pods before anything can launch one",
  },
  { wave: -3, kinds: ["ServiceAccount", "SecretStore", "ClusterSecretStore"], why: "identities, and the store the ExternalSecrets read through" },
  { wave: -2, kinds: ["ExternalSecret"], why: "Secrets exist (Argo CD waits for Ready) before any pod reads them" },
  {
    wave: -1,
    kinds: ["ConfigMap", "Role", "RoleBinding", "PersistentVolumeClaim", "NetworkPolicy", "Service"],
    why: "configuration, permissions, volumes and network rules the pods mount and use",
  },
  { wave: 0, kinds: ["Job"], why: "the migration hook brings the database schema up to date before new pods start" },
  { wave: 1, kinds: ["Deployment", "CronJob", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"], why: "the workloads, their traffic and their monitoring" },
  { wave: 2, kinds: ["ScaledObject"], why: "autoscalers, once their Deployments exist (avoids KEDA's webhook cache miss)" },
  {
    wave: 3,
    kinds: ["NodePool"],
    why:
      "peak capacity last: its health follows the platform's EC2NodeClass, which this repository does not own, so it must gate nothing; " +
      "nothing before needs it (placeholders start at 0 replicas, task pods only prefer its nodes)",
  },
];

const WAVE_OF: ReadonlyMap<string, number> = new Map(SYNC_WAVES.flatMap(({ wave, kinds }) => kinds.map((kind) => [kind, wave] as const)));

export function syncWaveOf(kind: string): number {
  const wave = WAVE_OF.get(kind);
  if (wave === undefined) throw new Error(`no sync wave for kind ${kind}: add it to SYNC_WAVES`);
  return wave;
}

/** The manifests with their sync-wave annotation; an object that names its own wave (a hook ordered after another) keeps it. */
export function withSyncWaves(manifests: readonly Manifest[]): Manifest[] {
  return manifests.map(({ component, object }) => ({
    component,
    object: {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: {
          ...object.metadata.annotations,
          [SYNC_WAVE_ANNOTATION]: object.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? String(syncWaveOf(object.kind)),
        },
      },
    },
  }));
}
