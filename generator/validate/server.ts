/**
 * `validate --server`: every object of each build sent to the user's cluster as a server-side dry run
 * (`dryRun=All`, strict field validation), the way Argo CD applies it, so the API server's own checks
 * (defaulting, validation, CRD schemas and CEL rules, admission) judge it. Nothing is ever persisted.
 */
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { ClusterError } from "./cluster-error.js";
import { kustomizeBuildAsync, KustomizeError, type KubeDocument } from "./kustomize.js";
import { connect, connectionProblem, type ClusterTarget, type DryRunApi } from "./server-connection.js";
import { dryRunRequest, missingKindLines, type DryRunRequest, type MissingKind } from "./server-plan.js";
import { readStatus, statusOf, type DryRunOutcome } from "./server-status.js";
import { kustomizationSources, sourcesOf, type SourceFile } from "./sources.js";
import { discoverTargets, type Problem, type TargetReport } from "./validate.js";

export interface ServerOptions extends ClusterTarget {
  targets?: readonly string[];
  /** Where objects of a namespace the cluster does not have are checked (default `default`). */
  standInNamespace?: string;
}

export interface ServerProblem extends Problem {
  /** The namespace the object belongs in. */
  namespace?: string;
  /** Files of the tree that define the object, the one defining the rejected field first. */
  sources: string[];
}

export interface ServerTargetReport extends TargetReport {
  /** Objects not checked because the cluster does not serve their kind. */
  unchecked: number;
}

export interface ServerReport {
  cluster: { context: string; server: string; version: string };
  targets: ServerTargetReport[];
  problems: ServerProblem[];
  missingKinds: MissingKind[];
  /** Namespaces that do not exist in the cluster, and where their objects were checked instead. */
  standIns: { namespace: string; checkedIn: string; objects: number }[];
  notes: string[];
  passed: number;
  failed: number;
  unchecked: number;
  timings: { kustomizeMs: number; checksMs: number };
}

export async function validateOnServer(root: string, options: ServerOptions = {}): Promise<ServerReport> {
  const targets = await chosenTargets(root, options.targets);
  // The cluster first: a wrong kubeconfig or an unreachable server is reported before any build runs.
  const { api, context, server, version, timeoutMs } = await connect(options);
  const started = performance.now();
  const builds = await Promise.all(targets.map((t) => kustomizeBuildAsync(join(root, t)).catch((error: unknown) => error)));
  const kustomizeMs = performance.now() - started;
  const run = new DryRunSession(api, options.standInNamespace ?? "default", timeoutMs);
  const report: ServerReport = {
    cluster: { context, server, version },
    targets: [],
    problems: [],
    missingKinds: [],
    standIns: [],
    notes: [],
    passed: 0,
    failed: 0,
    unchecked: 0,
    timings: { kustomizeMs, checksMs: 0 },
  };
  const checking = performance.now();
  for (const [i, target] of targets.entries()) {
    const objects = builds[i];
    if (!Array.isArray(objects)) {
      if (!(objects instanceof KustomizeError)) throw objects;
      report.problems.push({ target, object: "kustomization", path: "/", message: `kustomize build failed: ${objects.message}`, sources: [] });
      report.targets.push({ target, objects: 0, failed: 1, unchecked: 0 });
      report.failed++;
      continue;
    }
    const sources = kustomizationSources(root, join(root, target));
    const result = await run.checkBuild(target, objects as KubeDocument[], sources);
    report.problems.push(...result.problems);
    report.targets.push({ target, objects: objects.length, failed: result.failed, unchecked: result.unchecked });
    report.failed += result.failed;
    report.unchecked += result.unchecked;
    report.passed += objects.length - result.failed - result.unchecked;
  }
  report.timings.checksMs = performance.now() - checking;
  report.missingKinds = [...run.missing.values()];
  report.standIns = [...run.standIns.entries()].map(([namespace, objects]) => ({ namespace, checkedIn: run.standIn, objects }));
  report.notes = run.notes;
  return report;
}

