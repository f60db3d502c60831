/** Reading the owned part of the output tree and applying a plan to it, all or nothing. */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, rmdir, readdir, writeFile } from "node:fs/promises";
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import type { Plan } from "./plan.js";

/**
 * The plan of a write whose new files are all staged: once this file exists the write is decided, and
 * whichever run comes next (gen, gen --check, validate) carries it out before it reads the tree.
 */
export const JOURNAL_FILE = ".airflow-gitops.journal";

interface Journal {
  suffix: string;
  rename: string[];
  delete: string[];
}

export class JournalError extends Error {
  override name = "JournalError";
}

/** The suffix of files staged by applyPlan; one left behind by a killed run is not part of the tree. */
const TEMP_SUFFIX = ".tmp-gen";

/** Every file under the owned directories plus the owned top-level files that exist, by relative path. */
export function readOwnedTree(
  root: string,
  ownedDirs: readonly string[],
  ownedFiles: readonly string[],
  ownedIn?: { dir: string; names: RegExp },
): Map<string, string> {
  const paths = [
    ...ownedDirs.flatMap((dir) => filesBelow(root, dir)),
    ...ownedFiles.filter((file) => statSync(join(root, file), { throwIfNoEntry: false })?.isFile()),
    ...(ownedIn ? filesIn(root, ownedIn.dir).filter((path) => ownedIn.names.test(path.slice(ownedIn.dir.length + 1))) : []),
  ]
    .filter((path) => !path.endsWith(TEMP_SUFFIX))
    .sort();
  // Read one after the other: each file is small, and a promise per read costs more than the read.
  return new Map(paths.map((p) => [p, readFileSync(join(root, p), "utf8")]));
}

/**
 * Writes every new and changed file to a temporary sibling first; only when all of them are written is
 * the journal written, then the files renamed into place and stale files deleted. A failure or a kill
 * while staging leaves the tree as it was; one after the journal is finished by the next run: the tree
 * is the old one or the new one, never a mix.
 */
export async function applyPlan(root: string, p: Plan, desired: ReadonlyMap<string, string>): Promise<void> {
  const suffix = `.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`;
  const toWrite = [...p.create, ...p.update];
  // Recorded before the write starts, so a write that fails half-way is cleaned up too.
  const staged = new Set<string>();
  try {
    for (const dir of new Set(toWrite.map((path) => dirname(join(root, path))))) await mkdir(dir, { recursive: true });
    await inParallel(toWrite, async (path) => {
      staged.add(path);
      await writeFile(join(root, path) + suffix, desired.get(path)!, "utf8");
    });
  } catch (error) {
    await Promise.all([...staged].map((path) => rm(join(root, path) + suffix, { force: true }).catch(() => {})));
    throw error;
  }
  const journal: Journal = { suffix, rename: [...staged].sort(), delete: [...p.delete] };
  writeJournal(root, journal);
  await carryOut(root, journal);
}

function writeJournal(root: string, journal: Journal): void {
  const path = join(root, JOURNAL_FILE);
  const fd = openSync(`${path}${journal.suffix}`, "w", 0o644);
  try {
    writeSync(fd, JSON.stringify(journal));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}${journal.suffix}`, path);
}

/** Renames and deletions are each safe to repeat, so a journal is carried out again from its start. */
async function carryOut(root: string, journal: Journal): Promise<void> {
  await inParallel(journal.rename, async (path) => {
    await rename(join(root, path) + journal.suffix, join(root, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  });
  for (const path of journal.delete) {
    await rm(join(root, path), { force: true });
    await removeEmptyParents(root, dirname(path));
  }
  await rm(join(root, JOURNAL_FILE), { force: true });
}

/** Finishes the write a killed run decided on, if there is one; true when it did. */
export async function finishInterruptedWrite(root: string): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(join(root, JOURNAL_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await carryOut(root, parseJournal(text));
  return true;
}

function parseJournal(text: string): Journal {
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
  } catch {
    throw new JournalError(`${JOURNAL_FILE}: not a journal gen wrote (not JSON); remove it and run gen again`);
  }
  const inside = (path: unknown) => typeof path === "string" && path !== "" && !isAbsolute(path) && !path.split(/[\\/]/).includes("..");
  const valid =
    typeof journal?.suffix === "string" &&
    /^\.[0-9a-f]{8}\.tmp-gen$/.test(journal.suffix) &&
    Array.isArray(journal.rename) &&
    Array.isArray(journal.delete) &&
    [...journal.rename, ...journal.delete].every(inside);
  if (!valid) throw new JournalError(`${JOURNAL_FILE}: not a journal gen wrote (it names paths outside the tree or lacks fields); remove it and run gen again`);
  return journal;
}

/** Removes staged files a killed run left in the owned directories. */
export async function removeStaleTempFiles(root: string, ownedDirs: readonly string[], ownedFiles: readonly string[]): Promise<void> {
  const stale = [...ownedDirs.flatMap((dir) => filesBelow(root, dir)), ...filesIn(root, ".").map((path) => path.slice(2))].filter(
    (path) => path.endsWith(TEMP_SUFFIX) && (path.includes("/") || ownedFiles.some((file) => path.startsWith(`${file}.`))),
  );
  await Promise.all(stale.map((path) => rm(join(root, path), { force: true })));
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  let current = dir;
  while (current !== "." && current !== "") {
    const abs = join(root, current);
    const entries = await readdir(abs).catch(() => null);
    if (entries === null || entries.length > 0) return;
    await rmdir(abs);
    current = dirname(current);
  }
}

/**
 * Runs `task` over `items` with a bounded number in flight, so thousands of files do not open at once. After a
 * failure no new item starts, and it throws the first error only once every started task has settled, so
 * whoever cleans up after it sees every file the tasks wrote.
 */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>, limit = 16): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      try {
        await task(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Every file below `root/dir` (symbolic links not followed), as paths relative to root with forward slashes. */
function filesBelow(root: string, dir: string): string[] {
  const start = join(root, dir);
  if (!statSync(start, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(start, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
}

/** The files directly in `root/dir`, as paths relative to root. */
function filesIn(root: string, dir: string): string[] {
  if (!statSync(join(root, dir), { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `${dir}/${entry.name}`);
}
