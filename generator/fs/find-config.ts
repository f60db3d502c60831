/** Finds the config file the way git finds `.git`: in the directory, else in the nearest parent that has one. */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export function findConfig(start: string, fileName: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, fileName);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Where the user typed the command. `npm run` starts scripts in the package root and keeps the
 * original directory in INIT_CWD; a process started elsewhere (by a test, by another tool) merely
 * inherits INIT_CWD, so it counts only when this process runs in the package root.
 */
export function userDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const initial = env.INIT_CWD;
  const packageRoot = env.npm_package_json ? dirname(env.npm_package_json) : undefined;
  return initial && packageRoot === process.cwd() && existsSync(initial) ? initial : process.cwd();
}
