/**
 * One gen at a time writes a tree: a lock file beside the owned directories, created exclusively and
 * holding the writer's process id. A lock whose process is gone (a killed run) is taken over.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";

export const LOCK_FILE = ".airflow-gitops.lock";

export class TreeLockedError extends Error {
  override name = "TreeLockedError";
}

interface Holder {
  pid: number;
  host: string;
  since: string;
}

/** Whether a process with this id exists (EPERM: it does, owned by another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

/** Takes the tree's lock and returns its release; throws TreeLockedError while another live run holds it. */
export function lockTree(root: string, now: () => Date = () => new Date()): () => void {
  const path = join(root, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: now().toISOString() } satisfies Holder));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const holder = readHolder(path);
      // A lock being written this instant has no content yet; one from another machine cannot be judged.
      if (!holder || holder.host !== hostname() || alive(holder.pid)) {
        const who = holder ? `process ${holder.pid} on ${holder.host}, since ${holder.since}` : "another process";
        throw new TreeLockedError(`${LOCK_FILE}: ${who} is writing this tree; wait for it to finish (or, if no gen runs, delete ${join(root, LOCK_FILE)})`);
      }
      rmSync(path, { force: true });
    }
  }
}
