/**
 * The fast pre-check of the cluster files (the real Argo CD proves the sync in `argocd-sync.test.ts`).
 * Applies a rendered overlay in the order Argo CD syncs it with `ServerSideApply=true`: server-side apply with
 * strict field validation, wave by wave (sync-wave annotation, then Argo CD's kind order, then name),
 * waiting for each wave's built-in resources to be healthy before the next; a `Sync` hook with
 * `BeforeHookCreation` is deleted and created again, and waited for to complete.
 *
 * Health is judged only for kinds whose controllers run here (Deployment, Job, PersistentVolumeClaim);
 * ExternalSecret, SecretStore and ScaledObject are accepted by their CRDs but nothing reconciles them.
 */
import { ApiError, RawApi, type KubeObject } from "./api.js";

export const FIELD_MANAGER = "argocd-controller";
const WAVE = "argocd.argoproj.io/sync-wave";
const HOOK = "argocd.argoproj.io/hook";
const HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy";

/** Argo CD's apply order of kinds within one wave (gitops-engine's kind order). */
const KIND_ORDER = [
  "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount",
  "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
  "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
  "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
  "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
];

const PHASES = ["PreSync", "Sync", "PostSync"] as const;

function phaseOf(object: KubeObject): (typeof PHASES)[number] {
  const hook = object.metadata.annotations?.[HOOK];
  return hook === "PreSync" || hook === "PostSync" ? hook : "Sync";
}

function waveOf(object: KubeObject): number {
  return Number(object.metadata.annotations?.[WAVE] ?? "0");
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

export const describe = (o: Pick<KubeObject, "kind" | "metadata">) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** The objects grouped in the order Argo CD applies them: one group per (phase, wave). */
export function waveSteps(objects: readonly KubeObject[]): { phase: string; wave: number; objects: KubeObject[] }[] {
  const sorted = [...objects].sort(
    (a, b) =>
      PHASES.indexOf(phaseOf(a)) - PHASES.indexOf(phaseOf(b)) ||
      waveOf(a) - waveOf(b) ||
      kindRank(a.kind) - kindRank(b.kind) ||
      a.kind.localeCompare(b.kind) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  const steps: { phase: string; wave: number; objects: KubeObject[] }[] = [];
  for (const object of sorted) {
    const last = steps.at(-1);
    if (last && last.phase === phaseOf(object) && last.wave === waveOf(object)) last.objects.push(object);
    else steps.push({ phase: phaseOf(object), wave: waveOf(object), objects: [object] });
  }
  return steps;
}

/** An object the API server refused: which one, and the server's message (which names the field). */
export class WaveApplyError extends Error {
  override name = "WaveApplyError";
  constructor(
    readonly object: KubeObject,
    readonly apiError: ApiError,
  ) {
    super(`${describe(object)}: ${apiError.message}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WaveApplyOptions {
  timeoutMs?: number;
  log?: (line: string) => void;
}

export async function applyInWaves(api: RawApi, objects: readonly KubeObject[], options: WaveApplyOptions = {}): Promise<void> {
  const timeout = options.timeoutMs ?? 120_000;
  for (const step of waveSteps(objects)) {
    options.log?.(`${step.phase} wave ${step.wave}: ${step.objects.map(describe).join(", ")}`);
    for (const object of step.objects) {
      if (object.metadata.annotations?.[HOOK] && (object.metadata.annotations[HOOK_DELETE_POLICY] ?? "BeforeHookCreation").includes("BeforeHookCreation")) {
        await deleteAndWait(api, object, timeout);
      }
      try {
        await api.apply(object, { fieldManager: FIELD_MANAGER });
      } catch (error) {
        if (error instanceof ApiError) throw new WaveApplyError(object, error);
        throw error;
      }
    }
    for (const object of step.objects) await waitHealthy(api, object, timeout);
  }
}

async function deleteAndWait(api: RawApi, object: KubeObject, timeout: number): Promise<void> {
  await api.delete(object, "Foreground");
  await waitUntilDeleted(api, object, timeout);
}

/** Waits until the API server answers 404 for an object whose deletion was requested (finalizers run first). */
export async function waitUntilDeleted(api: RawApi, object: Pick<KubeObject, "apiVersion" | "kind" | "metadata">, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await api.get(object);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error(`${describe(object)} was not deleted within ${timeoutMs / 1000}s`);
    await sleep(200);
  }
}

/** Argo CD's health of the built-in kinds, as a problem string, or undefined when healthy. */
export function unhealthy(live: KubeObject): string | undefined {
  const status = (live.status ?? {}) as Record<string, any>;
  const spec = (live as any).spec ?? {};
  switch (live.kind) {
    case "Deployment": {
      const want = spec.replicas ?? 1;
      if ((status.observedGeneration ?? 0) < ((live.metadata as any).generation ?? 0)) return "rollout not observed yet";
      if ((status.updatedReplicas ?? 0) < want) return `${status.updatedReplicas ?? 0}/${want} replicas updated`;
      if ((status.availableReplicas ?? 0) < want) return `${status.availableReplicas ?? 0}/${want} replicas available`;
      return undefined;
    }
    case "Job": {
      const conditions: { type: string; status: string; message?: string }[] = status.conditions ?? [];
      const failed = conditions.find((c) => c.type === "Failed" && c.status === "True");
      if (failed) throw new Error(`${describe(live)} failed: ${failed.message ?? ""}`);
      return conditions.some((c) => c.type === "Complete" && c.status === "True") ? undefined : "not complete";
    }
    case "PersistentVolumeClaim":
      return status.phase === "Bound" ? undefined : `phase ${status.phase ?? "unknown"}`;
    default:
      return undefined;
  }
}

async function waitHealthy(api: RawApi, object: KubeObject, timeout: number): Promise<void> {
  if (!["Deployment", "Job", "PersistentVolumeClaim"].includes(object.kind)) return;
  const deadline = Date.now() + timeout;
  for (;;) {
    const problem = unhealthy(await api.get(object));
    if (!problem) return;
    if (Date.now() > deadline) throw new Error(`${describe(object)} not healthy within ${timeout / 1000}s: ${problem}`);
    await sleep(250);
  }
}

/**
 * What the EFS CSI driver would do for each claim: a PersistentVolume of the claim's class and size,
 * bound to it in advance. The local cluster has no storage driver; the claims themselves are the overlay's.
 */
export function volumesFor(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .filter((o) => o.kind === "PersistentVolumeClaim")
    .map((claim) => {
      const spec = (claim as any).spec;
      return {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `pv-${claim.metadata.namespace}-${claim.metadata.name}`, labels: { "airflow-gitops.test/volume": "true" } },
        spec: {
          capacity: { storage: spec.resources.requests.storage },
          accessModes: spec.accessModes,
          storageClassName: spec.storageClassName,
          persistentVolumeReclaimPolicy: "Delete",
          claimRef: { namespace: claim.metadata.namespace, name: claim.metadata.name },
          csi: { driver: "efs.csi.aws.com", volumeHandle: `fs-test::${claim.metadata.namespace}-${claim.metadata.name}` },
        },
      };
    });
}

export { ApiError };
