/**
 * The tests' temporary directories. `tempDir` makes and records one; test/temp-dirs-setup.ts, a vitest
 * setup file of both suites, removes the recorded ones after each test file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh directory in the system's temp directory, removed after the test file that made it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Removes every directory `tempDir` made since the last call and forgets it: with `isolate: false` the
 * test files of a worker share this module, so a later file must not see an earlier file's directories.
 */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
