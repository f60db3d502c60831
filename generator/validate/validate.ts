/**
 * `validate`: every environment overlay and argocd/, rendered with real kustomize, then each object
 * checked: schema (types, required fields, enums; unknown fields as errors), the embedded task pod
 * template as a Pod, references inside the build, and policy.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import type { ValidateCache } from "./cache.js";
import { kustomizeBuildTextAsync, KustomizeError, parseDocuments, type KubeDocument } from "./kustomize.js";
import { validateWithModels } from "./models.js";
import { embeddedPods } from "./pods.js";
import { checkPolicy } from "./policy.js";
import { checkReferences, type Finding } from "./references.js";
import { schemaDirValidator, type ObjectSchemaValidator, type SchemaProblem } from "./schema-dir.js";
import { unknownFields } from "./unknown-fields.js";

export interface Problem {
  target: string;
  object: string;
  path: string;
  message: string;
}

export interface TargetReport {
  target: string;
  objects: number;
  failed: number;
}

export interface ValidationReport {
  targets: TargetReport[];
  problems: Problem[];
  passed: number;
  failed: number;
  timings: { kustomizeMs: number; checksMs: number };
  /** Builds whose verdict came from the cache. */
  cached: number;
}

export interface ValidateOptions {
  /** A directory of kubeconform-style strict schemas (k8s/, crds/) checked in addition. */
  schemasDir?: string;
  /** Only these builds (`overlays/prod`, `argocd`); each must be one the repository has. */
  targets?: readonly string[];
  /** Reuse verdicts of builds whose inputs have not changed, and store new ones. */
  cache?: ValidateCache<Problem>;
  /** Told after each build is rendered and after each is checked. */
  onProgress?: (progress: { built: number; checked: number; cached: number; total: number }) => void;
}

/** What to validate: every overlay with a kustomization, then argocd/. */
export async function discoverTargets(root: string): Promise<string[]> {
  const overlays = existsSync(join(root, "overlays")) ? readdirSync(join(root, "overlays"), { withFileTypes: true }) : [];
  const targets = overlays
    .filter((entry) => entry.isDirectory() && existsSync(join(root, "overlays", entry.name, "kustomization.yaml")))
    .map((entry) => `overlays/${entry.name}`)
    .sort();
  if (existsSync(join(root, "argocd", "kustomization.yaml"))) targets.push("argocd");
  return targets;
}

export async function validateRepository(root: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const known = await discoverTargets(root);
  if (known.length === 0) throw new KustomizeError(`${root}: no overlays/<env>/kustomization.yaml and no argocd/ to validate; run \`npm run gen\` first`);
  const wanted = (options.targets ?? known).map((t) => t.replace(/\/+$/, ""));
  const unknown = wanted.filter((t) => !known.includes(t));
  if (unknown.length > 0) throw new KustomizeError(`no build ${unknown.join(", ")} to validate; the repository has: ${known.join(", ")}`);
  const targets = wanted;
  const strict = options.schemasDir ? schemaDirValidator(options.schemasDir) : undefined;
  const report: ValidationReport = { targets: [], problems: [], passed: 0, failed: 0, timings: { kustomizeMs: 0, checksMs: 0 }, cached: 0 };
  const { cache } = options;
  const keys = targets.map((target) => cache?.key(target, join(root, target)));
  const verdicts = keys.map((key) => (key ? cache!.get(key) : undefined));
  const progress = { built: 0, checked: 0, cached: verdicts.filter(Boolean).length, total: targets.length };
  const tell = () => options.onProgress?.({ ...progress });
  // Builds are separate processes: run them together (a few at a time), then check one after the other.
  const started = performance.now();
  const texts = await inPool(
    targets.map((target, i) => async () => {
      if (verdicts[i]) return undefined;
      const text = await kustomizeBuildTextAsync(join(root, target)).catch((error: unknown) => error);
      progress.built++;
      tell();
      return text;
    }),
    Math.max(4, 2 * cpus().length),
  );
  report.timings.kustomizeMs = performance.now() - started;
  for (const [i, target] of targets.entries()) {
    const verdict = verdicts[i];
    if (verdict) {
      report.cached++;
      record(report, target, verdict.objects, verdict.problems);
      continue;
    }
    const text = texts[i];
    const objects = typeof text === "string" ? parseDocuments(text) : text;
    if (!Array.isArray(objects)) {
      if (!(objects instanceof KustomizeError)) throw objects;
      report.problems.push({ target, object: "kustomization", path: "/", message: `kustomize build failed: ${objects.message}` });
      report.targets.push({ target, objects: 0, failed: 1 });
      report.failed++;
      continue;
    }
    const checking = performance.now();
    const problems = await validateBuild(target, objects, strict);
    report.timings.checksMs += performance.now() - checking;
    record(report, target, objects.length, problems);
    if (keys[i]) cache!.set(keys[i], { objects: objects.length, problems }, text as string);
    progress.checked++;
    tell();
  }
  return report;
}

function record(report: ValidationReport, target: string, objects: number, problems: readonly Problem[]): void {
  const failedObjects = new Set(problems.map((p) => p.object));
  report.problems.push(...problems);
  report.targets.push({ target, objects, failed: failedObjects.size });
  report.failed += failedObjects.size;
  report.passed += objects - failedObjects.size;
}

/** Runs the tasks with at most `limit` at a time, results in order. */
async function inPool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Every problem of one rendered build. */
export async function validateBuild(target: string, objects: readonly KubeDocument[], strict?: ObjectSchemaValidator): Promise<Problem[]> {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (object: KubeDocument, path: string, message: string) => {
    const problem = { target, object: `${object.kind}/${object.metadata.name}`, path, message };
    const key = `${problem.object} ${path} ${message}`;
    if (!seen.has(key)) (seen.add(key), problems.push(problem));
  };
  for (const o of objects) {
    for (const p of await schemaProblems(o, strict)) add(o, p.path, p.message);
  }
  for (const { owner, key, pod } of embeddedPods(objects)) {
    for (const p of await schemaProblems(pod, strict)) add(owner, `/data/${key}${p.path === "/" ? "" : p.path}`, `(as a Pod) ${p.message}`);
  }
  const findings: Finding[] = [...checkReferences(objects), ...checkPolicy(objects)];
  for (const f of findings) add(f.object, f.path, f.message);
  return problems;
}

async function schemaProblems(object: KubeDocument, strict?: ObjectSchemaValidator): Promise<SchemaProblem[]> {
  if (!object || typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    return [{ path: "/", message: "not a Kubernetes object (apiVersion and kind are required)" }];
  }
  const typed = await validateWithModels(object);
  const unknown = unknownFields(object);
  const problems: SchemaProblem[] = [...(typed ?? []), ...(unknown ?? [])];
  if (typed === undefined && unknown === undefined) problems.push({ path: "/", message: `no schema is known for ${object.apiVersion} ${object.kind}` });
  if (strict) problems.push(...(strict.validate(object) ?? []));
  return problems;
}

export function formatProblem(p: Problem): string {
  return `${p.target} ${p.object} ${p.path}: ${p.message}`;
}
