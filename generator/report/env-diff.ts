/**
 * `diff <envA> <envB>`: two environments' rendered builds compared object by object. What differs
 * only because the environments are different is not a difference: the environment's name where it
 * appears as a word (`airflow-prod-efs`, `/airflow/prod/fernet-key`) reads as `<env>` and the
 * environment's namespace as `<namespace>`, in names and in values alike.
 */
import { diffLines } from "diff";
import type { KubeDocument } from "../validate/kustomize.js";
import type { Style } from "./style.js";
import { byCodeUnit } from "../shared/order.js";

export interface FieldChange {
  path: string;
  from: string;
  to: string;
  /** For text (airflow.cfg, the pod template): the changed lines, `-` from A and `+` from B. */
  lines?: string[];
}

export interface BuildDiff {
  onlyInA: string[];
  onlyInB: string[];
  differing: { object: string; changes: FieldChange[] }[];
  identical: number;
  /** What was read as a placeholder: each environment's name as `<env>`, its namespace as `<namespace>`. */
  normalised: { env: [string, string]; namespace: [string | undefined, string | undefined] };
  /** Checksum annotations that differ but are not listed (they follow from the changes that are). */
  hiddenChecksums: number;
}

export interface DiffOptions {
  /** List checksum annotations too (they change whenever what they sum changes). */
  checksums?: boolean;
}

const CHECKSUM = /(^|\.)annotations\."?checksum\//;

const ABSENT = "(absent)";

export function diffBuilds(
  a: readonly KubeDocument[],
  envA: string,
  b: readonly KubeDocument[],
  envB: string,
  options: DiffOptions = {},
): BuildDiff {
  const left = index(a.map((o) => normalize(o, envA, namespaceOf(a))));
  const right = index(b.map((o) => normalize(o, envB, namespaceOf(b))));
  const result: BuildDiff = {
    onlyInA: [],
    onlyInB: [],
    differing: [],
    identical: 0,
    normalised: { env: [envA, envB], namespace: [namespaceOf(a), namespaceOf(b)] },
    hiddenChecksums: 0,
  };
  for (const [id, object] of left) {
    const other = right.get(id);
    if (!other) {
      result.onlyInA.push(id);
      continue;
    }
    const all: FieldChange[] = [];
    compare(withoutNamespace(object), withoutNamespace(other), "", all);
    const changes = options.checksums ? all : all.filter((c) => !CHECKSUM.test(c.path));
    result.hiddenChecksums += all.length - changes.length;
    if (changes.length > 0) result.differing.push({ object: id, changes });
    else result.identical++;
  }
  for (const id of right.keys()) if (!left.has(id)) result.onlyInB.push(id);
  result.onlyInA.sort();
  result.onlyInB.sort();
  result.differing.sort((x, y) => byCodeUnit(x.object, y.object));
  return result;
}

/** By kind and name; a build's Namespace is the environment's, whatever it is called. */
function index(objects: readonly KubeDocument[]): Map<string, KubeDocument> {
  return new Map(objects.map((o) => [`${o.kind}/${o.kind === "Namespace" ? "<namespace>" : o.metadata.name}`, o]));
}

function namespaceOf(objects: readonly KubeDocument[]): string | undefined {
  return objects.find((o) => o.kind === "Namespace")?.metadata.name;
}


/** The object with the environment's name (everywhere) and namespace (in namespace fields) replaced by placeholders. */
function normalize(object: KubeDocument, env: string, namespace: string | undefined): KubeDocument {
  const word = new RegExp(`(^|[-/.])${env.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=[-/.]|$)`, "g");
  // The namespace is only replaced where a field holds one: "airflow" may also be a label value.
  const visit = (value: unknown, inNamespaceField = false): unknown => {
    if (typeof value === "string") return inNamespaceField && value === namespace ? "<namespace>" : value.replace(word, "$1<env>");
    if (Array.isArray(value)) return value.map((item) => visit(item, inNamespaceField));
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, k === "namespace" || k === "namespaces")]));
    return value;
  };
  return visit(object) as KubeDocument;
}

