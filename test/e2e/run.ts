/**
 * `npm run test:e2e`: the real-system suite. Its files run one at a time, except the peak-hours day, which
 * spends most of its minutes waiting for the clock and so runs beside the others, its output printed after
 * theirs. Builds never overlap (`test/cluster/build-lock.ts`). With arguments (`npm run test:e2e -- <files>`)
 * one vitest runs what they name.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const VITEST = join(ROOT, "node_modules", ".bin", "vitest");
const CONFIG = ["run", "--config", "vitest.e2e.config.ts"];
const DAY = "test/e2e/peak-hours.test.ts";

function vitest(args: string[], output: "inherit" | "buffer"): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    const child = spawn(VITEST, [...CONFIG, ...args], { cwd: ROOT, stdio: output === "inherit" ? "inherit" : ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? "1" : "0") } });
    const chunks: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => chunks.push(c));
    child.stderr?.on("data", (c: Buffer) => chunks.push(c));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), text: Buffer.concat(chunks).toString() }));
  });
}

const args = process.argv.slice(2);
if (args.length > 0) {
  process.exitCode = (await vitest(args, "inherit")).code;
} else {
  const day = vitest([DAY], "buffer");
  const rest = await vitest(["--exclude", DAY], "inherit");
  const dayResult = await day;
  process.stdout.write(`\n${dayResult.text}`);
  process.exitCode = rest.code || dayResult.code;
}