async function chosenTargets(root: string, wanted?: readonly string[]): Promise<string[]> {
  const known = await discoverTargets(root);
  if (known.length === 0) throw new KustomizeError(`${root}: no overlays/<env>/kustomization.yaml and no argocd/ to validate; run \`npm run gen\` first`);
  const targets = (wanted && wanted.length > 0 ? wanted : known).map((t) => t.replace(/\/+$/, ""));
  const unknown = targets.filter((t) => !known.includes(t));
  if (unknown.length > 0) throw new KustomizeError(`no build ${unknown.join(", ")} to validate; the repository has: ${known.join(", ")}`);
  return targets;
}

/** Dry runs in flight at once: a remote cluster answers in tens of milliseconds, a build has about a hundred objects. */
const CONCURRENT_REQUESTS = 8;

/** The dry runs of one invocation, sharing what the cluster told: kinds it lacks, namespaces it lacks. */
class DryRunSession {
  readonly missing = new Map<string, MissingKind>();
  readonly missingNamespaces = new Set<string>();
  /** Missing namespace -> how many objects were checked in the stand-in instead. */
  readonly standIns = new Map<string, number>();
  readonly notes: string[] = [];

  constructor(
    private readonly api: DryRunApi,
    readonly standIn: string,
    private readonly timeoutMs: number,
  ) {}

