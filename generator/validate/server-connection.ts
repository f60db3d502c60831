/**
 * The connection to the user's cluster for `validate --server`: the kubeconfig and context chosen,
 * a reachability check, kind discovery and the dry-run requests. Every request it sends is a read
 * or carries `dryRun=All`: nothing it does changes the cluster.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  ApiException,
  createConfiguration,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  VersionApi,
  type RequestContext,
} from "@kubernetes/client-node";
import { ClusterError } from "./cluster-error.js";
import type { KubeDocument } from "./kustomize.js";
import type { DryRunMethod } from "./server-plan.js";

/**
 * Argo CD's own field manager: applied with the name that owns the live objects, a dry run over a
 * synced environment shows exactly what Argo CD's next sync would do (fields it stops setting are removed).
 */
export const FIELD_MANAGER = "argocd-controller";
/** The default deadline of each request: connect, TLS, first byte and the whole answer. */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface ClusterTarget {
  kubeconfig?: string;
  context?: string;
  /** Deadline of each request, from its start to the last byte of the answer (default 20 s). */
  requestTimeoutMs?: number;
}

export interface Connected {
  api: DryRunApi;
  context: string;
  server: string;
  version: string;
  timeoutMs: number;
}

export type KindLookup = { served: true; namespaced: boolean } | { served: false; groupMissing: boolean };

/** KubernetesObjectApi sends bodies through the typed models, which drop unknown fields; this sends the object as written. */
export class DryRunApi extends KubernetesObjectApi {
  private readonly kinds = new Map<string, Promise<KindLookup>>();

  /** Whether the cluster serves apiVersion/kind, and its scope (from discovery, cached per kind). */
  lookupKind(apiVersion: string, kind: string): Promise<KindLookup> {
    const key = `${apiVersion} ${kind}`;
    let found = this.kinds.get(key);
    if (!found) {
      found = this.resource(apiVersion, kind).then(
        (r): KindLookup => (r ? { served: true, namespaced: r.namespaced } : { served: false, groupMissing: false }),
        (error: unknown): KindLookup => {
          if (error instanceof ApiException && error.code === 404) return { served: false, groupMissing: true };
          throw error;
        },
      );
      this.kinds.set(key, found);
    }
    return found;
  }

  /** One dry-run request; resolves when the server accepted the object, throws its ApiException otherwise. */
  async dryRun(body: KubeDocument, method: DryRunMethod): Promise<void> {
    const path = await this.specUriPath(structuredClone(body), method === "apply" ? "patch" : "create");
    const context = this.configuration.baseServer.makeRequestContext(path, method === "apply" ? HttpMethod.PATCH : HttpMethod.POST);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("Content-Type", method === "apply" ? "application/apply-patch+yaml" : "application/json");
    context.setQueryParam("dryRun", "All");
    context.setQueryParam("fieldValidation", "Strict");
    context.setQueryParam("fieldManager", FIELD_MANAGER);
    // Argo CD's server-side apply forces conflicts with other field managers.
    if (method === "apply") context.setQueryParam("force", "true");
    // JSON is YAML: the apply content type takes it as is.
    context.setBody(JSON.stringify(body));
    await this.requestPromise(context);
  }
}

/** Loads the kubeconfig, picks the context, and checks the cluster answers; every failure a one-line ClusterError. */
export async function connect(target: ClusterTarget): Promise<Connected> {
  const kc = loadKubeConfig(target.kubeconfig);
  if (target.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new ClusterError(`--context ${target.context}: no such context in the kubeconfig; it has: ${names.join(", ") || "none"}`);
    }
    kc.setCurrentContext(target.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster) throw new ClusterError("the kubeconfig has no current context: pass --context NAME or set one with `kubectl config use-context`");
  const timeoutMs = target.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  let version: string;
  try {
    version = (await withDeadline(kc, VersionApi, timeoutMs).getCode()).gitVersion;
  } catch (error) {
    const reached = error instanceof ApiException;
    throw new ClusterError(`${reached ? "the cluster" : "cannot reach the cluster"} of context ${context} at ${cluster.server}: ${connectionProblem(error, timeoutMs)}`);
  }
  return { api: withDeadline(kc, DryRunApi, timeoutMs), context, server: cluster.server, version, timeoutMs };
}

/**
 * A client whose every request is aborted at the deadline: the abort closes the socket, so a server that
 * accepts the connection and never answers (or answers a byte at a time) cannot hold the process.
 */
function withDeadline<T>(kc: KubeConfig, api: new (config: ReturnType<typeof createConfiguration>) => T, timeoutMs: number): T {
  const deadline = {
    pre: async (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      return context;
    },
    post: async <R>(response: R) => response,
  };
  return new api(
    createConfiguration({
      baseServer: new ServerConfiguration(kc.getCurrentCluster()!.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [deadline],
    }),
  );
}

function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  const path = file ?? defaultKubeconfig();
  if (!path) throw new ClusterError("no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG or create ~/.kube/config");
  for (const f of path.split(":").filter(Boolean)) if (!existsSync(f)) throw new ClusterError(`kubeconfig ${f}: no such file`);
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (error) {
    throw new ClusterError(`kubeconfig ${path}: cannot be read (${(error as Error).message.split("\n")[0]})`);
  }
  return kc;
}

function defaultKubeconfig(): string | undefined {
  if (process.env.KUBECONFIG) return process.env.KUBECONFIG;
  const file = join(homedir(), ".kube", "config");
  return existsSync(file) ? file : undefined;
}

/** What stopped a request from reaching an answer, in one line. */
export function connectionProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof ApiException) {
    if (error.code === 401) return "the credentials were refused (401 Unauthorized)";
    if (error.code === 403) return "access denied (403 Forbidden)";
    return `HTTP ${error.code}`;
  }
  const e = error as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === "AbortError" || e.name === "TimeoutError") return `no complete answer within ${timeoutMs / 1000} s (--request-timeout)`;
  const code = e.code ?? e.cause?.code;
  const message = (e.cause?.message ?? e.message ?? String(error)).split("\n")[0]!;
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
