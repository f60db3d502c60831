/**
 * The validate cache: each build's verdict, stored under the content address of everything that
 * decides it — every file the build reads, the kustomize binary and its version, and the validator's
 * own code and dependencies. A different input is a different address, so a stale entry is never
 * found; an entry that does not read back whole and for its own address is a miss. Failures are
 * stored like passes, so the cache can only repeat a verdict, never turn a failure into a pass.
 *
 * It lives outside the repository, in ${XDG_CACHE_HOME:-$HOME/.cache}/airflow-gitops/validate.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import jsyaml from "js-yaml";
import { kustomizeCommand } from "./kustomize.js";

/** Bump when the entry format changes. */
const FORMAT = 1;

export interface Verdict<P> {
  objects: number;
  problems: P[];
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airflow-gitops", "validate");
}

export class ValidateCache<P> {
  private readonly fileHashes = new Map<string, string>();
  private readonly closures = new Map<string, Set<string> | undefined>();
  private environmentKey: string | undefined;

  constructor(
    readonly dir: string,
    /** Anything else the verdict depends on (e.g. the strict schema directory's identity). */
    private readonly extra: string = "",
  ) {}

  /** The address of a build's verdict, or undefined when the build reads something that cannot be hashed (a remote resource). */
  key(target: string, buildDir: string): string | undefined {
    const files = inputFiles(buildDir, this.closures);
    if (!files) return undefined;
    const hash = createHash("sha256").update(`${FORMAT}\0${this.environment()}\0${this.extra}\0${target}\0`);
    for (const file of [...files].sort()) hash.update(`${relative(buildDir, file)}\0${this.fileHash(file)}\0`);
    return hash.digest("hex");
  }

  get(key: string): Verdict<P> | undefined {
    try {
      const entry = JSON.parse(readFileSync(this.path(key), "utf8")) as { key?: string; verdict?: Verdict<P> };
      const verdict = entry.verdict;
      if (entry.key !== key || !verdict || typeof verdict.objects !== "number" || !Array.isArray(verdict.problems)) return undefined;
      return verdict;
    } catch {
      return undefined;
    }
  }

  /** Stores a verdict and the build it was reached on; written beside its place and renamed, so a reader never sees half an entry. */
  set(key: string, verdict: Verdict<P>, build: string): void {
    try {
      const path = this.path(key);
      mkdirSync(dirname(path), { recursive: true });
      const staging = `${path}.${process.pid}.tmp`;
      writeFileSync(staging, JSON.stringify({ key, verdict, build }));
      renameSync(staging, path);
    } catch {
      // A cache that cannot be written only costs time.
    }
  }

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  private fileHash(file: string): string {
    let hash = this.fileHashes.get(file);
    if (hash === undefined) this.fileHashes.set(file, (hash = createHash("sha256").update(readFileSync(file)).digest("hex")));
    return hash;
  }

  /** The kustomize binary and its version, and the validator's code and locked dependencies. */
  private environment(): string {
    if (this.environmentKey === undefined) {
      const [command, args] = kustomizeCommand();
      const binary = whichBinary(command);
      const stat = binary ? statSync(binary) : undefined;
      const version = execFileSync(command, command === "kustomize" ? ["version"] : ["version", "--client", "-o", "json"], { encoding: "utf8" });
      this.environmentKey = createHash("sha256")
        .update(`${command} ${args.join(" ")}\0${binary}\0${stat?.size}\0${stat?.mtimeMs}\0${version}\0${validatorVersion()}`)
        .digest("hex");
    }
    return this.environmentKey;
  }
}

function whichBinary(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A digest of the validator: the project's version, its lock file and the code of generator/validate (bundled or not). */
export function validatorVersion(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const hash = createHash("sha256");
  for (const file of ["package.json", "package-lock.json"]) if (existsSync(join(root, file))) hash.update(readFileSync(join(root, file)));
  for (const dir of [join(root, "generator", "validate"), join(root, "generator", "config")]) {
    for (const file of filesBelow(dir).sort()) hash.update(`${relative(root, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/**
 * Every file a kustomize build of `dir` may read: the files of its directory and, recursively, every
 * local file or directory a kustomization names. A superset is safe (it only costs a rebuild); a
 * remote reference makes the build uncacheable (undefined). `memo` shares the closures of directories
 * several builds read (the base) within one run.
 */
export function inputFiles(dir: string, memo = new Map<string, Set<string> | undefined>()): Set<string> | undefined {
  const start = resolve(dir);
  if (memo.has(start)) return memo.get(start);
  const files = new Set<string>();
  memo.set(start, files); // a kustomization that names an ancestor sees what is known so far
  for (const file of filesBelow(start)) files.add(file);
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const kustomization = join(start, name);
    if (!existsSync(kustomization)) continue;
    for (const value of strings(jsyaml.load(readFileSync(kustomization, "utf8")))) {
      if (/^[a-z][a-z0-9+.-]*:\/\/|^git@|^github\.com\//i.test(value)) {
        memo.set(start, undefined);
        return undefined;
      }
      if (value.includes("\n")) continue;
      const target = isAbsolute(value) ? value : resolve(start, value);
      const stat = statSync(target, { throwIfNoEntry: false });
      if (!stat) continue;
      if (!stat.isDirectory()) {
        files.add(target);
        continue;
      }
      const nested = inputFiles(target, memo);
      if (!nested) {
        memo.set(start, undefined);
        return undefined;
      }
      for (const file of nested) files.add(file);
    }
  }
  return files;
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What identifies a directory of strict schemas for the cache: every file's path, size and modification time. */
export function directoryIdentity(dir: string): string {
  const hash = createHash("sha256").update(resolve(dir));
  for (const file of filesBelow(dir).sort()) {
    const stat = statSync(file);
    hash.update(`\0${relative(dir, file)}\0${stat.size}\0${stat.mtimeMs}`);
  }
  return hash.digest("hex");
}

/** Removes the whole cache (for tests and for users who want the space back). */
export function clearCache(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
