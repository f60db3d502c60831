/**
 * Raw requests to the API server for what the typed client cannot do faithfully: server-side apply with
 * strict field validation of any kind. (`KubernetesObjectApi.patch` re-serialises known kinds through
 * their models, which silently drops unknown fields, so the server would never see them.)
 */
import { request } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

/** A request the API server answered with an error status: its Status message, as kubectl would print it. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

interface ApiResource {
  name: string;
  namespaced: boolean;
  kind: string;
}

export class RawApi {
  private readonly discovery = new Map<string, ApiResource[]>();

  /** `impersonate`: act as that user (e.g. `system:serviceaccount:airflow:airflow-scheduler`), as RBAC sees it. */
  constructor(
    private readonly kc: KubeConfig,
    private readonly impersonate?: string,
  ) {}

  as(user: string): RawApi {
    return new RawApi(this.kc, user);
  }

  async request<T = unknown>(method: string, path: string, body?: string, contentType = "application/json"): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(path, cluster.server);
    const options: import("node:https").RequestOptions = { method, headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": contentType }),
        ...(this.impersonate ? { "Impersonate-User": this.impersonate } : {}),
      },
    };
    await this.kc.applyToHTTPSOptions(options);
    return new Promise<T>((resolve, reject) => {
      const req = request(url, options, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const s = parsed as { message?: string; reason?: string };
            reject(new ApiError(status, s?.reason ?? "", s?.message ?? String(text), parsed));
          } else resolve(parsed as T);
        });
      });
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private async resources(apiVersion: string): Promise<ApiResource[]> {
    let list = this.discovery.get(apiVersion);
    if (!list) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      list = (await this.request<{ resources: ApiResource[] }>("GET", path)).resources;
      this.discovery.set(apiVersion, list);
    }
    return list;
  }

  /** Whether the server holds this kind per namespace (discovery decides, not a table of ours). */
  async namespaced(object: Pick<KubeObject, "apiVersion" | "kind">): Promise<boolean> {
    const resource = (await this.resources(object.apiVersion)).find((r) => r.kind === object.kind && !r.name.includes("/"));
    if (!resource) throw new ApiError(404, "NotFound", `the server does not serve ${object.kind} in ${object.apiVersion}`, undefined);
    return resource.namespaced;
  }

  /** Forgets discovered resources (after CRDs were installed). */
  forgetDiscovery(): void {
    this.discovery.clear();
  }

  async path(object: Pick<KubeObject, "apiVersion" | "kind" | "metadata">, withName = true): Promise<string> {
    const resource = (await this.resources(object.apiVersion)).find((r) => r.kind === object.kind && !r.name.includes("/"));
    if (!resource) throw new ApiError(404, "NotFound", `the server does not serve ${object.kind} in ${object.apiVersion}`, undefined);
    const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    const ns = resource.namespaced ? `/namespaces/${object.metadata.namespace ?? "default"}` : "";
    return `${base}${ns}/${resource.name}${withName ? `/${object.metadata.name}` : ""}`;
  }

  /** Server-side apply with strict field validation, as Argo CD's server-side sync does. */
  async apply<T extends KubeObject>(object: KubeObject, options: { fieldManager: string; dryRun?: boolean; force?: boolean }): Promise<T> {
    const query = new URLSearchParams({ fieldManager: options.fieldManager, fieldValidation: "Strict", force: String(options.force ?? true) });
    if (options.dryRun) query.set("dryRun", "All");
    return this.request<T>("PATCH", `${await this.path(object)}?${query}`, JSON.stringify(object), "application/apply-patch+yaml");
  }

  async get<T extends KubeObject>(object: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): Promise<T> {
    return this.request<T>("GET", await this.path(object));
  }

  async delete(object: Pick<KubeObject, "apiVersion" | "kind" | "metadata">, propagationPolicy = "Background"): Promise<void> {
    try {
      await this.request("DELETE", `${await this.path(object)}?propagationPolicy=${propagationPolicy}`);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
}
