/** The pods a build will run: workload templates, and pod templates embedded as text in ConfigMaps. */
import jsyaml from "js-yaml";
import type { KubeDocument } from "./kustomize.js";

/** A pod spec and where it comes from. */
export interface PodSite {
  /** The object that holds it (the ConfigMap, for an embedded template). */
  owner: KubeDocument;
  /** JSON pointer of the pod spec inside the owner, or `data/<key>` for an embedded template. */
  at: string;
  namespace: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  /** Runs until stopped (a Deployment's pods), as opposed to a Job's or a task's. */
  longRunning: boolean;
}

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  volumeMounts?: { name: string }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Record<string, any>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
}

export interface PodSpec {
  serviceAccountName?: string;
  priorityClassName?: string;
  securityContext?: Record<string, any>;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Record<string, any>[];
}

const LONG_RUNNING = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

/** Keys of ConfigMap data that hold a pod template (the KubernetesExecutor's pod_template_file). */
export const POD_TEMPLATE_KEY_PATTERN = /pod_template_file\.ya?ml$/;

export interface EmbeddedPod {
  owner: KubeDocument;
  key: string;
  pod: KubeDocument;
}

const embeddedCache = new WeakMap<readonly KubeDocument[], EmbeddedPod[]>();
const sitesCache = new WeakMap<readonly KubeDocument[], PodSite[]>();

/** The pod templates embedded in the build's ConfigMaps, parsed once per build. */
export function embeddedPods(objects: readonly KubeDocument[]): EmbeddedPod[] {
  let pods = embeddedCache.get(objects);
  if (!pods) {
    pods = objects.flatMap((owner) => {
      if (owner.kind !== "ConfigMap") return [];
      return Object.entries((owner.data as Record<string, string> | undefined) ?? {})
        .filter(([key]) => POD_TEMPLATE_KEY_PATTERN.test(key))
        .map(([key, text]) => ({ owner, key, pod: jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA }) as KubeDocument }));
    });
    embeddedCache.set(objects, pods);
  }
  return pods;
}

/** Every pod the build runs, found once per build. */
export function podSites(objects: readonly KubeDocument[]): PodSite[] {
  let sites = sitesCache.get(objects);
  if (!sites) sitesCache.set(objects, (sites = findPodSites(objects)));
  return sites;
}

function findPodSites(objects: readonly KubeDocument[]): PodSite[] {
  const sites: PodSite[] = [];
  type Template = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: PodSpec };
  for (const o of objects) {
    const spec = o.spec as { template?: Template; jobTemplate?: { spec?: { template?: Template } } } | undefined;
    // A CronJob's pod template sits one level deeper, under its job template.
    const cron = spec?.jobTemplate?.spec?.template;
    const template = spec?.template ?? cron;
    if (template?.spec?.containers) {
      sites.push({
        owner: o,
        at: cron ? "/spec/jobTemplate/spec/template/spec" : "/spec/template/spec",
        namespace: o.metadata.namespace,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations ?? {},
        spec: template.spec,
        longRunning: LONG_RUNNING.has(o.kind),
      });
    }
  }
  for (const { owner, key, pod } of embeddedPods(objects)) {
    if (!(pod?.spec as PodSpec | undefined)?.containers) continue;
    sites.push({
      owner,
      at: `/data/${key}`,
      namespace: pod.metadata?.namespace ?? owner.metadata.namespace,
      labels: pod.metadata?.labels ?? {},
      annotations: (pod.metadata?.annotations as Record<string, string> | undefined) ?? {},
      spec: pod.spec as PodSpec,
      longRunning: false,
    });
  }
  return sites;
}

export function containersOf(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
}
