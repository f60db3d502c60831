/**
 * One environment's overlay, derived rather than written: the base is rendered from the shared config,
 * the environment from its resolved config, and the overlay is the difference. Objects only the
 * environment has become files of the overlay; objects both have become one patch per changed aspect;
 * the namespace, the Airflow image and the version label go through Kustomize's own transformers.
 *
 * A difference that neither a patch aspect nor a transformer covers is a generator bug and fails
 * generation, so an overlay can never silently build something other than the environment's config.
 */
import { tagVersion } from "../config/image-tag.js";
import type { Config } from "../config/schema.js";
import { buildManifests, BASE_DIR } from "./base.js";
import type { Manifest } from "./components/types.js";
import type { Kustomization } from "./layer.js";
import { manifestFileName, type GeneratedFile, type KubeObject } from "./manifest.js";
import { aspectPatch, aspectsOf, deepEqual, equalExcept, isObject, pick, type Aspect } from "./patches.js";
import { secretsDir, secretsManifests } from "./secrets.js";
import { customPatches } from "./overlay-patches.js";
import { resolveEnvironment, type Target } from "./target.js";
import { byCodeUnit } from "../shared/order.js";

export const OVERLAYS_DIR = "overlays";

interface PatchEntry {
  path: string;
  target?: { kind: string; name?: string; group?: string; version?: string; labelSelector?: string };
  options?: { allowNameChange: boolean };
}

/** The kustomize transformers an overlay uses, as data: what they change is not a patch's job. */
interface Transforms {
  namespace: string;
  image: { name: string; newName?: string; newTag: string };
  labels: Record<string, string>;
  /** Cluster-scoped objects renamed for the environment: old name -> new name. */
  renames: Map<string, string>;
}

export function overlayDir(environment: string): string {
  return `${OVERLAYS_DIR}/${environment}`;
}

export function overlayLayer(config: Config, environment: string): GeneratedFile[] {
  const target = resolveEnvironment(config, environment);
  const dir = overlayDir(environment);
  const base = byFile(buildManifests(config));
  const wanted = byFile(buildManifests(target));
  const transforms = transformsOf(config, target, base, wanted);

  const files: GeneratedFile[] = [];
  const newResources: string[] = [];
  const patches: PatchEntry[] = [];
  const renames: PatchEntry[] = [];
  const write = (name: string, content: object) => files.push({ path: `${dir}/${name}`, format: "yaml", content });

  for (const [file, object] of wanted) {
    const before = base.get(file);
    if (!before) {
      newResources.push(file);
      write(file, object);
      continue;
    }
    // Compared with the base as kustomize's transformers leave it: a new Airflow tag needs no patch.
    const transformed = applyTransforms(before, transforms);
    for (const aspect of aspectsOf(before, object)) {
      if (deepEqual(pick(transformed, aspect.paths), pick(object, aspect.paths))) continue;
      const name = file.replace(/\.yaml$/, `-${aspect.name}.yaml`);
      const patch = aspectPatch(transformed, object, aspect.paths) as { metadata?: object };
      // Added containers are compared by name; an aspect can differ there and still have nothing to add.
      if (Object.keys(patch).length === 0) continue;
      write(name, { ...header(before), ...patch, metadata: { ...header(before).metadata, ...patch.metadata } });
      patches.push({ path: name });
    }
    assertCovered(file, transformed, object, aspectsOf(before, object));
    // The namespace transformer renames the Namespace itself.
    if (before.metadata.name !== object.metadata.name && object.kind !== "Namespace") {
      const name = file.replace(/\.yaml$/, "-name.yaml");
      write(name, { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name } });
      renames.push({ path: name, target: { kind: object.kind, name: before.metadata.name! }, options: { allowNameChange: true } });
    }
  }
  for (const [file, object] of base) {
    if (wanted.has(file)) continue;
    const name = file.replace(/\.yaml$/, "-delete.yaml");
    write(name, { $patch: "delete", ...header(object) });
    patches.push({ path: name });
  }
  // The user's own, after every generated one: they see the objects as the environment has them.
  const custom: PatchEntry[] = [];
  const objects = [...wanted.values(), ...secretsManifests(target).map((m) => m.object)];
  for (const patch of customPatches(target.environment?.patches ?? [], objects)) {
    write(patch.file, patch.content);
    custom.push({ path: patch.file, target: patch.target });
  }

  const kustomization: Kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: transforms.namespace,
    resources: [`../../${BASE_DIR}`, `../../${secretsDir(environment)}`, ...newResources.sort()],
    images: [transforms.image],
    labels: [{ pairs: transforms.labels, includeSelectors: false, includeTemplates: true }],
    // Renames last: the other patches find their objects by the base's names.
    ...(patches.length + renames.length + custom.length > 0
      ? { patches: [...patches.sort((a, b) => byCodeUnit(a.path, b.path)), ...renames.sort((a, b) => byCodeUnit(a.path, b.path)), ...custom] }
      : {}),
  };
  return [{ path: `${dir}/kustomization.yaml`, format: "yaml", content: kustomization }, ...files.sort((a, b) => byCodeUnit(a.path, b.path))];
}

