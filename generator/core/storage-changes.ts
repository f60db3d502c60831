/**
 * Storage that cannot change in place. A StorageClass's provisioner and parameters are immutable, a bound
 * claim keeps its class, and an EFS claim cannot be resized (the driver has no volume expansion; EFS grows
 * by itself and never enforces the size). A sync that tries fails on those objects, so gen compares what
 * the tree holds with what it would write, per environment, and says which config field did it.
 * Pure: file texts in, changes out.
 */
import jsyaml from "js-yaml";
import type { ConfigIssue } from "../config/issues.js";

interface StorageObject {
  kind: string;
  metadata?: { name?: string };
  provisioner?: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  spec?: { storageClassName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } } };
}

const KINDS = ["StorageClass", "PersistentVolumeClaim"];

/** The StorageClass and claims of `paths`, merged in order into `objects`. */
function collect(files: ReadonlyMap<string, string>, paths: readonly string[], objects: Map<string, StorageObject>): Map<string, StorageObject> {
  for (const path of paths) {
    const text = files.get(path)!;
    if (!KINDS.some((kind) => text.includes(`kind: ${kind}`))) continue;
    const object = jsyaml.load(text) as StorageObject | undefined;
    if (!object || !KINDS.includes(object.kind)) continue;
    // One StorageClass per environment (the overlay renames it); claims keep their names.
    const key = object.kind === "StorageClass" ? "StorageClass" : `PersistentVolumeClaim ${object.metadata?.name}`;
    objects.set(key, merge(objects.get(key), object));
  }
  return objects;
}

/** Each environment's StorageClass and claims as its build makes them: the base's objects with the overlay's patches merged in. */
function effective(files: ReadonlyMap<string, string>): (environment: string) => Map<string, StorageObject> {
  const paths = [...files.keys()].sort();
  const base = collect(files, paths.filter((p) => /^base\/[^/]+\.yaml$/.test(p)), new Map());
  const overlays = new Map<string, string[]>();
  for (const path of paths) {
    const env = /^overlays\/([^/]+)\/[^/]+\.yaml$/.exec(path)?.[1];
    if (env) overlays.set(env, [...(overlays.get(env) ?? []), path]);
  }
  // An environment the tree does not have yet has nothing to change.
  return (environment) => (overlays.has(environment) ? collect(files, overlays.get(environment)!, structuredClone(base)) : new Map());
}

function merge<T>(into: T | undefined, patch: T): T {
  if (into === undefined || typeof into !== "object" || typeof patch !== "object" || Array.isArray(patch) || patch === null) return patch;
  const out: Record<string, unknown> = { ...(into as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) out[key] = merge(out[key], value);
  return out as T;
}

const claimField = (name: string, claims: { dags: string; logs: string }) => (name === claims.dags ? "storage.dags.size" : name === claims.logs ? "storage.logs.size" : "storage");

/**
 * Each change the cluster would refuse, as an issue on the config field behind it (`environments.<env>.…`
 * when the environment sets it, else the top-level field).
 */
export function storageChanges(
  current: ReadonlyMap<string, string>,
  desired: ReadonlyMap<string, string>,
  environments: readonly { name: string; storageClass: string; overrides: (field: string) => boolean }[],
  claims: { dags: string; logs: string },
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const [beforeOf, afterOf] = [effective(current), effective(desired)];
  for (const { name: env, storageClass, overrides } of environments) {
    const before = beforeOf(env);
    const after = afterOf(env);
    const at = (field: string) => (overrides(field) ? `environments.${env}.${field}` : field);
    const oldClass = before.get("StorageClass");
    const newClass = after.get("StorageClass");
    // A renamed class (the claims name another) is a new object, not a change.
    const className = (objects: Map<string, StorageObject>) => objects.get(`PersistentVolumeClaim ${claims.dags}`)?.spec?.storageClassName;
    if (oldClass && newClass && className(before) === className(after)) {
      for (const field of ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"] as const) {
        const [from, to] = [JSON.stringify(oldClass[field]), JSON.stringify(newClass[field])];
        if (from === to) continue;
        const fileSystem = field === "parameters" && oldClass.parameters?.fileSystemId !== newClass.parameters?.fileSystemId;
        issues.push({
          path: at(fileSystem ? "storage.efs.fileSystemId" : "storage.efs"),
          message:
            `${env}'s StorageClass ${storageClass} would change its ${field}` +
            (fileSystem ? ` (fileSystemId ${oldClass.parameters?.fileSystemId} to ${newClass.parameters?.fileSystemId})` : "") +
            ", which Kubernetes refuses, and bound claims keep their volumes: to move, delete the StorageClass and the claims in the cluster " +
            "(reclaimPolicy Retain keeps the old data), then run gen with --storage-change",
        });
      }
    }
    for (const [key, old] of before) {
      const next = after.get(key);
      if (!key.startsWith("PersistentVolumeClaim ") || !next) continue;
      const claim = key.slice("PersistentVolumeClaim ".length);
      const [fromClass, toClass] = [old.spec?.storageClassName, next.spec?.storageClassName];
      if (fromClass !== toClass) {
        issues.push({
          path: at("name"),
          message: `${env}'s claim ${claim} would move from StorageClass ${fromClass} to ${toClass}, which Kubernetes refuses for a bound claim: keep the names, or delete the claim in the cluster first and run gen with --storage-change`,
        });
      }
      const [from, to] = [old.spec?.resources?.requests?.storage, next.spec?.resources?.requests?.storage];
      if (from !== to) {
        issues.push({
          path: at(claimField(claim, claims)),
          message:
            `${env}'s claim ${claim} is ${from} in the tree and would become ${to}: an EFS claim cannot be resized (the driver has no volume ` +
            `expansion; EFS grows by itself and never enforces the size), so the sync would fail: keep ${from}, or delete the claim in the cluster and run gen with --storage-change`,
        });
      }
    }
  }
  return issues;
}
