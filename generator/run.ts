/**
 * The gen command: read the config, generate, render, then either compare with the tree (--check)
 * or bring the tree up to date. Everything that can fail on bad input fails before the first write.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { loadConfigWithWarnings } from "./config/load.js";
import { MAX_CONFIG_BYTES } from "./config/source.js";
import { ConfigError, sortIssues, type ConfigIssue } from "./config/issues.js";
import { nameLimitIssues } from "./core/name-limits.js";
import { podHatchIssues } from "./core/pod-hatch-checks.js";
import { storageChanges } from "./core/storage-changes.js";
import { pathCollisions } from "./core/path-collisions.js";
import { names } from "./core/names.js";
import { readBuilderSource } from "./builder-source.js";
import { configJsonSchema, type Config } from "./config/schema.js";
import { weekPlan } from "./core/schedule.js";
import { resolveEnvironment } from "./core/target.js";
import { configReference } from "./docs/config-doc.js";
import { scheduleSvg } from "./docs/schedule-svg.js";
import { generate, OWNED_DIRS, type GeneratedFile } from "./core/index.js";
import { generatedHeader, renderAll } from "./render/render.js";
import { isUpToDate, plan, type Plan } from "./fs/plan.js";
import { applyPlan, finishInterruptedWrite, JOURNAL_FILE, JournalError, readOwnedTree, removeStaleTempFiles } from "./fs/tree.js";
import { OwnedLinkError, refuseLinks } from "./fs/links.js";
import { lockTree, TreeLockedError } from "./fs/lock.js";
import { fileSystemProblem } from "./fs/errors.js";
import { existsSync, statSync } from "node:fs";

export const CONFIG_FILE = "airflow-gitops.yaml";
export const SCHEMA_FILE = "airflow-gitops.schema.json";
export const CONFIG_REFERENCE_FILE = "docs/config.md";
/** The files of docs/ the generator writes (and deletes when stale); other files there are the user's. */
const OWNED_DOCS = { dir: "docs", names: /^(config\.md|schedule-[a-z][a-z0-9-]*\.svg)$/ };

export interface GenOptions {
  configPath: string;
  /** Root of the generated tree; defaults to the config file's directory. */
  outDir?: string;
  /** Write nothing (for --check and --diff). */
  check: boolean;
  /** Delete files without the generated header too (hand-written files in a generated folder). */
  force?: boolean;
  /** Write a StorageClass or claim change the cluster refuses in place (its old objects were removed there). */
  storageChange?: boolean;
}

export interface GenResult {
  plan: Plan;
  upToDate: boolean;
  /** The generated text of every file, and what the tree held, by path. */
  desired: ReadonlyMap<string, string>;
  current: ReadonlyMap<string, string>;
  /** Findings about the config that did not stop generation. */
  warnings: readonly ConfigIssue[];
}

export class UserError extends Error {
  override name = "UserError";
}

export async function desiredTree(configText: string, configName: string): Promise<Map<string, string>> {
  return (await desiredTreeWithWarnings(configText, configName, CONFIG_FILE)).desired;
}

/** `source` is the config file as the headers name it: its path from the root of the tree. */
async function desiredTreeWithWarnings(configText: string, configName: string, source: string) {
  const { config, warnings, locate } = loadConfigWithWarnings(configText, configName);
  const builderSource = config.dags.taskSpecs ? readBuilderSource() : undefined;
  // Before generating: an overlay cannot be derived from a hatch that takes over a generated field.
  const hatchIssues = podHatchIssues({ ...config, builderSource } as Config);
  if (hatchIssues.length > 0) throw new ConfigError(configName, sortIssues(hatchIssues.map(locate)));
  const generated = generate(config, builderSource);
  const files: GeneratedFile[] = [...generated, schemaFile(), ...docFiles(config)];
  const issues = [...nameLimitIssues(generated, config), ...pathCollisions(files, Object.keys(config.environments))];
  if (issues.length > 0) throw new ConfigError(configName, sortIssues(issues.map(locate)));
  return { desired: renderAll(files, generatedHeader(source)), warnings, config, locate };
}

/** Changes of storage the cluster refuses in place, as config errors, unless the user says the old objects are gone. */
function refuseStorageChanges(result: GenResult, config: Config, configName: string, locate: (issue: ConfigIssue) => ConfigIssue): void {
  const environments = Object.entries(config.environments).map(([name, env]) => ({
    name,
    storageClass: names({ ...config, environment: { name } }).storageClass,
    overrides: (field: string) => field.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], env) !== undefined,
  }));
  const n = names(config);
  const issues = storageChanges(result.current, result.desired, environments, { dags: n.dagsClaim, logs: n.logsClaim });
  if (issues.length > 0) throw new ConfigError(configName, sortIssues(issues.map(locate)));
}

