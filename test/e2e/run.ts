/**
 * `npm run test:e2e`: the real-system suite. Every pinned binary is built first, one after the other (a cold
 * machine spends most of its minutes there, and no test's timeout should count them). Then its files run two
 * at a time (each starts its own control plane on ports of its own; most of their minutes are spent waiting
 * for controllers, not computing), and the peak-hours day, which spends most of its minutes waiting for the
 * clock, runs beside them, its output printed after theirs. Builds never overlap (`test/cluster/build-lock.ts`).
 * With arguments (`npm run test:e2e -- <files>`) one vitest runs what they name, building what they need.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ensureBinaries, ensureExternalSecrets } from "../cluster/index.js";
import { ensureArgoCd } from "../cluster/argocd.js";
import { ensureKarpenter } from "../cluster/karpenter.js";
import { ensureKeda } from "../cluster/keda.js";
import { ensureMetricsServer } from "../cluster/metrics-server.js";
import { ensurePromtool } from "../prometheus/promtool.js";
import { ensureStatsdExporter } from "../prometheus/statsd-exporter.js";

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
  const log = (line: string) => process.stderr.write(`[build] ${line}\n`);
  const started = Date.now();
  try {
    await ensureBinaries(log);
    for (const ensure of [ensureArgoCd, ensureExternalSecrets, ensureKeda, ensureKarpenter, ensureMetricsServer, ensurePromtool, ensureStatsdExporter]) await ensure(log);
    log(`every pinned binary is in the cache (${Math.round((Date.now() - started) / 1000)} s)`);
  } catch (error) {
    log(`a build failed: ${(error as Error).message}`);
    process.exit(1);
  }
  const day = vitest([DAY], "buffer");
  const rest = await vitest(["--exclude", DAY, "--fileParallelism", "--maxWorkers", "2"], "inherit");
  const dayResult = await day;
  process.stdout.write(`\n${dayResult.text}`);
  process.exitCode = rest.code || dayResult.code;
}
