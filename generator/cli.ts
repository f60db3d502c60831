#!/usr/bin/env node
/** Command line: parses arguments, runs a command, prints, and is the only place that exits. */
import { Command, CommanderError } from "commander";
import { ConfigError, formatIssue, formatWarning } from "./config/issues.js";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { CONFIG_FILE, loadConfigFile, runGen, UserError } from "./run.js";
import { FileSystemError } from "./fs/errors.js";
import type { Plan } from "./fs/plan.js";
import { closest } from "./config/schema-check.js";
import { weekPlan } from "./core/schedule.js";
import { resolveEnvironment } from "./core/target.js";
import { buildDiffText, diffBuilds } from "./report/env-diff.js";
import { planSummary } from "./report/plan-summary.js";
import { scheduleText } from "./report/schedule-text.js";
import { COLOR, colorWanted, PLAIN } from "./report/style.js";
import { planDiff } from "./report/unified-diff.js";
import { kustomizeBuildAsync, KustomizeError } from "./validate/kustomize.js";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Colour the output (a terminal without NO_COLOR). */
  color?: boolean;
}

const consoleIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  color: colorWanted(process.stdout, process.env),
};

/** Runs the CLI and returns the exit code: 0 success, 1 user error or out-of-date tree, 2 internal error. */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  let exitCode = 0;
  const style = io.color ? COLOR : PLAIN;
  const program = new Command()
    .name("airflow-gitops")
    .description("Generates the GitOps repository for Apache Airflow on Kubernetes from airflow-gitops.yaml.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command("gen")
    .description("write base/, overlays/, secrets/, argocd/, docs/ and the config schema from the config file")
    .option("-c, --config <file>", "config file", CONFIG_FILE)
    .option("-o, --out <dir>", "root of the generated tree (default: the config file's directory)")
    .option("--check", "write nothing; exit 1 and list the files that are missing, changed or extra")
    .option("--diff", "write nothing; print a unified diff of what would change")
    .option("-q, --quiet", "print only problems")
    .action(async (opts: { config: string; out?: string; check?: boolean; diff?: boolean; quiet?: boolean }) => {
      const dryRun = (opts.check ?? false) || (opts.diff ?? false);
      const result = await runGen({ configPath: opts.config, ...(opts.out ? { outDir: opts.out } : {}), check: dryRun });
      for (const warning of result.warnings) io.err(style.yellow(formatWarning(opts.config, warning)));
      if (opts.diff) for (const line of planDiff(result.plan, result.desired, result.current, style)) io.out(line);
      if (opts.check) {
        if (result.upToDate) {
          if (!opts.quiet) io.out(`up to date: ${result.plan.unchanged.length} files`);
        } else {
          for (const line of describePlan(result.plan, { missing: "missing", changed: "changed", extra: "extra" })) io.err(line);
          io.err("the generated files are out of date: run `npm run gen`");
          exitCode = 1;
        }
      } else if (opts.diff) {
        if (!opts.quiet) io.out(result.upToDate ? "no changes" : planSummary(result.plan, PLAIN).at(-1)!.replace(/^/, "would be: "));
      } else if (!opts.quiet) {
        for (const line of planSummary(result.plan, style)) io.out(line);
      }
    });

  program
    .command("diff")
    .description("compare two environments' rendered builds object by object")
    .argument("<envA>", "environment, e.g. dev")
    .argument("<envB>", "environment, e.g. prod")
    .option("-d, --dir <dir>", "root of the generated tree", ".")
    .action(async (envA: string, envB: string, opts: { dir: string }) => {
      const root = resolve(opts.dir);
      const known = knownOverlays(root);
      const unknown = [envA, envB].filter((e) => !known.includes(e));
      if (unknown.length > 0) throw new UserError(unknown.map((e) => unknownEnvironment(e, known)).join("\n"));
      const [a, b] = await Promise.all([envA, envB].map((e) => kustomizeBuildAsync(join(root, "overlays", e))));
      for (const line of buildDiffText(diffBuilds(a!, envA, b!, envB), envA, envB, style)) io.out(line);
    });

  program
    .command("schedule")
    .description("show an environment's peak-hour plan as a week grid of replicas")
    .argument("<env>", "environment, e.g. prod")
    .option("-c, --config <file>", "config file", CONFIG_FILE)
    .action(async (env: string, opts: { config: string }) => {
      const config = await loadConfigFile(opts.config);
      const known = Object.keys(config.environments);
      if (!known.includes(env)) throw new UserError(unknownEnvironment(env, known));
      const target = resolveEnvironment(config, env);
      const plan = weekPlan(target);
      if (plan) for (const line of scheduleText(plan, style)) io.out(line);
      else {
        const c = target.components;
        io.out(`${env} neither autoscales nor has peak hours: api-server ${c.apiServer.replicas}, scheduler ${c.scheduler.replicas} replica(s) at every hour`);
      }
    });

  program
    .command("validate")
    .description("render every overlay and argocd/ with kustomize and check each object: schema, references, policy")
    .argument("[targets...]", "only these builds, e.g. overlays/prod argocd (default: every overlay and argocd)")
    .option("-d, --dir <dir>", "root of the generated tree", ".")
    .option("--schemas <dir>", "also check against a directory of strict JSON schemas (kubeconform layout: k8s/, crds/)")
    .option("--json", "print the report as JSON")
    .action(async (targets: string[], opts: { dir: string; schemas?: string; json?: boolean }) => {
      if (opts.schemas && !existsSync(opts.schemas)) throw new UserError(`--schemas ${opts.schemas}: no such directory`);
      // Loaded on demand: generation never needs the validators.
      const { formatProblem, validateRepository } = await import("./validate/validate.js");
      const report = await validateRepository(resolve(opts.dir), {
        ...(opts.schemas ? { schemasDir: resolve(opts.schemas) } : {}),
        ...(targets.length > 0 ? { targets } : {}),
      });
      if (opts.json) io.out(JSON.stringify(report, null, 2));
      else {
        for (const problem of report.problems) io.err(formatProblem(problem));
        io.out(`${report.passed} passed, ${report.failed} failed (${report.targets.map((t) => t.target).join(", ")})`);
      }
      if (report.problems.length > 0) exitCode = 1;
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function knownOverlays(root: string): string[] {
  const dir = join(root, "overlays");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "kustomization.yaml")))
    .map((e) => e.name)
    .sort();
}

function unknownEnvironment(name: string, known: readonly string[]): string {
  const guess = closest(name, known);
  return `unknown environment "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; known: ${known.join(", ") || "none"}`;
}

function describePlan(p: Plan, words: { missing: string; changed: string; extra: string }): string[] {
  return [
    ...p.create.map((f) => `${words.missing}: ${f}`),
    ...p.update.map((f) => `${words.changed}: ${f}`),
    ...p.delete.map((f) => `${words.extra}: ${f}`),
  ];
}

function reportError(error: unknown, io: Io): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
  if (error instanceof ConfigError) {
    for (const issue of error.issues) io.err(formatIssue(error.file, issue));
    io.err(`${error.issues.length} problem(s) in ${error.file}; nothing was written`);
    return 1;
  }
  if (error instanceof UserError || error instanceof KustomizeError || error instanceof FileSystemError) {
    io.err(error.message);
    return 1;
  }
  io.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  io.err("nothing was written");
  return 2;
}

/** A reader that stopped reading (`| head`) is not an error: exit quietly, as Unix tools do. */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  exitQuietlyOnClosedPipe();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(2);
    },
  );
}