export function schemaFile(): GeneratedFile {
  return {
    path: SCHEMA_FILE,
    format: "json",
    content: { $comment: 'Code generated by "npm run gen". DO NOT EDIT.', ...configJsonSchema() },
  };
}

/** docs/config.md, and docs/schedule-<env>.svg for every environment that autoscales or has peak hours. */
export function docFiles(config: Config): GeneratedFile[] {
  return [
    { path: CONFIG_REFERENCE_FILE, format: "markdown", content: { text: configReference(configJsonSchema() as never) } },
    ...Object.keys(config.environments).flatMap((env): GeneratedFile[] => {
      const plan = weekPlan(resolveEnvironment(config, env));
      return plan ? [{ path: scheduleFile(env), format: "svg", content: { text: scheduleSvg(plan) } }] : [];
    }),
  ];
}

export function scheduleFile(environment: string): string {
  return `docs/schedule-${environment}.svg`;
}

export async function runGen(options: GenOptions): Promise<GenResult> {
  const configPath = resolve(options.configPath);
  const root = resolve(options.outDir ?? dirname(configPath));
  const text = await readConfigText(options.configPath);
  const source = relative(root, configPath).split(sep).join("/");
  const { desired, warnings, config, locate } = await desiredTreeWithWarnings(text, options.configPath, source);
  const checked = (result: GenResult) => {
    if (!options.storageChange) refuseStorageChanges(result, config, options.configPath, locate);
    return result;
  };
  const outKind = statSync(root, { throwIfNoEntry: false });
  if (outKind && !outKind.isDirectory()) throw new UserError(`${options.outDir ?? root}: is a file; the output must be a directory`);
  try {
    refuseLinks(root, [...OWNED_DIRS, OWNED_DOCS.dir, SCHEMA_FILE]);
    // --check reads only, so checks may run side by side; a write, or finishing one, takes the lock.
    if (options.check && !existsSync(join(root, JOURNAL_FILE))) return checked(compare(root, desired, warnings));
    const release = lockTree(root);
    try {
      await finishInterruptedWrite(root);
      if (options.check) return checked(compare(root, desired, warnings));
      await removeStaleTempFiles(root, [...OWNED_DIRS, OWNED_DOCS.dir], [SCHEMA_FILE, JOURNAL_FILE]);
      const result = checked(compare(root, desired, warnings));
      const handWritten = result.plan.delete.filter((path) => !/Code generated by "npm run gen"/.test(result.current.get(path)!.slice(0, 400)));
      if (handWritten.length > 0 && !options.force) {
        throw new UserError(
          `${handWritten.join(", ")}: not written by gen (no generated header), in a folder gen owns and would delete it; ` +
            "move it out of the generated folders, or run gen with --force to delete it",
        );
      }
      if (!result.upToDate) await applyPlan(root, result.plan, desired);
      return result;
    } finally {
      release();
    }
  } catch (error) {
    if (error instanceof OwnedLinkError || error instanceof TreeLockedError || error instanceof JournalError) throw new UserError(error.message);
    throw fileSystemProblem(error, root) ?? error;
  }
}

function compare(root: string, desired: ReadonlyMap<string, string>, warnings: readonly ConfigIssue[]): GenResult {
  const current = readOwnedTree(root, OWNED_DIRS, [SCHEMA_FILE], OWNED_DOCS);
  const p = plan(desired, current);
  return { plan: p, upToDate: isUpToDate(p), desired, current, warnings };
}

/** Finishes a write a killed gen decided on, before anything reads the tree (validate calls this too). */
export async function finishInterruptedGen(root: string): Promise<void> {
  if (!existsSync(join(root, JOURNAL_FILE))) return;
  try {
    const release = lockTree(root);
    try {
      await finishInterruptedWrite(root);
    } finally {
      release();
    }
  } catch (error) {
    if (error instanceof TreeLockedError || error instanceof JournalError) throw new UserError(error.message);
    throw fileSystemProblem(error, root) ?? error;
  }
}

async function readConfigText(path: string): Promise<string> {
  const size = statSync(resolve(path), { throwIfNoEntry: false })?.size ?? 0;
  if (size > MAX_CONFIG_BYTES) throw new UserError(`${path}: is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`);
  return readFile(resolve(path), "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`${path}: cannot read the config file (${error.code ?? error.message})`);
  });
}

/** The config file, loaded and checked (a ConfigError lists every problem). */
export async function loadConfigFile(path: string): Promise<Config> {
  return loadConfigWithWarnings(await readConfigText(path), path).config;
}
