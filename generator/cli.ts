#!/usr/bin/env node
/** Command line: parses arguments, runs a command, prints, and is the only place that exits. */
import { Command, CommanderError } from "commander";
import { ConfigError, formatIssue, formatWarning } from "./config/issues.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { findConfig, userDirectory } from "./fs/find-config.js";
import { CONFIG_FILE, finishInterruptedGen, loadConfigFile, runGen, UserError } from "./run.js";
import { FileSystemError } from "./fs/errors.js";
import type { Plan } from "./fs/plan.js";
import type { Problem } from "./validate/validate.js";
import { closest } from "./config/schema-check.js";
import { weekPlan } from "./core/schedule.js";
import { resolveEnvironment } from "./core/target.js";
import { buildDiffText, diffBuilds } from "./report/env-diff.js";
import { planSummary } from "./report/plan-summary.js";
import { limitsText, measuredDayText, scheduleText } from "./report/schedule-text.js";
import { connectionBudget } from "./shared/connection-budget.js";
import { compareDay, measuredDayIssues, type MeasuredDay } from "./core/measured-day.js";
import { COLOR, colorWanted, PLAIN, type Style } from "./report/style.js";
import { planDiff } from "./report/unified-diff.js";
import { ClusterError } from "./validate/cluster-error.js";
import { kustomizeBuildAsync, KustomizeError } from "./validate/kustomize.js";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Colour the output (a terminal without NO_COLOR). */
  color?: boolean;
  /** Colour the errors (stderr is a terminal without NO_COLOR). */
  errColor?: boolean;
  /** Overwrites one status line on a terminal (an empty line clears it); absent when stderr is not a terminal. */
  progress?: (line: string) => void;
}

const consoleIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  color: colorWanted(process.stdout, process.env),
  errColor: colorWanted(process.stderr, process.env),
  ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(`\r\u001b[K${line}`) } : {}),
};

/** argocd/ itself, not argocd/apps/: what only an administrator applies. */
function isArgocdBootstrapFile(path: string): boolean {
  return /^argocd\/[^/]+$/.test(path);
}

/** --config and --dir as every command takes them: the config file, and the project's root directory. */
interface Location {
  config?: string;
  dir?: string;
}

/**
 * The config file: --config, else airflow-gitops.yaml in --dir or, without it, in the current
 * directory or the nearest parent that has one (saying which file, when it is not where the user is).
 */
function configFile(opts: Location, io: Io): string {
  const here = userDirectory();
  if (opts.config) return resolve(here, opts.config);
  const start = resolve(here, opts.dir ?? ".");
  const found = findConfig(start, CONFIG_FILE);
  if (!found) throw new UserError(`no ${CONFIG_FILE} in ${start} or any directory above it; run in the project or pass --config <file>`);
  if (dirname(found) !== start) io.err(`using ${relative(here, found)}`);
  return found;
}

