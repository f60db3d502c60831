/** Reading the owned part of the output tree and applying a plan to it, all or nothing. */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, rmdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import fg from "fast-glob";
import type { Plan } from "./plan.js";

/** Every file under the owned directories plus the owned top-level files that exist, by relative path. */
export async function readOwnedTree(
  root: string,
  ownedDirs: readonly string[],
  ownedFiles: readonly string[],
): Promise<Map<string, string>> {
  const patterns = [...ownedDirs.map((d) => `${d}/**`), ...ownedFiles];
  const paths = await fg(patterns, { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: false });
  paths.sort();
  const contents = await Promise.all(paths.map((p) => readFile(join(root, p), "utf8")));
  return new Map(paths.map((p, i) => [p, contents[i]!]));
}

/**
 * Writes every new and changed file to a temporary sibling first; only when all of them are written
 * are they renamed into place and stale files deleted. A failure while staging leaves the tree as it was.
 */
export async function applyPlan(root: string, p: Plan, desired: ReadonlyMap<string, string>): Promise<void> {
  const suffix = `.${randomBytes(4).toString("hex")}.tmp-gen`;
  const toWrite = [...p.create, ...p.update];
  const staged: string[] = [];
  try {
    for (const path of toWrite) {
      const target = join(root, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target + suffix, desired.get(path)!, "utf8");
      staged.push(path);
    }
  } catch (error) {
    await Promise.all(staged.map((path) => rm(join(root, path) + suffix, { force: true })));
    throw error;
  }
  for (const path of staged) await rename(join(root, path) + suffix, join(root, path));
  for (const path of p.delete) {
    await rm(join(root, path), { force: true });
    await removeEmptyParents(root, dirname(path));
  }
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