  async checkBuild(target: string, objects: readonly KubeDocument[], sources: readonly SourceFile[]) {
    const kinds = await Promise.all(objects.map((o) => this.call(() => this.api.lookupKind(o.apiVersion, o.kind))));
    const namespaced = (i: number) => {
      const kind = kinds[i]!;
      return kind.served && kind.namespaced;
    };
    const outcomes: Awaited<ReturnType<DryRunSession["send"]>>[] = new Array(objects.length);
    const send = async (i: number) => {
      outcomes[i] = await this.send(objects[i]!, namespaced(i), target);
    };
    const served = objects.map((_, i) => i).filter((i) => kinds[i]!.served);
    // The first object of each namespace goes alone, so a missing namespace is learnt once, not per object.
    const firsts = new Map<string, number>();
    for (const i of served.filter(namespaced)) {
      const namespace = objects[i]!.metadata.namespace ?? "";
      if (!firsts.has(namespace)) firsts.set(namespace, i);
    }
    for (const i of firsts.values()) await send(i);
    const rest = served.filter((i) => outcomes[i] === undefined);
    for (let from = 0; from < rest.length; from += CONCURRENT_REQUESTS) await Promise.all(rest.slice(from, from + CONCURRENT_REQUESTS).map(send));

    const problems: ServerProblem[] = [];
    let failed = 0;
    let unchecked = 0;
    for (const [i, object] of objects.entries()) {
      const name = `${object.kind}/${object.metadata.name}`;
      const kind = kinds[i]!;
      if (!kind.served) {
        const key = `${object.apiVersion} ${object.kind}`;
        const entry = this.missing.get(key) ?? { apiVersion: object.apiVersion, kind: object.kind, groupMissing: kind.groupMissing, objects: [] };
        entry.objects.push(`${target} ${name}`);
        this.missing.set(key, entry);
        unchecked++;
        continue;
      }
      const outcome = outcomes[i]!;
      if (outcome === "accepted") continue;
      if (outcome === "unchecked") {
        unchecked++;
        continue;
      }
      failed++;
      for (const r of outcome.rejections) {
        problems.push({
          target,
          object: name,
          ...(kind.namespaced && object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
          path: r.path,
          message: r.message,
          sources: sourcesOf(object, r.path, sources),
        });
      }
    }
    return { problems, failed, unchecked };
  }

  /** Sends the object, into the stand-in namespace when its own does not exist; a hook that exists already is tried there too. */
  private async send(object: KubeDocument, namespaced: boolean, target: string): Promise<"accepted" | "unchecked" | Extract<DryRunOutcome, { kind: "rejected" }>> {
    let request = dryRunRequest(object, namespaced, this.missingNamespaces, this.standIn);
    let outcome = await this.attempt(request);
    if (outcome.kind === "namespace-missing") {
      if (outcome.namespace === this.standIn) throw new ClusterError(`the stand-in namespace ${this.standIn} does not exist in the cluster: pass --stand-in-namespace with one that does`);
      this.missingNamespaces.add(outcome.namespace);
      request = dryRunRequest(object, namespaced, this.missingNamespaces, this.standIn);
      outcome = await this.attempt(request);
    }
    const own = object.metadata.namespace ?? this.standIn;
    if (request.standIn) this.standIns.set(own, (this.standIns.get(own) ?? 0) + 1);
    const name = `${target} ${object.kind}/${object.metadata.name}`;
    if (outcome.kind === "already-exists" && request.method === "create" && !request.standIn && namespaced && own !== this.standIn) {
      // An earlier sync's hook: Argo CD deletes it before creating it again, which a dry run cannot do.
      request = { ...request, body: { ...request.body, metadata: { ...request.body.metadata, namespace: this.standIn } }, standIn: this.standIn };
      outcome = await this.attempt(request);
      if (outcome.kind !== "already-exists") this.notes.push(`${name}: a hook already in namespace ${own} (Argo CD recreates it); checked as a new object in namespace ${this.standIn}`);
    }
    if (outcome.kind === "accepted") return "accepted";
    if (outcome.kind === "already-exists") {
      this.notes.push(`${name}: a hook Argo CD recreates, already present where it could be checked; a dry run cannot delete it first, so it was not checked`);
      return "unchecked";
    }
    if (outcome.kind === "namespace-missing") throw new ClusterError(`namespace ${outcome.namespace} does not exist in the cluster`);
    return outcome;
  }

  private async attempt(request: DryRunRequest): Promise<DryRunOutcome | { kind: "accepted" }> {
    try {
      await this.api.dryRun(request.body, request.method);
      return { kind: "accepted" };
    } catch (error) {
      if (error instanceof ApiException && error.code >= 400 && error.code !== 401) return readStatus(statusOf(error.body, error.code), request.body);
      throw new ClusterError(`the cluster stopped answering: ${connectionProblem(error, this.timeoutMs)}`);
    }
  }

  /** A discovery request; failures other than "not served" are the cluster's, reported in one line. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw new ClusterError(`discovery failed: ${connectionProblem(error, this.timeoutMs)}`);
    }
  }
}

/** The report as lines: problems (stderr), then what the cluster lacks, the stand-ins, and the summary (stdout). */
export function serverReportText(report: ServerReport): { problems: string[]; summary: string[] } {
  const problems = report.problems.map(formatServerProblem);
  const summary: string[] = [];
  if (report.missingKinds.length > 0) {
    summary.push("the cluster does not serve these kinds (install their CRDs); their objects were not checked:");
    for (const line of missingKindLines(report.missingKinds)) summary.push(`  ${line}`);
  }
  for (const s of report.standIns) {
    summary.push(`namespace ${s.namespace} does not exist in the cluster: its ${s.objects} object(s) were checked in namespace ${s.checkedIn}`);
  }
  summary.push(...report.notes);
  const c = report.cluster;
  summary.push(
    `server dry run on context ${c.context} (${c.server}, Kubernetes ${c.version}): ${report.passed} accepted, ${report.failed} rejected, ${report.unchecked} not checked (${report.targets.map((t) => t.target).join(", ")})`,
  );
  return { problems, summary };
}

export function formatServerProblem(p: ServerProblem): string {
  const where = [p.namespace ? `namespace ${p.namespace}` : "", p.sources.length > 0 ? `from ${p.sources.join(", ")}` : ""].filter(Boolean).join("; ");
  return `${p.target} ${p.object} ${p.path}: ${p.message}${where ? ` (${where})` : ""}`;
}
