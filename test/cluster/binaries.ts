/**
 * Builds the pinned upstream programs (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * kwok, kustomize; the External Secrets Operator on its own) from the Go modules beside this file, once, into
 * a cache outside the repository keyed by their go.mod/go.sum files. Later runs find them there and build nothing.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { withBuildLock } from "./build-lock.js";

export const MODULES_DIR = import.meta.dirname;

export type BinaryName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok" | "kustomize";

type Program = BinaryName | "external-secrets";

interface Target {
  binary: Program;
  module: "kubernetes" | "kwok" | "kustomize" | "external-secrets";
  pkg: string;
  /** `-X` settings, from the versions pinned in the module's go.mod. */
  versionFlags: (pinned: (module: string) => string) => string[];
}

const kubernetesVersion = (pinned: (module: string) => string): string[] => {
  const version = pinned("k8s.io/kubernetes");
  const [major, minor] = version.replace(/^v/, "").split(".");
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `${pkg}.gitVersion=${version}`,
    `${pkg}.gitMajor=${major}`,
    `${pkg}.gitMinor=${minor}`,
    `${pkg}.gitTreeState=clean`,
  ]);
};

const TARGETS: readonly Target[] = [
  { binary: "etcd", module: "kubernetes", pkg: "go.etcd.io/etcd/server/v3", versionFlags: () => [] },
  { binary: "kube-apiserver", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-apiserver", versionFlags: kubernetesVersion },
  { binary: "kube-controller-manager", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-controller-manager", versionFlags: kubernetesVersion },
  { binary: "kube-scheduler", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-scheduler", versionFlags: kubernetesVersion },
  {
    binary: "kwok",
    module: "kwok",
    pkg: "sigs.k8s.io/kwok/cmd/kwok",
    versionFlags: (pinned) => [`sigs.k8s.io/kwok/pkg/consts.Version=${pinned("sigs.k8s.io/kwok")}`],
  },
  {
    binary: "kustomize",
    module: "kustomize",
    pkg: "sigs.k8s.io/kustomize/kustomize/v5",
    versionFlags: (pinned) => [`sigs.k8s.io/kustomize/api/provenance.version=${pinned("sigs.k8s.io/kustomize/kustomize/v5")}`],
  },
];

const MODULES = ["kubernetes", "kwok", "kustomize"] as const;

/** A build problem of the machine (no Go) or of a pinned module: names the program and the log. */
export class BuildError extends Error {
  override name = "BuildError";
}

/** Where the Go modules are and where binaries are cached (overridden only by the fault tests). */
export interface BuildPlaces {
  modulesDir: string;
  cacheDir: string;
}

const defaultPlaces = (): BuildPlaces => ({ modulesDir: MODULES_DIR, cacheDir: cacheRoot() });

/** The version a module's go.mod requires of `dependency`. */
export function pinnedVersion(module: string, dependency: string, modulesDir = MODULES_DIR): string {
  const text = readFileSync(join(modulesDir, module, "go.mod"), "utf8");
  const escaped = dependency.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(text);
  if (!match) throw new BuildError(`${module}/go.mod does not require ${dependency}`);
  return match[1]!;
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airflow-gitops");
}

/** The binaries' directory for the current pins: a hash of every go.mod and go.sum. */
export function binDir(places: BuildPlaces = defaultPlaces()): string {
  const hash = createHash("sha256");
  for (const module of MODULES) {
    for (const file of ["go.mod", "go.sum"]) hash.update(`${module}/${file}\n`).update(readFileSync(join(places.modulesDir, module, file)));
  }
  return join(places.cacheDir, "cluster-bin", hash.digest("hex").slice(0, 16));
}

export type Binaries = Record<BinaryName, string>;

function paths(dir: string): Binaries {
  return Object.fromEntries(TARGETS.map((t) => [t.binary, join(dir, t.binary)])) as Binaries;
}

export function builtBinaries(places: BuildPlaces = defaultPlaces()): Binaries | undefined {
  const dir = binDir(places);
  return existsSync(join(dir, "complete")) ? paths(dir) : undefined;
}

function requireGo(): void {
  const probe = spawnSync("go", ["version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new BuildError("the Go toolchain (`go`, 1.26 or newer) is needed to build the local control plane; install it and put it on PATH");
  }
}

const execFileAsync = promisify(execFile);

/**
 * The path of every binary, building what is missing. A build writes into a fresh directory and moves it
 * into place at the end, so an interrupted or concurrent build never leaves a half-filled cache entry.
 */
export async function ensureBinaries(log: (line: string) => void = () => {}, places: BuildPlaces = defaultPlaces()): Promise<Binaries> {
  const ready = builtBinaries(places);
  if (ready) return ready;
  return withBuildLock(places.cacheDir, log, async () => {
    if (!builtBinaries(places)) await buildInto(binDir(places), TARGETS, log, places);
    return paths(binDir(places));
  });
}

async function buildInto(dir: string, targets: readonly Target[], log: (line: string) => void, places: BuildPlaces): Promise<void> {
  requireGo();
  const staging = `${dir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  try {
    for (const target of targets) {
      const moduleDir = join(places.modulesDir, target.module);
      const ldflags = ["-s", "-w", ...target.versionFlags((dep) => pinnedVersion(target.module, dep, places.modulesDir)).flatMap((x) => ["-X", x])].join(" ");
      log(`building ${target.binary} (${target.pkg})`);
      const begun = Date.now();
      try {
        await execFileAsync("go", ["build", "-p", "2", "-trimpath", "-mod=readonly", "-ldflags", ldflags, "-o", join(staging, target.binary), target.pkg], {
          cwd: moduleDir,
          maxBuffer: 64 << 20,
          env: { ...process.env, GOFLAGS: "-buildvcs=false", CGO_ENABLED: "0" },
        });
      } catch (error) {
        const failedLog = join(places.cacheDir, "cluster-bin", `${target.binary}.build.log`);
        writeFileSync(failedLog, String((error as { stderr?: unknown }).stderr ?? (error as Error).message));
        throw new BuildError(`building ${target.binary} from ${target.module}/go.mod failed: see ${failedLog}`);
      }
      log(`built ${target.binary} in ${Math.round((Date.now() - begun) / 1000)} s`);
    }
    writeFileSync(join(staging, "complete"), `built in ${Math.round((Date.now() - started) / 1000)}s\n`);
    try {
      renameSync(staging, dir);
    } catch {
      if (!existsSync(join(dir, "complete"))) throw new BuildError(`could not move the built binaries into ${dir}`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The External Secrets Operator: only the secrets suite runs it, so it has a cache entry of its own and
// the control plane's entry (and its build) does not depend on it.

const EXTERNAL_SECRETS: Target = {
  binary: "external-secrets",
  module: "external-secrets",
  pkg: "github.com/external-secrets/external-secrets",
  versionFlags: () => [],
};

/** The operator's directory for the current pin: a hash of its module's go.mod and go.sum. */
export function externalSecretsDir(places: BuildPlaces = defaultPlaces()): string {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum"]) hash.update(`external-secrets/${file}\n`).update(readFileSync(join(places.modulesDir, "external-secrets", file)));
  return join(places.cacheDir, "cluster-bin", `external-secrets-${hash.digest("hex").slice(0, 16)}`);
}

/** The version of the External Secrets Operator pinned in `external-secrets/go.mod`. */
export function externalSecretsVersion(modulesDir = MODULES_DIR): string {
  return pinnedVersion("external-secrets", EXTERNAL_SECRETS.pkg, modulesDir);
}

/** The path of the operator's binary (`external-secrets`, the controller), building it once. */
export async function ensureExternalSecrets(log: (line: string) => void = () => {}, places: BuildPlaces = defaultPlaces()): Promise<string> {
  const dir = externalSecretsDir(places);
  const built = () => existsSync(join(dir, "complete"));
  if (!built()) await withBuildLock(places.cacheDir, log, async () => (built() ? undefined : buildInto(dir, [EXTERNAL_SECRETS], log, places)));
  return join(dir, EXTERNAL_SECRETS.binary);
}
