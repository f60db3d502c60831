/**
 * How each rendered object is sent for a server-side dry run: by which request, into which namespace.
 * Pure: the cluster's answers (which kinds it serves, which namespaces are missing) come in as arguments.
 */
import type { KubeDocument } from "./kustomize.js";
import { byCodeUnit } from "../shared/order.js";

/** `apply`: server-side apply, as Argo CD syncs. `create`: a new object, as Argo CD makes a hook it deleted first. */
export type DryRunMethod = "apply" | "create";

export interface DryRunRequest {
  method: DryRunMethod;
  /** The object as sent: namespace set for namespaced kinds (maybe the stand-in), dropped for cluster-scoped ones. */
  body: KubeDocument;
  /** The namespace the object is checked in when it is not its own (which does not exist in the cluster). */
  standIn?: string;
}

const HOOK = "argocd.argoproj.io/hook";
const HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy";

/**
 * A hook Argo CD deletes before it creates it again (the default policy) is checked as a new object;
 * applying it over the previous run's copy would report immutable fields Argo CD never changes.
 */
export function isRecreatedHook(object: KubeDocument): boolean {
  const annotations = object.metadata.annotations ?? {};
  const hook = annotations[HOOK];
  if (!hook || hook === "Skip") return false;
  const policies = (annotations[HOOK_DELETE_POLICY] ?? "BeforeHookCreation").split(",").map((p) => p.trim());
  return policies.includes("BeforeHookCreation");
}

/**
 * The request for one object. `namespaced` is what the cluster's discovery says of the kind (kustomize
 * stamps the overlay's namespace on custom cluster-scoped kinds too); `missingNamespaces` are the
 * namespaces known not to exist, whose objects are sent into `standIn` instead.
 */
export function dryRunRequest(object: KubeDocument, namespaced: boolean, missingNamespaces: ReadonlySet<string>, standIn: string): DryRunRequest {
  const body = structuredClone(object);
  const method: DryRunMethod = isRecreatedHook(object) ? "create" : "apply";
  if (!namespaced) {
    delete body.metadata.namespace;
    return { method, body };
  }
  const own = object.metadata.namespace ?? standIn;
  if (missingNamespaces.has(own) && own !== standIn) {
    body.metadata.namespace = standIn;
    return { method, body, standIn };
  }
  body.metadata.namespace = own;
  return { method, body };
}

/** `group/version` of an apiVersion; the core group is "". */
export function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export interface MissingKind {
  apiVersion: string;
  kind: string;
  /** The API group is not served at all (no CRD of the group installed) rather than only this kind. */
  groupMissing: boolean;
  /** `target Kind/name` of each object that could not be checked. */
  objects: string[];
}

/** One line per kind the cluster does not serve, grouped by API group, for a report that says it once. */
export function missingKindLines(missing: readonly MissingKind[]): string[] {
  const byGroup = new Map<string, MissingKind[]>();
  for (const m of missing) {
    const group = groupVersion(m.apiVersion).group || "core";
    byGroup.set(group, [...(byGroup.get(group) ?? []), m]);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([group, kinds]) => {
      const list = kinds.map((k) => `${k.kind} (${k.apiVersion}, ${k.objects.length} object${k.objects.length === 1 ? "" : "s"})`).join(", ");
      const why = kinds.every((k) => k.groupMissing) ? "the API group is not served" : "the group is served but not these kinds or versions";
      return `${group}: ${list}: ${why}`;
    });
}