/** A path as the user would type it: relative to where they are when it is below, else as it is. */
function shownPath(path: string): string {
  const rel = relative(userDirectory(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** The root of the generated tree: --dir, else the config file's directory. */
function treeRoot(opts: Location, io: Io): string {
  const here = userDirectory();
  if (opts.dir) return resolve(here, opts.dir);
  if (opts.config) return dirname(resolve(here, opts.config));
  const found = findConfig(here, CONFIG_FILE);
  if (found && dirname(found) !== here) io.err(`using ${relative(here, dirname(found)) || "."} (where ${CONFIG_FILE} is)`);
  return found ? dirname(found) : here;
}

/** A build named as the user may type it (`./overlays/prod/`, `prod` from overlays/), as validate names it (`overlays/prod`). */
function buildName(target: string, root: string): string {
  const absolute = isAbsolute(target) ? target : resolve(userDirectory(), target);
  const rel = relative(root, absolute);
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) && existsSync(absolute);
  return (inside ? rel.split(sep).join("/") : target).replace(/^\.\//, "").replace(/\/+$/, "");
}

/** Runs the CLI and returns the exit code: 0 success, 1 user error or out-of-date tree, 2 internal error. */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  let exitCode = 0;
  const style = io.color ? COLOR : PLAIN;
  const errStyle = io.errColor ? COLOR : PLAIN;
  const program = new Command()
    .name("airflow-gitops")
    .description("Generates the GitOps repository for Apache Airflow on Kubernetes from airflow-gitops.yaml.")
    .exitOverride()
    .version(packageJson.version, "-V, --version", "print the version")
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command("gen")
    .description("write base/, overlays/, secrets/, argocd/, docs/ and the config schema from the config file")
    .option("-c, --config <file>", `config file (default: ${CONFIG_FILE} here or in the nearest parent directory)`)
    .option("-d, --dir <dir>", "project directory: where the config file is looked for and the tree is written")
    .option("-o, --out <dir>", "root of the generated tree (default: --dir, else the config file's directory)")
    .option("--check", "write nothing; exit 1 and list the files that are missing, changed or extra")
    .option("--diff", "write nothing; print a unified diff of what would change")
    .option("-q, --quiet", "print only problems")
    .option("--force", "also delete hand-written files (without the generated header) in the generated folders")
    .option("--storage-change", "write a StorageClass or claim change Kubernetes refuses in place, once its old objects are deleted in the cluster")
    .action(async (opts: Location & { out?: string; check?: boolean; diff?: boolean; quiet?: boolean; force?: boolean; storageChange?: boolean }) => {
      const dryRun = (opts.check ?? false) || (opts.diff ?? false);
      const config = configFile(opts, io);
      const out = opts.out ?? opts.dir;
      const result = await runGen({ configPath: config, ...(out ? { outDir: resolve(userDirectory(), out) } : {}), check: dryRun, force: opts.force ?? false, storageChange: opts.storageChange ?? false });
      for (const warning of result.warnings) io.err(errStyle.yellow(formatWarning(shownPath(config), warning)));
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
      const bootstrap = [...result.plan.create, ...result.plan.update, ...result.plan.delete].filter(isArgocdBootstrapFile);
      if (bootstrap.length > 0 && result.current.size > 0) {
        io.err(
          errStyle.yellow(
            `note: ${bootstrap.join(", ")} ${dryRun ? "would change" : "changed"}: Argo CD does not sync the projects and the root Application ` +
              "from git; once merged, an Argo CD administrator applies them with `kubectl apply -k argocd/`",
          ),
        );
      }
    });

  program
    .command("diff")
    .description("compare two environments' rendered builds object by object")
    .argument("<envA>", "environment, e.g. dev")
    .argument("<envB>", "environment, e.g. prod")
    .option("-c, --config <file>", "config file; the tree is its directory")
    .option("-d, --dir <dir>", "root of the generated tree (default: the config file's directory)")
    .option("--checksums", "also list checksum annotations (they change whenever what they sum changes)")
    .action(async (envA: string, envB: string, opts: Location & { checksums?: boolean }) => {
      const root = treeRoot(opts, io);
      const known = knownOverlays(root);
      const unknown = [envA, envB].filter((e) => !known.includes(e));
      if (unknown.length > 0) throw new UserError(unknown.map((e) => unknownEnvironment(e, known)).join("\n"));
      const [a, b] = await Promise.all([envA, envB].map((e) => kustomizeBuildAsync(join(root, "overlays", e))));
      for (const line of buildDiffText(diffBuilds(a!, envA, b!, envB, { checksums: opts.checksums ?? false }), envA, envB, style)) io.out(line);
    });

  program
    .command("schedule")
    .description("show an environment's peak-hour plan as a week grid of replicas")
    .argument("<env>", "environment, e.g. prod")
    .option("-c, --config <file>", `config file (default: ${CONFIG_FILE} here or in the nearest parent directory)`)
    .option("-d, --dir <dir>", "project directory: where the config file is looked for")
    .option("--measured <file>", "also show a measured day (JSON, as the real-cluster suite writes it) beside the plan")
    .action(async (env: string, opts: Location & { measured?: string }) => {
      const config = await loadConfigFile(configFile(opts, io));
      const known = Object.keys(config.environments);
      if (!known.includes(env)) throw new UserError(unknownEnvironment(env, known));
      const target = resolveEnvironment(config, env);
      const measured = opts.measured ? readMeasuredDay(opts.measured, env) : undefined;
      const plan = weekPlan(target);
      if (plan) {
        for (const line of scheduleText(plan, style)) io.out(line);
        if (measured) for (const line of measuredDayText(compareDay(target, measured), measured.source, plan.timezone, style)) io.out(line);
      } else {
        const c = target.components;
        io.out(`${env} neither autoscales nor has peak hours: api-server ${c.apiServer.replicas}, scheduler ${c.scheduler.replicas} replica(s) at every hour`);
      }
      for (const line of limitsText(connectionBudget(config, env), config.environments[env]!.autoscaling?.scheduler?.min ?? target.components.scheduler.replicas)) io.out(line);
    });

  program
    .command("validate")
    .description("render every overlay and argocd/ with kustomize and check each object: schema, references, policy")
    .argument("[targets...]", "only these builds, e.g. overlays/prod argocd (default: every overlay and argocd)")
    .option("-c, --config <file>", "config file; the tree is its directory")
    .option("-d, --dir <dir>", "root of the generated tree (default: the config file's directory)")
    .option("--schemas <dir>", "also check against a directory of strict JSON schemas (kubeconform layout: k8s/, crds/)")
    .option("--json", "print the report as JSON")
    .option("--no-cache", "check every build again instead of reusing the verdicts of builds whose inputs did not change")
    .option("--cache-dir <dir>", "where verdicts are kept (default: $XDG_CACHE_HOME/airflow-gitops/validate, else ~/.cache/...)")
    .option("--server", "instead, dry-run every object on the cluster of the kubeconfig context (server-side apply, strict; changes nothing)")
    .option("--context <name>", "with --server: the kubeconfig context (default: the current one)")
    .option("--kubeconfig <file>", "with --server: the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--stand-in-namespace <name>", "with --server: where objects of a namespace the cluster lacks are checked", "default")
    .option("--request-timeout <seconds>", "with --server: deadline of each request, from connecting to the answer's last byte", "20")
    .action(async (targets: string[], opts: Location & { schemas?: string; json?: boolean; cache: boolean; cacheDir?: string } & ServerFlags) => {
      if (opts.server || opts.context || opts.kubeconfig || opts.requestTimeout !== "20") {
        exitCode = await validateServer(targets, opts, io);
        return;
      }
      if (opts.schemas && !existsSync(opts.schemas)) throw new UserError(`--schemas ${opts.schemas}: no such directory`);
      const root = treeRoot(opts, io);
      await finishInterruptedGen(root);
      // Loaded on demand: generation never needs the validators.
      const { formatProblem, validateRepository } = await import("./validate/validate.js");
      const { defaultCacheDir, ValidateCache } = await import("./validate/cache.js");
      const cacheDir = opts.cacheDir ? resolve(opts.cacheDir) : defaultCacheDir();
      const cache = opts.cache ? new ValidateCache<Problem>(cacheDir, opts.schemas ? resolve(opts.schemas) : undefined) : undefined;
      const report = await validateRepository(root, {
        ...(opts.schemas ? { schemasDir: resolve(opts.schemas) } : {}),
        ...(targets.length > 0 ? { targets: targets.map((t) => buildName(t, root)) } : {}),
        ...(cache ? { cache } : {}),
        ...(io.progress ? { onProgress: (p) => io.progress!(`validate: ${p.cached} from cache, ${p.built} built, ${p.checked} checked of ${p.total}`) } : {}),
      });
      io.progress?.("");
      if (opts.json) io.out(JSON.stringify(report, null, 2));
      else {
        for (const problem of report.problems) io.err(formatProblem(problem));
        // The cache is the user's, shared by every clone: a fresh clone may reuse verdicts another one stored.
        const reused = report.cached > 0 ? `; ${report.cached} of ${report.targets.length} build(s) unchanged, verdict from the cache in ${cacheDir} (--no-cache checks again)` : "";
        io.out(`${report.passed} passed, ${report.failed} failed (${report.targets.map((t) => t.target).join(", ")})${reused}`);
      }
      if (report.problems.length > 0) exitCode = 1;
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, io, errStyle);
  }
}

interface ServerFlags {
  server?: boolean;
  context?: string;
  kubeconfig?: string;
  standInNamespace: string;
  requestTimeout: string;
}

async function validateServer(targets: string[], opts: Location & { schemas?: string; json?: boolean } & ServerFlags, io: Io): Promise<number> {
  if (!opts.server) throw new UserError("--context, --kubeconfig and --request-timeout apply to --server only");
  const seconds = Number(opts.requestTimeout);
  if (!/^\d+(\.\d+)?$/.test(opts.requestTimeout) || seconds <= 0 || seconds > 3600) {
    throw new UserError(`--request-timeout ${opts.requestTimeout}: a number of seconds above 0 and at most 3600`);
  }
  if (opts.schemas) throw new UserError("--schemas applies to the local checks only, not with --server");
  // Loaded on demand: only --server needs the Kubernetes client.
  const { serverReportText, validateOnServer } = await import("./validate/server.js");
  const root = treeRoot(opts, io);
  await finishInterruptedGen(root);
  const report = await validateOnServer(root, {
    ...(targets.length > 0 ? { targets: targets.map((t) => buildName(t, root)) } : {}),
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    standInNamespace: opts.standInNamespace,
    requestTimeoutMs: seconds * 1000,
  });
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else {
    const text = serverReportText(report);
    for (const line of text.problems) io.err(line);
    for (const line of text.summary) io.out(line);
  }
  return report.problems.length > 0 || report.missingKinds.length > 0 ? 1 : 0;
}

/** The measured day of `--measured`, checked: a missing, unreadable or malformed file, or another environment's, is the user's error. */
function readMeasuredDay(file: string, env: string): MeasuredDay {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new UserError(`--measured ${file}: ${reason}`);
  }
  const issues = measuredDayIssues(value);
  if (issues.length) throw new UserError(issues.map((issue) => `--measured ${file}: ${issue}`).join("\n"));
  const day = value as MeasuredDay;
  if (day.environment !== env) throw new UserError(`--measured ${file}: measures environment ${day.environment}, not ${env}`);
  return day;
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

function reportError(error: unknown, io: Io, style: Style): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
  if (error instanceof ConfigError) {
    const file = shownPath(error.file);
    for (const issue of error.issues) io.err(style.red(formatIssue(file, issue)));
    io.err(style.bold(`${error.issues.length} problem(s) in ${file}; nothing was written`));
    return 1;
  }
  if (error instanceof UserError || error instanceof KustomizeError || error instanceof FileSystemError || error instanceof ClusterError) {
    io.err(style.red(error.message));
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
