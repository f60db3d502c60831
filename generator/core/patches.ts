/**
 * Strategic-merge patches derived from two renderings of one object: the base's and an environment's.
 * Each aspect names a group of fields (`resources`, `replicas`, ...) that an environment may change;
 * a patch holds exactly one aspect of one object, so its file name says what it changes.
 */
import type { KubeObject } from "./manifest.js";

/**
 * A field path; `*` steps into every item of a list whose items are keyed by `name`; a final `+` stands
 * for the items of such a list that only the environment has (an added container), whole.
 */
type FieldPath = readonly string[];

export interface Aspect {
  name: string;
  paths: readonly FieldPath[];
}

const POD = ["spec", "template"] as const;
/** What a container runs: image, command, arguments and environment (for init containers too). */
const CONTAINER_FIELDS = ["image", "command", "args", "env", "envFrom"] as const;
const POD_ASPECTS: readonly Aspect[] = [
  { name: "pod-annotations", paths: [[...POD, "metadata", "annotations"]] },
  {
    name: "containers",
    paths: (["containers", "initContainers"] as const).flatMap((list) => CONTAINER_FIELDS.map((field) => [...POD, "spec", list, "*", field])),
  },
  {
    name: "resources",
    paths: [
      [...POD, "spec", "containers", "*", "resources"],
      [...POD, "spec", "initContainers", "*", "resources"],
    ],
  },
  {
    name: "placement",
    paths: [
      [...POD, "spec", "affinity"],
      [...POD, "spec", "tolerations"],
      [...POD, "spec", "topologySpreadConstraints"],
      [...POD, "spec", "nodeSelector"],
    ],
  },
  { name: "pod-labels", paths: [[...POD, "metadata", "labels"]] },
  {
    name: "volumes",
    paths: [[...POD, "spec", "volumes"], ...(["containers", "initContainers"] as const).map((list) => [...POD, "spec", list, "*", "volumeMounts"])],
  },
  {
    name: "pod",
    paths: [
      [...POD, "spec", "imagePullSecrets"],
      [...POD, "spec", "priorityClassName"],
      [...POD, "spec", "terminationGracePeriodSeconds"],
    ],
  },
  {
    name: "added-containers",
    paths: [
      [...POD, "spec", "containers", "+"],
      [...POD, "spec", "initContainers", "+"],
    ],
  },
];

/** A CronJob's pod template sits under its job template. */
const CRON_POD_ASPECTS: readonly Aspect[] = POD_ASPECTS.map(({ name, paths }) => ({
  name,
  paths: paths.map((path) => ["spec", "jobTemplate", ...path]),
}));

/** The aspects an environment may change, by kind. Any other difference is a generator bug. */
const ASPECTS_BY_KIND: Readonly<Record<string, readonly Aspect[]>> = {
  Deployment: [{ name: "replicas", paths: [["spec", "replicas"]] }, { name: "annotations", paths: [["metadata", "annotations"]] }, ...POD_ASPECTS],
  // The migration's deadline is a per-environment field (a large database's upgrade needs longer).
  Job: [{ name: "deadline", paths: [["spec", "activeDeadlineSeconds"]] }, ...POD_ASPECTS],
  CronJob: [{ name: "schedule", paths: [["spec", "schedule"]] }, ...CRON_POD_ASPECTS],
  ServiceAccount: [
    { name: "iam", paths: [["metadata", "annotations"]] },
    { name: "token", paths: [["automountServiceAccountToken"]] },
  ],
  Ingress: [
    { name: "annotations", paths: [["metadata", "annotations"]] },
    { name: "rules", paths: [["spec", "ingressClassName"], ["spec", "rules"], ["spec", "tls"]] },
  ],
  NetworkPolicy: [{ name: "rules", paths: [["spec", "ingress"], ["spec", "egress"]] }],
  StorageClass: [{ name: "parameters", paths: [["parameters"]] }],
  PersistentVolumeClaim: [{ name: "size", paths: [["spec", "resources", "requests", "storage"]] }],
  ServiceMonitor: [
    { name: "labels", paths: [["metadata", "labels"]] },
    { name: "endpoints", paths: [["spec", "endpoints"]] },
  ],
  PrometheusRule: [
    { name: "labels", paths: [["metadata", "labels"]] },
    { name: "rules", paths: [["spec", "groups"]] },
  ],
};

