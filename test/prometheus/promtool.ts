/** promtool, built from the pinned Prometheus module (`pins.ts`): `check rules` and `test rules` on files. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureSourceBuild } from "../cluster/module-build.js";
import { PROMTOOL_BUILD } from "./pins.js";

export async function ensurePromtool(log: (line: string) => void = () => {}): Promise<string> {
  return join(await ensureSourceBuild(PROMTOOL_BUILD, log), "promtool");
}

export interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs `promtool <args>` in `cwd`; the output is stdout and stderr together, as a user would read it. */
export function promtool(binary: string, args: string[], cwd: string): PromtoolResult {
  const run = spawnSync(binary, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (run.error) throw run.error;
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}
