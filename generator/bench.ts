/**
 * `npm run bench`: runs the generator's own entry point as whole processes (several runs after a
 * warm-up) and prints median, min and max wall time and peak memory for generation, generation at
 * 1 to 200 environments, validation (with and without its cache), and, interleaved with `gen --check`
 * round by round, one `kubectl kustomize` of prod and (when helm and the official chart are at hand)
 * one `helm template` as yardsticks. `--json` for tools; `--node=PATH` (repeatable) times `gen --check`
 * with other Node.js binaries too, in the same rounds.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
// @ts-expect-error: plain JavaScript module without declarations
import { ensureBundle } from "./launch.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const LAUNCH = join(ROOT, "generator", "launch.mjs");
const CONFIG = "airflow-gitops.yaml";
/** Records the process's peak resident memory (KB) at exit, so each run reports its own. */
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  'import { writeFileSync } from "node:fs"; process.on("exit", () => { if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });',
)}`;

interface Result {
  name: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  peakRssMb: number | null;
  note?: string;
}

interface RunOptions {
  cwd: string;
  runs: number;
  /** Called before each run (not timed), e.g. to empty the output directory. */
  before?: () => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times `node launch.mjs <args>` as a whole process: one warm-up, then `runs` measured runs. */
function benchCli(name: string, args: string[], options: RunOptions): Result & { lastStdout: string } {
  const rssFile = join(tmpdir(), `airflow-gitops-bench-rss-${process.pid}`);
  const times: number[] = [];
  const rss: number[] = [];
  let lastStdout = "";
  for (let i = 0; i <= options.runs; i++) {
    options.before?.();
    const started = performance.now();
    const run = spawnSync(process.execPath, ["--import", RSS_PROBE, LAUNCH, ...args], {
      cwd: options.cwd,
      encoding: "utf8",
      env: { ...process.env, BENCH_RSS_FILE: rssFile, NO_COLOR: "1" },
      maxBuffer: 256 << 20,
    });
    const elapsed = performance.now() - started;
    if (run.status !== 0) throw new Error(`${name}: exit ${run.status}\n${run.stderr}`);
    lastStdout = run.stdout;
    if (i === 0) continue; // warm-up: file system cache, the bundle built
    times.push(elapsed);
    rss.push(Number(readFileSync(rssFile, "utf8")));
  }
  rmSync(rssFile, { force: true });
  return { ...summarize(name, times), peakRssMb: Math.max(...rss) / 1024, lastStdout };
}

function summarize(name: string, times: number[]): Omit<Result, "peakRssMb"> {
  return { name, runs: times.length, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) };
}

/** `validate --json` as a process, with the report's split of kustomize and check time and the check rate. */
function benchValidate(name: string, cwd: string, runs: number): Result {
  const { lastStdout, ...result } = benchCli(name, ["validate", "--json", "--no-cache"], { cwd, runs });
  const report = JSON.parse(lastStdout) as { passed: number; failed: number; timings: { kustomizeMs: number; checksMs: number } };
  const objects = report.passed + report.failed;
  const rate = Math.round(objects / (report.timings.checksMs / 1000));
  const note = `kustomize ${report.timings.kustomizeMs.toFixed(0)} ms, checks ${report.timings.checksMs.toFixed(0)} ms, ${rate} objects/s (${objects} objects)`;
  return { ...result, note };
}

/** One timed process: wall time, and peak RSS when the process is ours (the probe reports it). */
interface Timed {
  ms: number;
  rssKb: number | null;
}

interface Contender {
  name: string;
  run: () => Timed;
}

function timeProcess(command: string, args: readonly string[], options: { cwd?: string; ours?: boolean } = {}): Timed {
  const rssFile = join(tmpdir(), `airflow-gitops-bench-rss-${process.pid}`);
  const started = performance.now();
  const run = spawnSync(command, options.ours ? ["--import", RSS_PROBE, ...args] : args, {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    env: { ...process.env, BENCH_RSS_FILE: rssFile, NO_COLOR: "1" },
    maxBuffer: 256 << 20,
  });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${run.status}\n${run.stderr || run.error?.message}`);
  const rssKb = options.ours ? Number(readFileSync(rssFile, "utf8")) : null;
  if (options.ours) rmSync(rssFile, { force: true });
  return { ms, rssKb };
}

