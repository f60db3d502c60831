/**
 * Which files a kustomize build reads, and one digest of them all: the files below its directory and,
 * recursively, below every local directory and at every local file its kustomizations name. A superset
 * is safe (it only costs a rebuild); a remote reference makes the build uncacheable (undefined).
 *
 * Directories several builds read (the base) are listed and digested once per run; a kustomization's
 * names are parsed once per content, remembered in the hash index under the hash of that content.
 */
import { readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import jsyaml from "js-yaml";
import { FileHashIndex, sha256 } from "./file-hashes.js";

const KUSTOMIZATION_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** The directories (every file below each) and the single files a build reads. */
interface Closure {
  dirs: Set<string>;
  files: Set<string>;
}

export class BuildInputs {
  private readonly closures = new Map<string, Closure | undefined>();
  private readonly listings = new Map<string, string[]>();
  private readonly digests = new Map<string, string>();

  constructor(private readonly index: FileHashIndex = new FileHashIndex(undefined)) {}

  /** Every file the build of `dir` may read, or undefined when it reads something remote or unreadable. */
  files(dir: string): Set<string> | undefined {
    const closure = this.closure(resolve(dir));
    if (!closure) return undefined;
    return new Set([...[...closure.dirs].flatMap((d) => this.listing(d)), ...closure.files]);
  }

  /** One digest of the path (relative to `dir`) and content of every file the build of `dir` may read. */
  digest(dir: string): string | undefined {
    const start = resolve(dir);
    const closure = this.closure(start);
    if (!closure) return undefined;
    const parts = [
      ...[...closure.dirs].map((d) => `dir ${relative(start, d)}\0${this.directoryDigest(d)}`),
      ...[...closure.files].map((f) => `file ${relative(start, f)}\0${this.index.hash(f)}`),
    ];
    return sha256(parts.sort().join("\0"));
  }

  /** One digest of the path (relative to `dir`) and content of every file below `dir`. */
  directoryDigest(dir: string): string {
    let digest = this.digests.get(dir);
    if (digest === undefined) {
      const parts = this.listing(dir).map((file) => `${file.slice(dir.length + 1)}\0${this.index.hash(file)}\0`);
      this.digests.set(dir, (digest = sha256(parts.join(""))));
    }
    return digest;
  }

  /** Every file below `dir`, sorted. */
  private listing(dir: string): string[] {
    let files = this.listings.get(dir);
    if (files === undefined) {
      files = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
        .sort();
      this.listings.set(dir, files);
    }
    return files;
  }

  private closure(start: string): Closure | undefined {
    if (this.closures.has(start)) return this.closures.get(start);
    const closure: Closure = { dirs: new Set([start]), files: new Set() };
    this.closures.set(start, closure); // a kustomization that names an ancestor sees what is known so far
    const own = new Set(this.listing(start));
    for (const name of KUSTOMIZATION_NAMES) {
      const kustomization = join(start, name);
      if (!own.has(kustomization)) continue;
      const names = this.index.derived(kustomization, namedPaths);
      if (names === null) return this.uncacheable(start);
      for (const value of names) {
        const target = isAbsolute(value) ? value : resolve(start, value);
        if (own.has(target)) continue; // already below this directory
        const stat = statSync(target, { throwIfNoEntry: false });
        if (!stat) continue;
        if (!stat.isDirectory()) {
          closure.files.add(target);
          continue;
        }
        const nested = this.closure(target);
        if (!nested) return this.uncacheable(start);
        for (const d of nested.dirs) closure.dirs.add(d);
        for (const f of nested.files) closure.files.add(f);
      }
    }
    return closure;
  }

  private uncacheable(start: string): undefined {
    this.closures.set(start, undefined);
    return undefined;
  }
}

/**
 * Every string of a kustomization that may name a local path (for `key=path` entries, the path too),
 * or null when one names a remote resource or the text is not YAML (kustomize will say why).
 */
export function namedPaths(text: string): string[] | null {
  let values: string[];
  try {
    values = strings(jsyaml.load(text));
  } catch {
    return null;
  }
  if (values.some((value) => /^[a-z][a-z0-9+.-]*:\/\/|^git@|^github\.com\//i.test(value))) return null;
  return values.filter((value) => !value.includes("\n")).flatMap((value) => (value.includes("=") ? [value, value.slice(value.indexOf("=") + 1)] : [value]));
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}
