/**
 * Which files of the tree make up a rendered object: the resource file and the patches of the
 * kustomizations a build reads, so a rejection names the file to change (or the config it came from).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import jsyaml from "js-yaml";

export interface SourceFile {
  /** Relative to the root of the tree. */
  file: string;
  docs: Record<string, any>[];
  /** A patch's `target` selector, when it names what it patches that way. */
  target?: { kind?: string; name?: string };
}

/** Every resource and patch file a kustomization reads, following directory resources. */
export function kustomizationSources(root: string, dir: string, seen = new Set<string>()): SourceFile[] {
  const file = join(dir, "kustomization.yaml");
  if (seen.has(dir) || !existsSync(file)) return [];
  seen.add(dir);
  const k = (jsyaml.load(readFileSync(file, "utf8"), { schema: jsyaml.CORE_SCHEMA }) ?? {}) as Record<string, any>;
  const out: SourceFile[] = [];
  const read = (path: string, target?: SourceFile["target"]) => {
    const full = join(dir, path);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) return void out.push(...kustomizationSources(root, full, seen));
    const docs = jsyaml.loadAll(readFileSync(full, "utf8"), undefined, { schema: jsyaml.CORE_SCHEMA }).filter((d) => d && typeof d === "object") as Record<string, any>[];
    out.push({ file: relative(root, full), docs, ...(target ? { target } : {}) });
  };
  for (const r of [...(k.resources ?? []), ...(k.components ?? [])]) if (typeof r === "string") read(r);
  for (const p of k.patches ?? []) if (typeof p?.path === "string") read(p.path, p.target);
  for (const p of k.patchesStrategicMerge ?? []) if (typeof p === "string") read(p);
  return out;
}

/**
 * The files among `sources` that define the object of that kind and name and, of them, those that
 * define the most of `pointer` (the rejected field): the file to change.
 */
export function sourcesOf(object: { kind: string; metadata: { name: string } }, pointer: string, sources: readonly SourceFile[]): string[] {
  const segments = pointer.split("/").slice(1).filter(Boolean).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const scored: { file: string; depth: number; order: number }[] = [];
  for (const [order, source] of sources.entries()) {
    const targeted = source.target && source.target.kind === object.kind && source.target.name === object.metadata.name;
    const docs = source.docs.filter((d) => targeted || (d.kind === object.kind && d.metadata?.name === object.metadata.name));
    if (docs.length === 0) continue;
    scored.push({ file: source.file, depth: Math.max(...docs.map((d) => depthDefined(d, object, segments))), order });
  }
  const deepest = Math.max(...scored.map((s) => s.depth));
  // For a field, the later file first: patches apply after resources, an overlay's after its bases'.
  // For the whole object, the resource first.
  return scored
    .filter((s) => s.depth === deepest)
    .sort((a, b) => (deepest > 0 ? b.order - a.order : a.order - b.order))
    .map((s) => s.file);
}

/** How many leading segments of the path `doc` (a resource or patch) defines, matching list entries by name. */
function depthDefined(doc: unknown, rendered: unknown, segments: readonly string[]): number {
  let node = doc;
  let full = rendered;
  let depth = 0;
  for (const segment of segments) {
    if (Array.isArray(node) && Array.isArray(full)) {
      const wanted = full[Number(segment)];
      const name = wanted && typeof wanted === "object" ? (wanted as { name?: unknown }).name : undefined;
      node = name === undefined ? node[Number(segment)] : node.find((item) => item && typeof item === "object" && item.name === name);
      full = wanted;
    } else if (node && typeof node === "object" && !Array.isArray(node) && segment in node) {
      node = (node as Record<string, unknown>)[segment];
      full = full && typeof full === "object" ? (full as Record<string, unknown>)[segment] : undefined;
    } else return depth;
    if (node === undefined) return depth;
    depth++;
  }
  return depth;
}

