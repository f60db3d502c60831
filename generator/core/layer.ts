/** A Kustomize layer: a directory of one-object files and a kustomization.yaml listing them. */
import type { GeneratedFile, KubeObject } from "./manifest.js";
import { manifestFileName } from "./manifest.js";
import type { Manifest } from "./components/types.js";

export interface Kustomization {
  apiVersion: "kustomize.config.k8s.io/v1beta1";
  kind: "Kustomization";
  [field: string]: unknown;
}

/**
 * Files for a layer: one per manifest, named `<component>-<kind>.yaml`, and a kustomization whose
 * `resources` are exactly those files (plus any extra entries such as other layers), sorted.
 */
export function layerFiles(
  dir: string,
  manifests: readonly Manifest[],
  kustomization: Omit<Kustomization, "apiVersion" | "kind" | "resources"> & { extraResources?: string[] } = {},
): GeneratedFile[] {
  const files = new Map<string, KubeObject>();
  for (const { component, object } of manifests) {
    const name = manifestFileName(component, object);
    if (files.has(name)) throw new Error(`two objects of layer ${dir} map to the same file ${name}`);
    files.set(name, object);
  }
  const { extraResources = [], ...rest } = kustomization;
  const names = [...files.keys()].sort();
  const kustomizationObject: Kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: [...extraResources, ...names],
    ...rest,
  };
  return [
    { path: `${dir}/kustomization.yaml`, format: "yaml", content: kustomizationObject },
    ...names.map((name) => ({ path: `${dir}/${name}`, format: "yaml" as const, content: files.get(name)! })),
  ];
}
