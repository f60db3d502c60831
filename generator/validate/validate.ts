/**
 * `validate`: every environment overlay and argocd/, rendered with real kustomize, then each object
 * checked: schema (types, required fields, enums; unknown fields as errors), the embedded task pod
 * template as a Pod, references inside the build, and policy.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import type { ValidateCache } from "./cache.js";
import { kustomizeBuildTextAsync, KustomizeError, parseDocuments } from "./kustomize.js";
import type { ObjectSchemaValidator } from "./schema-dir.js";

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
  const report: ValidationReport = { targets: [], problems: [], passed: 0, failed: 0, timings: { kustomizeMs: 0, checksMs: 0 }, cached: 0 };
  const { cache } = options;
  const keys = cache ? await cache.keys(root, targets) : targets.map(() => undefined);
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
  // A verdict is stored only when the build's inputs are still those of its key: an input changed
  // while the builds ran may not have been what kustomize read.
  const rebuilt = targets.filter((_, i) => keys[i] && !verdicts[i]);
  const keysAfter = new Map(rebuilt.length > 0 ? (await cache!.keys(root, rebuilt)).map((key, i) => [rebuilt[i]!, key]) : []);
  let checks: Promise<Checks> | undefined;
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
    const { validateBuild, strict } = await (checks ??= loadChecks(options.schemasDir));
    const problems = await validateBuild(target, objects, strict);
    report.timings.checksMs += performance.now() - checking;
    record(report, target, objects.length, problems);
    if (keys[i] && keysAfter.get(target) === keys[i]) cache!.set(keys[i], { objects: objects.length, problems }, text as string);
    progress.checked++;
    tell();
  }
  return report;
}

interface Checks {
  validateBuild: typeof import("./checks.js").validateBuild;
  strict: ObjectSchemaValidator | undefined;
}

/** The checkers (models, field tables, strict schemas) load only when a build needs checking: reused verdicts need none. */
async function loadChecks(schemasDir: string | undefined): Promise<Checks> {
  const strict = schemasDir ? (await import("./schema-dir.js")).schemaDirValidator(schemasDir) : undefined;
  return { validateBuild: (await import("./checks.js")).validateBuild, strict };
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

export function formatProblem(p: Problem): string {
  return `${p.target} ${p.object} ${p.path}: ${p.message}`;
}