/**
 * The contenders run in turns, one of each per round after a warm-up round, so a change in the
 * machine's load (other builds on a shared host) reaches them all alike and their ratios hold.
 */
function interleaved(contenders: readonly Contender[], runs: number): Result[] {
  const times = contenders.map(() => [] as Timed[]);
  for (let round = 0; round <= runs; round++) {
    for (const [i, contender] of contenders.entries()) {
      const timed = contender.run();
      if (round > 0) times[i]!.push(timed);
    }
  }
  return contenders.map((contender, i) => {
    const rss = times[i]!.map((t) => t.rssKb).filter((v): v is number => v !== null);
    return { ...summarize(contender.name, times[i]!.map((t) => t.ms)), peakRssMb: rss.length ? Math.max(...rss) / 1024 : null };
  });
}

function nodeVersion(node: string): string {
  const run = spawnSync(node, ["--version"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`--node=${node}: not a Node.js binary (${run.error?.message ?? run.stderr.trim()})`);
  return run.stdout.trim().replace(/^v/, "");
}

/** `helm template` of the official Apache Airflow chart, when a helm binary and the chart are at hand. */
function helmContender(): Contender | { missing: string } {
  const chart = process.env.AIRFLOW_HELM_CHART;
  if (spawnSync("helm", ["version", "--short"], { encoding: "utf8" }).status !== 0) return { missing: "no helm binary on PATH" };
  if (!chart) return { missing: "AIRFLOW_HELM_CHART (a path to the official apache-airflow chart, directory or .tgz) is not set" };
  return { name: "helm template of the official Airflow chart (yardstick)", run: () => timeProcess("helm", ["template", "airflow", chart]) };
}

/**
 * `validate` of a large repository with the cache: every build checked (a fresh cache), then the same
 * tree again `runs` times (every verdict reused; the median is the figure), then with one
 * environment's overlay changed (one build).
 */
function benchValidateCache(dir: string, runs: number): Result[] {
  const cacheDir = tempDir();
  try {
    const validate = (name: string, times: number): Result => {
      const ms: number[] = [];
      let report = { cached: 0, targets: [] as unknown[] };
      for (let i = 0; i < times; i++) {
        const started = performance.now();
        const run = spawnSync(process.execPath, [LAUNCH, "validate", "--json", "--cache-dir", cacheDir], { cwd: dir, encoding: "utf8", maxBuffer: 256 << 20 });
        ms.push(performance.now() - started);
        if (run.status !== 0) throw new Error(`${name}: exit ${run.status}\n${run.stderr}`);
        report = JSON.parse(run.stdout) as typeof report;
      }
      return { ...summarize(name, ms), peakRssMb: null, note: `${report.targets.length - report.cached} built, ${report.cached} from the cache` };
    };
    const cold = validate("validate (200 environments, empty cache)", 1);
    const warm = validate("validate (200 environments, unchanged)", runs);
    const kustomization = join(dir, "overlays", "env-7", "kustomization.yaml");
    writeFileSync(kustomization, `${readFileSync(kustomization, "utf8")}# changed\n`);
    const one = validate("validate (200 environments, one changed)", 1);
    return [cold, warm, one];
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The example config with `count` environments, each like prod in its own namespace. */
function syntheticConfig(count: number): string {
  const config = parse(readFileSync(join(ROOT, CONFIG), "utf8")) as Record<string, any>;
  const prod = config.environments.prod;
  config.environments = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`env-${i + 1}`, { ...structuredClone(prod), namespace: `airflow-env-${i + 1}` }]),
  );
  config.argocd.environments = {};
  return stringify(config);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "airflow-gitops-bench-"));
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 5);
  const otherNodes = process.argv.filter((a) => a.startsWith("--node=")).map((a) => a.slice(7));
  await ensureBundle();
  const results: Result[] = [];
  const notes: string[] = [];
  const temps: string[] = [];
  const log = (line: string) => !json && process.stderr.write(`${line}\n`);

  try {
    log("gen --check, kubectl kustomize overlays/prod and helm template, interleaved ...");
    const helm = helmContender();
    const genContenders = [process.execPath, ...otherNodes].map((node) => ({
      name: `gen --check (example, all layers; Node ${nodeVersion(node)})`,
      run: () => timeProcess(node, [LAUNCH, "gen", "--check"], { ours: true }),
    }));
    const contenders: Contender[] = [
      ...genContenders,
      { name: "kubectl kustomize overlays/prod (yardstick)", run: () => timeProcess("kubectl", ["kustomize", join(ROOT, "overlays", "prod")]) },
      ...("run" in helm ? [helm] : []),
    ];
    const measured = interleaved(contenders, runs);
    const gens = measured.slice(0, genContenders.length);
    const [kustomize, helmResult] = measured.slice(genContenders.length);
    for (const gen of gens) {
      gen.note = `${(gen.medianMs / kustomize!.medianMs).toFixed(2)}x kubectl kustomize${helmResult ? `, ${(gen.medianMs / helmResult.medianMs).toFixed(2)}x helm template` : ""} (same rounds)`;
    }
    results.push(...gens, kustomize!, ...(helmResult ? [helmResult] : []));
    if ("missing" in helm) notes.push(`helm template not measured: ${helm.missing}.`);

    const copy = tempDir();
    temps.push(copy);
    for (const entry of [CONFIG, "airflow-gitops.schema.json", "base", "overlays", "secrets", "argocd"]) {
      if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    log("gen (example) ...");
    results.push(benchCli("gen (example, tree up to date)", ["gen"], { cwd: copy, runs }));

    // Each size: the tree is generated once (not timed), then `gen` runs on the up-to-date tree, as it
    // does after every edit; the first write of the largest tree is measured on its own.
    const scale: Record<number, Result> = {};
    const scaleDirs: Record<number, string> = {};
    for (const count of [1, 10, 50, 200]) {
      log(`gen (${count} environments) ...`);
      const dir = tempDir();
      temps.push(dir);
      scaleDirs[count] = dir;
      writeFileSync(join(dir, CONFIG), syntheticConfig(count));
      scale[count] = benchCli(`gen (${count} environment${count > 1 ? "s" : ""}, tree up to date)`, ["gen"], {
        cwd: dir,
        runs: count >= 200 ? Math.max(3, Math.ceil(runs / 2)) : runs,
      });
      results.push(scale[count]);
    }
    for (const count of [1, 10, 50, 200]) scale[count]!.note = `${(scale[count]!.medianMs / scale[10]!.medianMs).toFixed(2)}x the 10-environment run`;
    log("gen (200 environments, first write) ...");
    const largest = scaleDirs[200]!;
    const first = benchCli("gen (200 environments, empty tree: first write)", ["gen"], {
      cwd: largest,
      runs: 2,
      before: () => {
        for (const d of ["base", "overlays", "secrets", "argocd"]) rmSync(join(largest, d), { recursive: true, force: true });
      },
    });
    first.note = "file creation dominates (one file per object)";
    results.push(first);

    log("validate (example) ...");
    results.push(benchValidate("validate (example, all builds)", ROOT, runs));

    log("validate (200 environments: no cache, then unchanged, then one environment changed) ...");
    results.push(...benchValidateCache(scaleDirs[200]!, runs));
  } finally {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }

  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  const cleaned = results.map(({ lastStdout: _unused, ...r }: Result & { lastStdout?: string }) => r);
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, results: cleaned, notes }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${table(cleaned)}\n\nmachine: ${machine}\n${notes.map((n) => `${n}\n`).join("")}`);
}

function table(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.name,
    String(r.runs),
    r.medianMs.toFixed(0),
    r.minMs.toFixed(0),
    r.maxMs.toFixed(0),
    r.peakRssMb === null ? "-" : r.peakRssMb.toFixed(0),
    r.note ?? "",
  ]);
  const header = ["what", "runs", "median ms", "min ms", "max ms", "peak RSS MB", "notes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  return [line(header), `|${widths.map((w, i) => (i >= 1 && i <= 5 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`, ...rows.map(line)].join("\n");
}

await main();
