#!/usr/bin/env node
/** Command line: parses arguments, runs a command, prints, and is the only place that exits. */
import { Command, CommanderError } from "commander";
import { ConfigError, formatIssue } from "./config/issues.js";
import { CONFIG_FILE, runGen, UserError } from "./run.js";
import type { Plan } from "./fs/plan.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { KustomizeError } from "./validate/kustomize.js";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** Runs the CLI and returns the exit code: 0 success, 1 user error or out-of-date tree, 2 internal error. */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name("airflow-gitops")
    .description("Generates the GitOps repository for Apache Airflow on Kubernetes from airflow-gitops.yaml.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command("gen")
    .description("write base/, overlays/, secrets/, argocd/ and the config schema from the config file")
    .option("-c, --config <file>", "config file", CONFIG_FILE)
    .option("-o, --out <dir>", "root of the generated tree (default: the config file's directory)")
    .option("--check", "write nothing; exit 1 and list the files that are missing, changed or extra")
    .action(async (opts: { config: string; out?: string; check?: boolean }) => {
      const check = opts.check ?? false;
      const result = await runGen({ configPath: opts.config, ...(opts.out ? { outDir: opts.out } : {}), check });
      if (check) {
        if (result.upToDate) io.out(`up to date: ${result.plan.unchanged.length} files`);
        else {
          for (const line of describePlan(result.plan, { missing: "missing", changed: "changed", extra: "extra" })) io.err(line);
          io.err("the generated files are out of date: run `npm run gen`");
          exitCode = 1;
        }
      } else {
        const p = result.plan;
        io.out(`${p.create.length} created, ${p.update.length} changed, ${p.delete.length} deleted, ${p.unchanged.length} unchanged`);
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
  if (error instanceof UserError || error instanceof KustomizeError) {
    io.err(error.message);
    return 1;
  }
  io.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  io.err("nothing was written");
  return 2;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(2);
    },
  );
}
