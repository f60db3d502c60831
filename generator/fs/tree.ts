/** Reading the owned part of the output tree and applying a plan to it, all or nothing. */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, rmdir, readdir, writeFile } from "node:fs/promises";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Plan } from "./plan.js";

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
 * Writes every new and changed file to a temporary sibling first; only when all of them are written
 * are they renamed into place and stale files deleted. A failure while staging leaves the tree as it was.
 */
export async function applyPlan(root: string, p: Plan, desired: ReadonlyMap<string, string>): Promise<void> {
  const suffix = `.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`;
  const toWrite = [...p.create, ...p.update];
  // Recorded before the write starts, so a write that fails half-way is cleaned up too.
  const staged = new Set<string>();
  const renamed = new Set<string>();
  try {
    for (const dir of new Set(toWrite.map((path) => dirname(join(root, path))))) await mkdir(dir, { recursive: true });
    await inParallel(toWrite, async (path) => {
      staged.add(path);
      await writeFile(join(root, path) + suffix, desired.get(path)!, "utf8");
    });
    await inParallel([...staged], async (path) => {
      await rename(join(root, path) + suffix, join(root, path));
      renamed.add(path);
    });
  } catch (error) {
    await Promise.all([...staged].filter((path) => !renamed.has(path)).map((path) => rm(join(root, path) + suffix, { force: true }).catch(() => {})));
    throw error;
  }
  for (const path of p.delete) {
    await rm(join(root, path), { force: true });
    await removeEmptyParents(root, dirname(path));
  }
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

/** Runs `task` over `items` with a bounded number in flight, so thousands of files do not open at once. */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>, limit = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
