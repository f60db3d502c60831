/**
 * Builds programs of an upstream Go module inside that module's own source, so its go.mod, go.sum and
 * replaces apply (Argo CD, KEDA, Karpenter's kwok provider): `go mod download` unpacks the source into the
 * module cache, a writable copy is built, and the binaries go into the cache keyed by the recipe. A build
 * writes into a fresh directory moved into place at the end, so an interrupted one leaves no cache entry.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BuildError, cacheRoot } from "./binaries.js";
import { withBuildLock } from "./build-lock.js";
import { moduleDir } from "./crds.js";

const execFileAsync = promisify(execFile);

export interface SourceBuild {
  /** The cache entry's prefix and the name in messages (`argocd`, `keda`). */
  name: string;
  module: string;
  version: string;
  /** `GOTOOLCHAIN` for every go command on this module, when its go.mod asks for a newer Go than PATH has. */
  toolchain?: string;
  /** Package paths relative to the module root; each binary is named after its directory (`./cmd/adapter` → `adapter`). */
  packages: readonly string[];
  ldflags: string;
  /** Build tags (`-tags`), as the module's own Makefile or docs name them. */
  tags?: readonly string[];
  /** Binaries renamed after the build (`{ cmd: "argocd" }` for a package at `./cmd`). */
  rename?: Readonly<Record<string, string>>;
  /**
   * Literal replacements in the copy's source, each of which must match exactly once (an upstream change
   * that moves the line fails the build instead of building something else).
   */
  patches?: readonly { file: string; from: string; to: string }[];
  /** `go mod edit` arguments applied to the copy before building (a replace the module zip cannot satisfy). */
  edits?: readonly string[];
  /** What the cache key is made of; the whole recipe when absent. */
  key?: unknown;
}

const FLAGS = ["-p", "2", "-trimpath"];
const GOFLAGS = "-mod=mod -buildvcs=false";

/** `cluster-bin/<name>-<version>-<hash of the recipe>/`: one entry per program set, so each builds alone. */
export function sourceBuildDir(build: SourceBuild): string {
  const recipe = build.key ?? { ...build, flags: FLAGS, goflags: GOFLAGS };
  const hash = createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 12);
  return join(cacheRoot(), "cluster-bin", `${build.name}-${build.version}-${hash}`);
}

/** The directory holding the build's binaries, building them when the cache has none. */
export async function ensureSourceBuild(build: SourceBuild, log: (line: string) => void = () => {}): Promise<string> {
  const dir = sourceBuildDir(build);
  const built = () => existsSync(join(dir, "complete"));
  if (built()) return dir;
  return withBuildLock(cacheRoot(), log, async () => (built() ? dir : buildInPlace(build, dir, log)));
}

async function buildInPlace(build: SourceBuild, dir: string, log: (line: string) => void): Promise<string> {
  const probeGo = spawnSync("go", ["version"], { encoding: "utf8" });
  if (probeGo.error || probeGo.status !== 0) throw new BuildError(`the Go toolchain (\`go\`) is needed to build ${build.name}; install it and put it on PATH`);
  // GOWORK=off: a module that ships a go.work (Prometheus) is built by its go.mod alone, as a dependency would be.
  const env = { ...process.env, ...(build.toolchain ? { GOTOOLCHAIN: build.toolchain } : {}), GOFLAGS, GOWORK: "off", CGO_ENABLED: "0" };
  const source = moduleDir(build.module, build.version, build.toolchain);
  const work = mkdtempSync(join(tmpdir(), `${build.name}-src-`));
  const staging = `${dir}.build-${process.pid}`;
  const failedLog = join(cacheRoot(), "cluster-bin", `${build.name}.build.log`);
  const started = Date.now();
  try {
    cpSync(source, work, { recursive: true });
    // The module cache is read-only; go.mod and go.sum are edited in the copy.
    execFileSync("chmod", ["-R", "u+w", work]);
    for (const patch of build.patches ?? []) {
      const file = join(work, patch.file);
      const text = readFileSync(file, "utf8");
      if (text.split(patch.from).length !== 2) throw new BuildError(`${build.name} ${build.version}: ${patch.file} does not contain exactly one ${JSON.stringify(patch.from)}`);
      writeFileSync(file, text.replace(patch.from, patch.to));
    }
    if (build.edits?.length) execFileSync("go", ["mod", "edit", ...build.edits], { cwd: work, env });
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    log(`building ${build.name} ${build.version} (${build.packages.join(" ")} of ${build.module}${build.toolchain ? `, ${build.toolchain}` : ""})`);
    try {
      const tags = build.tags?.length ? ["-tags", build.tags.join(",")] : [];
      await execFileAsync("go", ["build", ...FLAGS, ...tags, "-ldflags", build.ldflags, "-o", `${staging}/`, ...build.packages], { cwd: work, env, maxBuffer: 64 << 20 });
    } catch (error) {
      writeFileSync(failedLog, String((error as { stderr?: unknown }).stderr ?? (error as Error).message));
      throw new BuildError(`building ${build.name} ${build.version} failed: see ${failedLog}`);
    }
    for (const [from, to] of Object.entries(build.rename ?? {})) renameSync(join(staging, from), join(staging, to));
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`built ${build.name} in ${seconds} s`);
    writeFileSync(join(staging, "complete"), `built in ${seconds}s\n`);
    try {
      renameSync(staging, dir);
    } catch {
      if (!existsSync(join(dir, "complete"))) throw new BuildError(`could not move the built ${build.name} into ${dir}`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}
