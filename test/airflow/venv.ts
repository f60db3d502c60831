/**
 * The Python environment for everything that runs real Airflow: a virtual environment outside the
 * repository, installed from `requirements.lock` with every hash required, cached under
 * `${XDG_CACHE_HOME:-~/.cache}/airflow-gitops/venv-<hash of the lock and the interpreter>` and reused
 * while that key holds. A resolution or install problem is an error naming the step, never a skip.
 * Another lock (the AWS emulator's, test/aws/requirements.lock) gets an environment of its own the same way.
 *
 * Shell and CI: `npx tsx test/airflow/venv.ts [lock file]` ensures the environment and prints its path on
 * stdout (progress on stderr).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The lock of the example's Airflow line. */
export const LOCK_FILE = resolve(import.meta.dirname, "requirements.lock");

/** The lock of each supported Airflow line: the example's, and requirements-<line>.lock for the other. */
export function lockOfLine(line: string): string {
  const other = resolve(import.meta.dirname, `requirements-${line}.lock`);
  return existsSync(other) ? other : LOCK_FILE;
}
const COMPLETE_MARKER = ".installed-from-lock";
const LOCK_WAIT_MS = 30 * 60_000;

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "airflow-gitops");
}

/** The interpreter the environment is made from; `AIRFLOW_GITOPS_PYTHON` overrides `python3`. */
export function basePython(): string {
  return process.env.AIRFLOW_GITOPS_PYTHON || "python3";
}

function interpreterIdentity(python: string): string {
  const run = spawnSync(python, ["-c", "import sys, platform; print(sys.version, platform.machine())"], { encoding: "utf8" });
  if (run.error || run.status !== 0) {
    throw new Error(`Python interpreter '${python}' cannot run: ${run.error?.message ?? run.stderr.trim()}`);
  }
  return run.stdout.trim();
}

export function venvPath(python = basePython(), lockFile = LOCK_FILE): string {
  const key = createHash("sha256").update(readFileSync(lockFile)).update(interpreterIdentity(python)).digest("hex").slice(0, 16);
  return join(cacheRoot(), `venv-${key}`);
}

export function venvPython(venv: string): string {
  return join(venv, "bin", "python");
}

/** The path of a ready environment, installing it first when missing or incomplete. */
export function ensureVenv(log: (line: string) => void = () => {}, lockFile = LOCK_FILE): string {
  const python = basePython();
  const venv = venvPath(python, lockFile);
  if (existsSync(join(venv, COMPLETE_MARKER))) return venv;
  mkdirSync(cacheRoot(), { recursive: true });
  const release = acquireInstallLock(`${venv}.lock`, log);
  try {
    if (existsSync(join(venv, COMPLETE_MARKER))) return venv;
    rmSync(venv, { recursive: true, force: true });
    const started = Date.now();
    log(`creating ${venv} from ${lockFile}`);
    run(python, ["-m", "venv", venv], "create the virtual environment");
    // --no-deps: the lock is complete; --require-hashes: nothing unverified is installed.
    run(venvPython(venv), ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--require-hashes", "--no-deps", "-r", lockFile], `install ${lockFile}`);
    run(venvPython(venv), ["-m", "pip", "check"], "check the installed set is consistent");
    writeFileSync(join(venv, COMPLETE_MARKER), `${new Date().toISOString()} ${Date.now() - started} ms\n`);
    log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return venv;
  } catch (error) {
    rmSync(venv, { recursive: true, force: true });
    throw error;
  } finally {
    release();
  }
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`Python environment: could not ${what} (${command} ${args.join(" ")}):\n${result.error?.message ?? output}`);
  }
}

/** One installer at a time per key (the builder's tests and the Airflow suite may start together). */
function acquireInstallLock(path: string, log: (line: string) => void): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      closeSync(openSync(path, "wx"));
      writeFileSync(path, String(process.pid));
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (holderIsGone(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Python environment: ${path} held for over ${LOCK_WAIT_MS / 60_000} min`);
    if (!announced) log(`waiting for another install (${path})`);
    announced = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

function holderIsGone(path: string): boolean {
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(path).mtimeMs > 10_000;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const lockFile = process.argv[2] ? resolve(process.argv[2]) : LOCK_FILE;
    process.stdout.write(`${ensureVenv((line) => process.stderr.write(`venv: ${line}\n`), lockFile)}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
