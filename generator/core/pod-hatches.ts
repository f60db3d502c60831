/**
 * The escape hatches of `pods`, laid onto the generated pod templates: env, mounts, volumes, sidecars,
 * init containers, pod labels and annotations, pull secrets and placement additions. Added, never
 * replacing: what the generator makes stays (pod-hatch-checks.ts refuses a hatch that would collide).
 * Extra containers get the Pod Security "restricted" container settings unless they set their own.
 */
import type { IAffinity } from "kubernetes-models/v1/Affinity";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { INodeSelectorTerm } from "kubernetes-models/v1/NodeSelectorTerm";
import type { ContainerHatchesConfig, PodHatchesConfig, PodsConfig } from "../config/pods-schema.js";
import type { KubeObject } from "./manifest.js";
import { containerSecurityContext } from "./pod.js";
import { CLUSTER_REFERENCES_ANNOTATION, clusterReferences } from "./cluster-references.js";

export type Workload = keyof PodsConfig;

/** Which hatches a generated object's pods take, and which of its containers gets the container fields. */
export interface HatchSite {
  workload: Exclude<Workload, "gitSync" | "builder">;
  /** The container the container fields (extraEnv, extraEnvFrom, extraVolumeMounts) go to. */
  container: string;
  /** Other containers with hatches of their own: container name -> workload. */
  containers?: Partial<Record<string, "gitSync" | "builder">>;
}

const DEPLOYMENTS: Readonly<Record<string, HatchSite>> = {
  "api-server": { workload: "apiServer", container: "api-server" },
  scheduler: { workload: "scheduler", container: "scheduler" },
  "dag-processor": { workload: "dagProcessor", container: "dag-processor" },
  triggerer: { workload: "triggerer", container: "triggerer" },
  statsd: { workload: "statsd", container: "statsd-exporter" },
  "dag-sync": { workload: "dagSync", container: "git-sync", containers: { "git-sync": "gitSync", "dag-builder": "builder" } },
};

export const WORKER_SITE: HatchSite = { workload: "worker", container: "base" };

/** The site of a generated object, or undefined when its pods take no hatches (the peak placeholders hold capacity only). */
export function hatchSite(object: KubeObject): HatchSite | undefined {
  if (object.kind === "Deployment") return DEPLOYMENTS[object.metadata.labels?.["app.kubernetes.io/component"] ?? ""];
  if (object.kind === "Job" || object.kind === "CronJob") {
    const template = podTemplateOf(object);
    const main = (template?.spec as { containers?: IContainer[] } | undefined)?.containers?.[0]?.name;
    return main ? { workload: "jobs", container: main } : undefined;
  }
  return undefined;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  const spec = object.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
  return spec?.template ?? spec?.jobTemplate?.spec?.template;
}

/** A copy of `object` with the hatches of its site laid onto its pod template. */
export function withPodHatches(pods: PodsConfig, object: KubeObject): KubeObject {
  const site = hatchSite(object);
  if (!site || !hasHatches(pods, site)) return object;
  const spec = object.spec as Record<string, unknown>;
  if (object.kind === "CronJob") {
    const jobTemplate = spec.jobTemplate as { spec: Record<string, unknown> };
    const template = jobTemplate.spec.template as PodTemplate;
    return { ...object, spec: { ...spec, jobTemplate: { ...jobTemplate, spec: { ...jobTemplate.spec, template: hatchedTemplate(template, pods, site) } } } };
  }
  return { ...object, spec: { ...spec, template: hatchedTemplate(spec.template as PodTemplate, pods, site) } };
}

function hasHatches(pods: PodsConfig, site: HatchSite): boolean {
  return Boolean(pods[site.workload]) || Object.values(site.containers ?? {}).some((w) => w && pods[w]);
}

/** The pod template (or Pod: the same shape) with the site's hatches. */
export function hatchedTemplate<T extends PodTemplate>(template: T, pods: PodsConfig, site: HatchSite): T {
  const h: PodHatchesConfig = pods[site.workload] ?? {};
  const spec = { ...(template.spec ?? {}) } as Record<string, unknown> & {
    containers: IContainer[];
    initContainers?: IContainer[];
    volumes?: unknown[];
    imagePullSecrets?: { name: string }[];
    nodeSelector?: Record<string, string>;
    tolerations?: unknown[];
    affinity?: IAffinity;
  };
  const containerHatches = (name: string): ContainerHatchesConfig[] => {
    const own = site.containers?.[name];
    return [...(name === site.container ? [h] : []), ...(own && pods[own] ? [pods[own]!] : [])];
  };
  spec.containers = [...spec.containers.map((c) => withContainerHatches(c, containerHatches(c.name))), ...(h.extraContainers ?? []).map(restricted)];
  if (spec.initContainers || h.extraInitContainers) {
    // After the generated ones: they wait for the migrations, and a strategic-merge patch appends.
    spec.initContainers = [...(spec.initContainers ?? []).map((c) => withContainerHatches(c, containerHatches(c.name))), ...(h.extraInitContainers ?? []).map(restricted)];
  }
  if (h.extraVolumes?.length) spec.volumes = [...(spec.volumes ?? []), ...h.extraVolumes];
  if (h.imagePullSecrets?.length) spec.imagePullSecrets = [...(spec.imagePullSecrets ?? []), ...h.imagePullSecrets.map((name) => ({ name }))];
  if (h.nodeSelector && Object.keys(h.nodeSelector).length) spec.nodeSelector = { ...spec.nodeSelector, ...h.nodeSelector };
  if (h.tolerations?.length) spec.tolerations = [...(spec.tolerations ?? []), ...h.tolerations];
  if (h.affinity) spec.affinity = mergeAffinity(spec.affinity, h.affinity);
  if (h.priorityClassName) spec.priorityClassName = h.priorityClassName;
  if (h.terminationGracePeriodSeconds !== undefined && site.workload !== "worker") spec.terminationGracePeriodSeconds = h.terminationGracePeriodSeconds;
  const metadata = { ...(template.metadata ?? {}) };
  const references = clusterReferences({
    containers: [...(h.extraContainers ?? []), ...(h.extraInitContainers ?? []), ...[...spec.containers, ...(spec.initContainers ?? [])].flatMap((c) => containerHatches(c.name).map((x) => ({ env: x.extraEnv, envFrom: x.extraEnvFrom })))],
    volumes: h.extraVolumes ?? [],
    ...(h.priorityClassName ? { priorityClassName: h.priorityClassName } : {}),
  });
  if (references.length) metadata.annotations = { ...metadata.annotations, [CLUSTER_REFERENCES_ANNOTATION]: references.join(",") };
  if (h.podLabels && Object.keys(h.podLabels).length) metadata.labels = { ...metadata.labels, ...h.podLabels };
  if (h.podAnnotations && Object.keys(h.podAnnotations).length) metadata.annotations = { ...metadata.annotations, ...h.podAnnotations };
  return { ...template, metadata, spec };
}

