import { cpSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { main, type Io } from "../generator/cli.js";
import { readBuilderSource } from "../generator/builder-source.js";
import { ConfigError, formatIssue } from "../generator/config/issues.js";
import { loadConfig } from "../generator/config/load.js";
import type { Config } from "../generator/config/schema.js";
import { kustomizeBuildText, parseDocuments, type KubeDocument } from "../generator/validate/kustomize.js";
import { tempDir } from "./temp-dirs.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const EXAMPLE_CONFIG = join(ROOT, "airflow-gitops.yaml");
/** Strict upstream schemas, present beside the project in CI and on developer machines. */
export const SHARED_SCHEMAS = resolve(ROOT, "..", "shared", "schemas");
export const hasSharedSchemas = existsSync(join(SHARED_SCHEMAS, "k8s"));

export function exampleText(): string {
  return readFileSync(EXAMPLE_CONFIG, "utf8");
}

export function exampleData(): Record<string, unknown> {
  return parse(exampleText()) as Record<string, unknown>;
}

/** A config as `gen` hands it to the core: loaded, with the built-in DAG builder's files attached. */
export function loadForCore(text: string, fileName = "airflow-gitops.yaml"): Config {
  return { ...loadConfig(text, fileName), builderSource: readBuilderSource() } as Config;
}

/** What loading `text` reports, each problem as the CLI prints it; [] when it loads. */
export function configProblems(text: string): string[] {
  try {
    loadConfig(text, "airflow-gitops.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => formatIssue(error.file, i));
    throw error;
  }
  return [];
}

/** The example config after `change` edited its parsed form, loaded for the core. */
export function exampleWith(change: (data: any) => void): Config {
  const data = exampleData();
  change(data);
  return loadForCore(stringify(data));
}

/** The problems of the example config after `change` edited its parsed form. */
export function exampleProblems(change: (data: any) => void): string[] {
  const data = exampleData();
  change(data);
  return configProblems(stringify(data));
}

/** Parses a YAML file below `dir`, lets `change` edit it, writes it back. */
export function editYaml(dir: string, file: string, change: (doc: any) => void): void {
  const path = join(dir, file);
  const doc = parse(readFileSync(path, "utf8"));
  change(doc);
  writeFileSync(path, stringify(doc));
}

/**
 * A fresh directory holding only the example config (and, optionally, a copy of the committed tree),
 * removed after the test file that made it.
 */
export function tempProject(options: { withTree?: boolean; configText?: string } = {}): string {
  const dir = tempDir("airflow-gitops-test-");
  cpSync(EXAMPLE_CONFIG, join(dir, "airflow-gitops.yaml"));
  if (options.configText !== undefined) writeFileSync(join(dir, "airflow-gitops.yaml"), options.configText);
  if (options.withTree) {
    for (const entry of ["base", "overlays", "secrets", "argocd", "docs", "airflow-gitops.schema.json"]) copyIfExists(join(ROOT, entry), join(dir, entry));
  }
  return dir;
}

function copyIfExists(from: string, to: string): void {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}

/** Every file below `dir` with its content, to prove a command left a tree byte-identical. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** `gen` on the config of a temporary project. */
export function genIn(dir: string, ...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(["gen", "--config", join(dir, "airflow-gitops.yaml"), ...extra]);
}

const committedBuilds = new Map<string, string>();

/**
 * The committed tree's `target` (`overlays/prod`, `base`, `argocd`) rendered by kustomize, once per test
 * process: no test changes the committed tree. Each call parses anew, so callers may change what they get.
 */
export function committedBuild(target: string): KubeDocument[] {
  let text = committedBuilds.get(target);
  if (text === undefined) committedBuilds.set(target, (text = kustomizeBuildText(join(ROOT, target))));
  return parseDocuments(text);
}
