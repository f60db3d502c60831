/**
 * The validate cache: each build's verdict, stored under the content address of everything that
 * decides it — every file the build reads, the kustomize binary and its version, and the validator's
 * own code and dependencies. A different input is a different address, so a stale entry is never
 * found; an entry that does not read back whole and for its own address is a miss. Failures are
 * stored like passes, so the cache can only repeat a verdict, never turn a failure into a pass.
 *
 * It lives outside the repository, in ${XDG_CACHE_HOME:-$HOME/.cache}/airflow-gitops/validate, with the
 * stat-keyed index of file hashes (file-hashes.ts) that spares reading unchanged files.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { BuildInputs } from "./build-inputs.js";
import { FileHashIndex, sha256 } from "./file-hashes.js";
import { kustomizeCommand } from "./kustomize.js";
import { CacheSeal } from "./cache-seal.js";

/** Bump when the entry format changes. */
const FORMAT = 3;

export interface Verdict<P> {
  objects: number;
  problems: P[];
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airflow-gitops", "validate");
}

export class ValidateCache<P> {
  private readonly seal: CacheSeal;

  constructor(
    readonly dir: string,
    /** A directory of strict schemas the builds are also checked against: every file in it is an input too. */
    private readonly schemasDir?: string,
  ) {
    this.seal = CacheSeal.forDir(dir);
  }

  /**
   * The addresses of the builds' verdicts, in order; undefined for a build that reads something that
   * cannot be hashed (a remote resource). Each call looks at the files afresh (through the index), so
   * asking again after the builds tells whether a file changed while they ran. The tool is asked its
   * version while the files are examined.
   */
  async keys(root: string, targets: readonly string[]): Promise<(string | undefined)[]> {
    const environment = environmentKey();
    const index = new FileHashIndex(join(this.dir, "file-hashes.json"), { derivedBy: validatorVersion(), seal: this.seal });
    const inputs = new BuildInputs(index);
    const digests = targets.map((target) => inputs.digest(join(root, target)));
    const schemas = this.schemasDir ? inputs.directoryDigest(resolve(this.schemasDir)) : "";
    index.save();
    const tools = await environment;
    return digests.map((digest, i) => digest && sha256(`${FORMAT}\0${tools}\0${schemas}\0${targets[i]}\0${digest}`));
  }

  get(key: string): Verdict<P> | undefined {
    try {
      const text = this.seal.open(readFileSync(this.path(key, "json"), "utf8"));
      if (text === undefined) return undefined;
      const entry = JSON.parse(text) as { key?: string; verdict?: Verdict<P> };
      const verdict = entry.verdict;
      if (entry.key !== key || !verdict || typeof verdict.objects !== "number" || !Array.isArray(verdict.problems)) return undefined;
      return verdict;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores a verdict and, beside it, the build it was reached on; each written beside its place and
   * renamed, so a reader never sees half an entry.
   */
  set(key: string, verdict: Verdict<P>, build: string): void {
    const sealed = this.seal.seal(JSON.stringify({ key, verdict }));
    if (sealed === undefined) return;
    writeWhole(this.path(key, "yaml"), build);
    writeWhole(this.path(key, "json"), sealed);
  }

  private path(key: string, extension: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.${extension}`);
  }
}

function writeWhole(path: string, text: string): void {
  const staging = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(staging, text);
    renameSync(staging, path);
  } catch {
    // A cache that cannot be written only costs time.
    rmSync(staging, { force: true });
  }
}

const execFileAsync = promisify(execFile);

/** Per process, by the tool's binary (path and stat): asking its version costs a process start. */
const environmentKeys = new Map<string, Promise<string>>();

/** The kustomize binary and its version, and the validator's code and locked dependencies. */
function environmentKey(): Promise<string> {
  const [command, args] = kustomizeCommand();
  const binary = whichBinary(command);
  const stat = binary ? statSync(binary, { bigint: true }) : undefined;
  const tool = `${command} ${args.join(" ")}\0${binary}\0${stat?.size}:${stat?.mtimeNs}:${stat?.ctimeNs}:${stat?.ino}:${stat?.dev}`;
  let key = environmentKeys.get(tool);
  if (key === undefined) {
    const version = execFileAsync(command, command === "kustomize" ? ["version"] : ["version", "--client", "-o", "json"], { encoding: "utf8" });
    key = version.then(({ stdout }) => sha256(`${tool}\0${stdout}\0${validatorVersion()}`));
    environmentKeys.set(tool, key);
    key.catch(() => environmentKeys.delete(tool));
  }
  return key;
}

/** The executable's real path (a symlink's target, whose stat changes when the tool is replaced). */
function whichBinary(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, command);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

let validatorDigest: string | undefined;

/** A digest of the validator: the project's version, its lock file and the code of generator/validate (bundled or not); once per process. */
export function validatorVersion(): string {
  if (validatorDigest !== undefined) return validatorDigest;
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const hash = createHash("sha256");
  for (const file of ["package.json", "package-lock.json"]) if (existsSync(join(root, file))) hash.update(readFileSync(join(root, file)));
  for (const dir of [join(root, "generator", "validate"), join(root, "generator", "config")]) {
    for (const file of filesBelow(dir).sort()) hash.update(`${relative(root, file)}\0`).update(readFileSync(file));
  }
  return (validatorDigest = hash.digest("hex"));
}

/** Every file the build of `dir` may read (see BuildInputs); undefined when it names a remote resource. */
export function inputFiles(dir: string): Set<string> | undefined {
  return new BuildInputs().files(dir);
}

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Removes the whole cache (for tests and for users who want the space back). */
export function clearCache(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
