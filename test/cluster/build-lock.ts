/**
 * One Go build at a time on the machine: every build of the suite (the control plane, the operators) runs
 * under this lock, a directory in the binary cache holding its owner's pid and start time. Suite processes
 * that run side by side wait for each other's builds instead of compiling at once, and a process that finds
 * the binary built once it holds the lock builds nothing. A lock whose owner is gone is taken over.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processStartTime } from "./processes.js";

const POLL_MS = 2000;
/** A lock directory without its owner file for this long is left over from a process killed in between. */
const ORPHAN_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ownerAlive(dir: string): boolean {
  let owner: string;
  try {
    owner = readFileSync(join(dir, "owner"), "utf8");
  } catch {
    try {
      return Date.now() - statSync(dir).mtimeMs < ORPHAN_MS;
    } catch {
      return false;
    }
  }
  const [pid, started] = owner.trim().split(" ");
  return processStartTime(Number(pid)) === started;
}

/** Runs `build` holding the cache's build lock; `log` hears once that it waits for another process. */
export async function withBuildLock<T>(cacheDir: string, log: (line: string) => void, build: () => Promise<T>): Promise<T> {
  const dir = join(cacheDir, "cluster-bin", ".build-lock");
  mkdirSync(join(cacheDir, "cluster-bin"), { recursive: true });
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "owner"), `${process.pid} ${processStartTime(process.pid)}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!ownerAlive(dir)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!told) log(`waiting for another process's build to finish (lock ${dir})`);
      told = true;
      await sleep(POLL_MS);
    }
  }
  try {
    return await build();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