function byFile(manifests: readonly Manifest[]): Map<string, KubeObject> {
  return new Map(manifests.map(({ component, object }) => [manifestFileName(component, object), object]));
}

/** What a strategic-merge patch needs to find its object: the base's identity. */
function header(object: KubeObject): KubeObject {
  const { name, namespace } = object.metadata;
  return { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
}

function transformsOf(config: Config, target: Target, base: Map<string, KubeObject>, wanted: Map<string, KubeObject>): Transforms {
  const renames = new Map<string, string>();
  for (const [file, object] of wanted) {
    const before = base.get(file);
    if (before && !before.metadata.namespace && object.kind !== "Namespace" && before.metadata.name !== object.metadata.name) {
      renames.set(`${object.kind}/${before.metadata.name}`, object.metadata.name!);
    }
  }
  const { repository, tag } = target.airflow.image;
  return {
    namespace: target.namespace,
    image: { name: config.airflow.image.repository, ...(repository !== config.airflow.image.repository ? { newName: repository } : {}), newTag: tag },
    labels: { "app.kubernetes.io/version": tagVersion(tag) },
    renames,
  };
}

/**
 * Fails when `wanted` differs from the transformed base in anything the overlay does not express:
 * leaving out every patchable aspect, they must be equal.
 */
function assertCovered(file: string, transformed: KubeObject, wanted: KubeObject, aspects: readonly Aspect[]): void {
  if (!equalExcept(transformed, wanted, aspects.flatMap((aspect) => aspect.paths))) {
    throw new Error(`overlay cannot express the environment's ${file}: it differs from the base outside every patch aspect`);
  }
}

/**
 * A model of what the overlay's namespace, images, labels and rename steps do to a base object. It
 * copies only what it changes; the rest is shared with the base object, which it never modifies.
 */
function applyTransforms(object: KubeObject, t: Transforms): KubeObject {
  const metadata = { ...object.metadata, labels: { ...object.metadata.labels, ...t.labels } };
  if (metadata.namespace) metadata.namespace = t.namespace;
  if (object.kind === "Namespace") metadata.name = t.namespace;
  else if (!metadata.namespace) metadata.name = t.renames.get(`${object.kind}/${metadata.name}`) ?? metadata.name;
  const out: KubeObject = { ...object, metadata };
  const subjects = object.subjects as { kind: string; namespace?: string }[] | undefined;
  if (subjects) out.subjects = subjects.map((s) => (s.kind === "ServiceAccount" ? { ...s, namespace: t.namespace } : s));
  if (!isObject(object.spec)) return out;
  const spec: Record<string, unknown> = { ...object.spec };
  out.spec = spec;
  if (spec.storageClassName !== undefined) {
    spec.storageClassName = t.renames.get(`StorageClass/${String(spec.storageClassName)}`) ?? spec.storageClassName;
  }
  if (isObject(spec.template)) spec.template = transformPodTemplate(spec.template, t);
  // A CronJob: the labels transformer also labels the job template, and the pod template sits inside it.
  if (isObject(spec.jobTemplate)) {
    const job: Record<string, unknown> = { ...spec.jobTemplate };
    spec.jobTemplate = job;
    const jobMetadata = (job.metadata ?? {}) as { labels?: Record<string, string> };
    job.metadata = { ...jobMetadata, labels: { ...jobMetadata.labels, ...t.labels } };
    if (isObject(job.spec) && isObject(job.spec.template)) job.spec = { ...job.spec, template: transformPodTemplate(job.spec.template, t) };
  }
  return out;
}

function transformPodTemplate(source: Record<string, unknown>, t: Transforms): Record<string, unknown> {
  const template: Record<string, unknown> = { ...source };
  const templateMetadata = (template.metadata ?? {}) as { labels?: Record<string, string> };
  template.metadata = { ...templateMetadata, labels: { ...templateMetadata.labels, ...t.labels } };
  if (!isObject(template.spec)) return template;
  type Container = { image?: string };
  const pod = { ...(template.spec as { priorityClassName?: string; containers?: Container[]; initContainers?: Container[] }) };
  template.spec = pod;
  if (pod.priorityClassName) pod.priorityClassName = t.renames.get(`PriorityClass/${pod.priorityClassName}`) ?? pod.priorityClassName;
  const retag = (c: Container) =>
    c.image?.startsWith(`${t.image.name}:`) ? { ...c, image: `${t.image.newName ?? t.image.name}:${t.image.newTag}` } : c;
  if (pod.containers) pod.containers = pod.containers.map(retag);
  if (pod.initContainers) pod.initContainers = pod.initContainers.map(retag);
  return template;
}