function withContainerHatches(container: IContainer, hatches: readonly ContainerHatchesConfig[]): IContainer {
  if (hatches.length === 0) return container;
  const env = hatches.flatMap((h) => h.extraEnv ?? []);
  const envFrom = hatches.flatMap((h) => h.extraEnvFrom ?? []);
  const mounts = hatches.flatMap((h) => h.extraVolumeMounts ?? []);
  return {
    ...container,
    ...(env.length ? { env: [...(container.env ?? []), ...env] } : {}),
    ...(envFrom.length ? { envFrom: [...(container.envFrom ?? []), ...envFrom] } : {}),
    ...(mounts.length ? { volumeMounts: [...(container.volumeMounts ?? []), ...mounts] } : {}),
  };
}

/** An extra container with the restricted profile's container settings under its own (which the checks hold to the profile). */
function restricted(container: IContainer): IContainer {
  const own = container.securityContext ?? {};
  const base = containerSecurityContext();
  // An added capability keeps the drop of every other one.
  return { ...container, securityContext: { ...base, ...own, capabilities: { ...base.capabilities, ...own.capabilities } } };
}

/**
 * Affinity added to affinity. Preferred terms and pod (anti-)affinity terms are appended (each required
 * pod term must hold anyway). Required node terms are alternatives (any one suffices), so the added
 * expressions go into each of them: the pod then needs the generated placement and the added one.
 */
export function mergeAffinity(base: IAffinity | undefined, added: IAffinity): IAffinity {
  if (!base) return added;
  const out: IAffinity = { ...base };
  if (added.nodeAffinity) {
    const b = base.nodeAffinity ?? {};
    const a = added.nodeAffinity;
    const preferred = [...(b.preferredDuringSchedulingIgnoredDuringExecution ?? []), ...(a.preferredDuringSchedulingIgnoredDuringExecution ?? [])];
    const required = andTerms(b.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, a.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
    out.nodeAffinity = {
      ...(required ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: required } } : {}),
      ...(preferred.length ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
    };
  }
  for (const key of ["podAffinity", "podAntiAffinity"] as const) {
    const a = added[key];
    if (!a) continue;
    const b = base[key] ?? {};
    const required = [...(b.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...(a.requiredDuringSchedulingIgnoredDuringExecution ?? [])];
    const preferred = [...(b.preferredDuringSchedulingIgnoredDuringExecution ?? []), ...(a.preferredDuringSchedulingIgnoredDuringExecution ?? [])];
    out[key] = {
      ...(required.length ? { requiredDuringSchedulingIgnoredDuringExecution: required } : {}),
      ...(preferred.length ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
    } as never;
  }
  return out;
}

/** Terms meaning "one of `base` and one of `added`": every pairing, expressions and fields joined. */
function andTerms(base: INodeSelectorTerm[] | undefined, added: INodeSelectorTerm[] | undefined): INodeSelectorTerm[] | undefined {
  if (!added?.length) return base;
  if (!base?.length) return added;
  return base.flatMap((b) =>
    added.map((a) => {
      const matchExpressions = [...(b.matchExpressions ?? []), ...(a.matchExpressions ?? [])];
      const matchFields = [...(b.matchFields ?? []), ...(a.matchFields ?? [])];
      return { ...(matchExpressions.length ? { matchExpressions } : {}), ...(matchFields.length ? { matchFields } : {}) };
    }),
  );
}

/** An environment's hatches over the shared ones: lists appended, maps merged, single values replaced. */
export function mergePodHatches(shared: PodsConfig, env: PodsConfig | undefined): PodsConfig {
  if (!env) return shared;
  const out: Record<string, unknown> = { ...shared };
  for (const [workload, added] of Object.entries(env) as [Workload, PodHatchesConfig][]) {
    const base = (shared[workload] ?? {}) as PodHatchesConfig;
    const merged: Record<string, unknown> = { ...base };
    for (const [field, value] of Object.entries(added) as [keyof PodHatchesConfig, unknown][]) {
      const was = base[field];
      if (field === "affinity") merged[field] = mergeAffinity(was as IAffinity | undefined, value as IAffinity);
      else if (Array.isArray(value)) merged[field] = [...((was as unknown[] | undefined) ?? []), ...value];
      else if (value !== null && typeof value === "object") merged[field] = { ...(was as object | undefined), ...value };
      else merged[field] = value;
    }
    out[workload] = merged;
  }
  return out as PodsConfig;
}