/** ConfigMaps get one aspect per data key: `airflow.cfg` becomes `airflow-cfg`, `pod_template_file.yaml` `pod-template-file`. */
export function aspectsOf(object: KubeObject, other: KubeObject): readonly Aspect[] {
  if (object.kind === "ConfigMap") {
    const keys = new Set([...Object.keys(dataOf(object)), ...Object.keys(dataOf(other))]);
    return [...keys].sort().map((key) => ({ name: key.replace(/\.ya?ml$/, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase(), paths: [["data", key]] }));
  }
  return ASPECTS_BY_KIND[object.kind] ?? [];
}

function dataOf(object: KubeObject): Record<string, unknown> {
  return (object.data as Record<string, unknown> | undefined) ?? {};
}

/** The fields of `paths` in `object`, in the object's own shape (list items keep their `name`); values are shared, not copied. */
export function pick(object: unknown, paths: readonly FieldPath[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) copyPath(object, out, path);
  return out;
}

function copyPath(from: unknown, to: Record<string, unknown>, path: FieldPath): void {
  const [head, ...rest] = path;
  if (!isObject(from) || head === undefined || !(head in from)) return;
  const value = from[head];
  if (rest.length === 0) {
    to[head] = value;
  } else if (rest[0] === "+" && Array.isArray(value)) {
    // Compared by the names in the list: the items both have are other aspects' business.
    to[head] = value.filter(isObject).map((item) => item.name);
  } else if (rest[0] === "*" && Array.isArray(value)) {
    // Several paths may step into the same list: their fields meet in one item per name.
    const items = Array.isArray(to[head]) ? (to[head] as Record<string, unknown>[]) : [];
    for (const item of value.filter(isObject)) {
      let picked = items.find((p) => p.name === item.name);
      if (!picked) items.push((picked = { name: item.name }));
      copyPath(item, picked, rest.slice(1));
    }
    if (items.length > 0) to[head] = items;
  } else {
    const child = isObject(to[head]) ? (to[head] as Record<string, unknown>) : {};
    copyPath(value, child, rest);
    if (Object.keys(child).length > 0) to[head] = child;
  }
}

/** Deep equality of two objects, leaving out the fields of `paths` (in both). */
export function equalExcept(a: unknown, b: unknown, paths: readonly FieldPath[]): boolean {
  if (paths.length === 0) return deepEqual(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    const tails = paths.filter((p) => p[0] === "*").map((p) => p.slice(1));
    if (!Array.isArray(a) || !Array.isArray(b)) return false;
    // Items only `b` has are the `+` aspect's; those of `a` must all stay, in their order.
    const names = new Set(a.map(nameOf));
    const other = paths.some((p) => p[0] === "+") ? b.filter((item) => names.has(nameOf(item))) : b;
    if (a.length !== other.length) return false;
    return a.every((item, i) => equalExcept(item, other[i], tails));
  }
  if (!isObject(a) || !isObject(b)) return deepEqual(a, b);
  const skipped = new Set(paths.filter((p) => p.length === 1).map((p) => p[0]!));
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !skipped.has(k)));
  for (const key of keys) {
    const tails = paths.filter((p) => p.length > 1 && p[0] === key).map((p) => p.slice(1));
    if (!equalExcept(a[key], b[key], tails)) return false;
  }
  return true;
}

/**
 * The strategic-merge patch that turns the aspect's fields in `from` into those in `to`. A field the
 * environment drops becomes null at its own path (which deletes just it); maps merge key by key;
 * named list items merge by name; anything else is replaced whole.
 */
export function aspectPatch(from: unknown, to: unknown, paths: readonly FieldPath[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) patchPath(from, to, out, path);
  return out;
}

function patchPath(from: unknown, to: unknown, out: Record<string, unknown>, path: FieldPath): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const was = isObject(from) ? from[head] : undefined;
  const is = isObject(to) ? to[head] : undefined;
  if (rest.length === 0) {
    if (is !== undefined) out[head] = patchValue(was, is);
    else if (was !== undefined) out[head] = null;
    return;
  }
  if (rest[0] === "+") {
    const before = new Set((Array.isArray(was) ? was.filter(isObject) : []).map((item) => item.name));
    const added = (Array.isArray(is) ? is.filter(isObject) : []).filter((item) => !before.has(item.name));
    if (added.length > 0) out[head] = [...(Array.isArray(out[head]) ? (out[head] as unknown[]) : []), ...added];
    return;
  }
  if (rest[0] === "*") {
    const before = Array.isArray(was) ? was.filter(isObject) : [];
    const items = Array.isArray(out[head]) ? (out[head] as Record<string, unknown>[]) : [];
    for (const item of Array.isArray(is) ? is.filter(isObject) : []) {
      const existing = items.find((p) => p.name === item.name);
      const patched: Record<string, unknown> = existing ?? { name: item.name };
      patchPath(before.find((b) => b.name === item.name), item, patched, rest.slice(1));
      if (!existing && Object.keys(patched).length > 1) items.push(patched);
    }
    if (items.length > 0) out[head] = items;
    return;
  }
  const child = isObject(out[head]) ? (out[head] as Record<string, unknown>) : {};
  patchPath(was, is, child, rest);
  if (Object.keys(child).length > 0) out[head] = child;
}

/** The patch value turning one field's value into another: maps recursively, named lists by name. */
function patchValue(from: unknown, to: unknown): unknown {
  if (isObject(from) && isObject(to)) {
    const out: Record<string, unknown> = {};
    for (const key of [...new Set([...Object.keys(from), ...Object.keys(to)])]) {
      out[key] = !(key in to) ? null : key in from ? patchValue(from[key], to[key]) : to[key];
    }
    return out;
  }
  if (isNamedList(from) && isNamedList(to)) {
    return to.map((item) => {
      const before = from.find((b) => b.name === item.name);
      return before ? patchValue(before, item) : item;
    });
  }
  return to;
}

function isNamedList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.every((item) => isObject(item) && typeof item.name === "string");
}

/** Deep equality of JSON data, regardless of key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a).filter((k) => a[k] !== undefined);
  return keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => deepEqual(a[k], b[k]));
}

function nameOf(item: unknown): unknown {
  return isObject(item) ? item.name : undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