function withoutNamespace(o: KubeDocument): KubeDocument {
  const { namespace: _namespace, ...metadata } = o.metadata;
  return { ...o, metadata: { ...metadata, name: "" } } as KubeDocument;
}

function compare(x: unknown, y: unknown, path: string, changes: FieldChange[]): void {
  if (JSON.stringify(x) === JSON.stringify(y)) return;
  if (isRecord(x) && isRecord(y)) {
    for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])]) compare(x[key], y[key], join(path, key), changes);
    return;
  }
  if (isNamedList(x) && isNamedList(y)) {
    for (const name of [...new Set([...x.map((i) => i.name), ...y.map((i) => i.name)])]) {
      compare(x.find((i) => i.name === name), y.find((i) => i.name === name), `${path}[${name}]`, changes);
    }
    return;
  }
  if (typeof x === "string" && typeof y === "string" && (x.includes("\n") || y.includes("\n"))) {
    const parts = diffLines(x, y);
    const removed = parts.filter((p) => p.removed).reduce((n, p) => n + (p.count ?? 0), 0);
    const added = parts.filter((p) => p.added).reduce((n, p) => n + (p.count ?? 0), 0);
    const lines = parts.flatMap((p) => (p.added || p.removed ? p.value.replace(/\n$/, "").split("\n").map((l) => `${p.added ? "+" : "-"} ${l}`) : []));
    changes.push({ path, from: `text, ${removed} line(s) only here`, to: `text, ${added} line(s) only here`, lines });
    return;
  }
  changes.push({ path, from: show(x), to: show(y) });
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${segment}` : segment;
}

function show(value: unknown): string {
  if (value === undefined) return ABSENT;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isNamedList(value: unknown): value is { name: string }[] {
  return Array.isArray(value) && value.length > 0 && value.every((i) => isRecord(i) && typeof i.name === "string");
}

export function buildDiffText(diff: BuildDiff, envA: string, envB: string, style: Style): string[] {
  const lines: string[] = [];
  const list = (title: string, ids: readonly string[], paint: (s: string) => string) => {
    lines.push(style.bold(title));
    lines.push(...(ids.length ? ids.map((id) => `  ${paint(id)}`) : ["  (none)"]));
  };
  list(`only in ${envA}:`, diff.onlyInA, style.red);
  list(`only in ${envB}:`, diff.onlyInB, style.green);
  lines.push(style.bold(`different (${envA} -> ${envB}):`));
  if (diff.differing.length === 0) lines.push("  (none)");
  for (const { object, changes } of diff.differing) {
    lines.push(`  ${object}`);
    for (const c of changes) {
      if (!c.lines) {
        lines.push(`    ${c.path}: ${style.red(c.from)} -> ${style.green(c.to)}`);
        continue;
      }
      lines.push(`    ${c.path}: text (${envA} -> ${envB})`);
      for (const line of c.lines) lines.push(`      ${line.startsWith("+") ? style.green(line) : style.red(line)}`);
    }
  }
  const [nsA, nsB] = diff.normalised.namespace;
  lines.push(
    style.dim(
      `names compared with "${envA}" and "${envB}" read as <env>` +
        (nsA !== undefined || nsB !== undefined ? `, namespaces "${nsA ?? "-"}" and "${nsB ?? "-"}" as <namespace>` : "") +
        (diff.hiddenChecksums > 0 ? `; ${diff.hiddenChecksums} differing checksum annotation(s) not shown (--checksums shows them)` : ""),
    ),
  );
  lines.push(
    `${diff.onlyInA.length} only in ${envA}, ${diff.onlyInB.length} only in ${envB}, ${diff.differing.length} different, ${diff.identical} identical`,
  );
  return lines;
}
