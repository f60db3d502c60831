/**
 * An environment's raw Kustomize patches (`environments.<env>.patches`), as overlay files and entries
 * of its kustomization, and the objects each one's target selects, the way Kustomize selects them.
 */
import type { OverlayPatchConfig } from "../config/pods-schema.js";
import type { KubeObject } from "./manifest.js";

export interface CustomPatch {
  file: string;
  content: object;
  target: OverlayPatchConfig["target"];
}

export function customPatchFile(index: number): string {
  return `custom-patch-${String(index + 1).padStart(2, "0")}.yaml`;
}

/** Kustomize matches a target's name (and namespace) as a regular expression against the whole name. */
function wholeMatch(pattern: string, value: string | undefined): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value ?? "");
  } catch {
    return pattern === value;
  }
}

function labelSelectorMatches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(",").every((term) => {
    const t = term.trim();
    const unequal = /^([^!=]+)!=(.*)$/.exec(t);
    if (unequal) return labels?.[unequal[1]!.trim()] !== unequal[2]!.trim();
    const equal = /^([^=]+)==?(.*)$/.exec(t);
    if (equal) return labels?.[equal[1]!.trim()] === equal[2]!.trim();
    if (t.startsWith("!")) return labels?.[t.slice(1)] === undefined;
    return labels?.[t] !== undefined;
  });
}

export function targetSelects(target: OverlayPatchConfig["target"], object: KubeObject): boolean {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  return (
    object.kind === target.kind &&
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.name === undefined || wholeMatch(target.name, object.metadata.name)) &&
    (target.labelSelector === undefined || labelSelectorMatches(target.labelSelector, object.metadata.labels))
  );
}

/**
 * The files of the patches. A strategic-merge patch names an object of the kind it patches (Kustomize
 * needs one to parse it) and, with a target, is applied to every object the target selects.
 */
export function customPatches(patches: readonly OverlayPatchConfig[], objects: readonly KubeObject[]): CustomPatch[] {
  return patches.map((patch, index) => {
    const file = customPatchFile(index);
    if (patch.jsonPatch) return { file, content: patch.jsonPatch, target: patch.target };
    const first = objects.find((o) => targetSelects(patch.target, o));
    const { metadata, ...fields } = (patch.strategicMerge ?? {}) as { metadata?: Record<string, unknown> };
    const content = {
      apiVersion: first?.apiVersion ?? "v1",
      kind: patch.target.kind,
      metadata: { ...metadata, name: first?.metadata.name ?? "unmatched" },
      ...fields,
    };
    return { file, content, target: patch.target };
  });
}
