/**
 * argocd/: it builds, every Application points at an overlay that builds, the Applications are exactly
 * the environments, the AppProject admits every object of every build, and sync waves follow the
 * dependency chain.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { argocdManifests } from "../generator/core/argocd.js";
import { SYNC_WAVE_ANNOTATION } from "../generator/core/sync-waves.js";
import type { KubeDocument } from "../generator/validate/kustomize.js";
import { validateWithModels } from "../generator/validate/models.js";
import { schemaDirValidator } from "../generator/validate/schema-dir.js";
import { ROOT, SHARED_SCHEMAS, committedBuild, exampleData, exampleText, hasSharedSchemas, loadForCore } from "./helpers.js";

const config = loadForCore(exampleText());
const ENVIRONMENTS = Object.keys(config.environments);
let argo: KubeDocument[];
const builds = new Map<string, KubeDocument[]>();

beforeAll(() => {
  argo = committedBuild("argocd");
  for (const env of ENVIRONMENTS) builds.set(env, committedBuild(`overlays/${env}`));
});

/** Scope of every kind a build may hold, known independently of the generator; an unknown kind fails. */
const SCOPE: Readonly<Record<string, "cluster" | "namespaced">> = {
  Namespace: "cluster",
  PriorityClass: "cluster",
  StorageClass: "cluster",
  PersistentVolume: "cluster",
  NodePool: "cluster",
  ClusterSecretStore: "cluster",
  ServiceAccount: "namespaced",
  Role: "namespaced",
  CronJob: "namespaced",
  RoleBinding: "namespaced",
  ConfigMap: "namespaced",
  Service: "namespaced",
  Ingress: "namespaced",
  NetworkPolicy: "namespaced",
  PersistentVolumeClaim: "namespaced",
  Deployment: "namespaced",
  Job: "namespaced",
  PodDisruptionBudget: "namespaced",
  HorizontalPodAutoscaler: "namespaced",
  ScaledObject: "namespaced",
  SecretStore: "namespaced",
  ExternalSecret: "namespaced",
};

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const spec = (o: object) => (o as { spec?: unknown }).spec as any;

/** Why Argo CD would refuse each object of an Application's build under a project; empty when it admits all. */
function refusals(project: any, application: any, objects: readonly KubeDocument[]): string[] {
  const listed = (list: any[] | undefined, o: KubeDocument) => (list ?? []).some((e) => e.group === groupOf(o.apiVersion) && e.kind === o.kind);
  const destination = spec(application).destination;
  const problems: string[] = [];
  if (!spec(project).sourceRepos.includes(spec(application).source.repoURL)) problems.push("source repository not allowed");
  if (!spec(project).destinations.some((d: any) => d.namespace === destination.namespace && d.server === destination.server && d.name === destination.name)) {
    problems.push(`destination ${JSON.stringify(destination)} not allowed`);
  }
  for (const o of objects) {
    const scope = SCOPE[o.kind];
    if (!scope) problems.push(`${o.kind}: scope unknown to this test`);
    else if (scope === "cluster" && !listed(spec(project).clusterResourceWhitelist, o)) problems.push(`${o.kind}/${o.metadata.name}: cluster kind not whitelisted`);
    else if (scope === "namespaced" && !listed(spec(project).namespaceResourceWhitelist, o)) problems.push(`${o.kind}/${o.metadata.name}: namespaced kind not whitelisted`);
  }
  return problems;
}

const project = () => argo.find((o) => o.kind === "AppProject")!;
const applicationOf = (env: string) => argo.find((o) => o.kind === "Application" && spec(o).source.path === `overlays/${env}`)!;

describe("argocd/", () => {
  it("holds the project, one Application per environment and the root Application over argocd/ itself", () => {
    const apps = argo.filter((o) => o.kind === "Application");
    expect(apps.map((a) => spec(a).source.path).sort()).toEqual([...ENVIRONMENTS.map((e) => `overlays/${e}`), "argocd"].sort());
    const root = apps.find((a) => spec(a).source.path === "argocd")!;
    expect((root.metadata as any).finalizers).toBeUndefined();
    expect(spec(root).destination).toEqual({ server: "https://kubernetes.default.svc", namespace: "argocd" });
  });

  it("points every environment Application at an overlay that exists and builds, auto-syncing with retries", () => {
    for (const env of ENVIRONMENTS) {
      const app = applicationOf(env);
      expect(existsSync(join(ROOT, spec(app).source.path, "kustomization.yaml"))).toBe(true);
      expect(builds.get(env)!.length).toBeGreaterThan(20);
      expect(spec(app).source).toMatchObject({ repoURL: "https://github.com/acme/airflow-gitops.git", targetRevision: "main" });
      expect(spec(app).destination.namespace).toBe(env === "dev" ? "airflow-dev" : "airflow");
      expect(spec(app).syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(spec(app).syncPolicy.syncOptions).toEqual(expect.arrayContaining(["CreateNamespace=true", "PruneLast=true"]));
      expect(spec(app).syncPolicy.retry.backoff).toMatchObject({ factor: 2 });
      expect((app.metadata as any).finalizers).toEqual(["resources-finalizer.argocd.argoproj.io"]);
    }
  });

});

describe("the AppProject", () => {
  it.each(ENVIRONMENTS)("admits every object of the %s build", (env) => {
    expect(refusals(project(), applicationOf(env), builds.get(env)!)).toEqual([]);
  });

  it("admits the root Application's own objects", () => {
    const root = argo.find((o) => o.kind === "Application" && spec(o).source.path === "argocd")!;
    expect(refusals(project(), root, argo.filter((o) => o.kind !== "Application" && o.kind !== "AppProject"))).toEqual([]);
    const kinds = spec(project()).namespaceResourceWhitelist.filter((e: any) => e.group === "argoproj.io").map((e: any) => e.kind);
    expect(kinds.sort()).toEqual(["AppProject", "Application"]);
  });

  it("whitelists exactly the cluster-scoped kinds the builds contain", () => {
    const inBuilds = new Set([...builds.values()].flat().filter((o) => SCOPE[o.kind] === "cluster").map((o) => o.kind));
    expect(spec(project()).clusterResourceWhitelist.map((e: any) => e.kind).sort()).toEqual([...inBuilds].sort());
  });

  it("would refuse a build holding a kind the whitelist lacks", () => {
    const narrowed = structuredClone(project());
    spec(narrowed).clusterResourceWhitelist = spec(narrowed).clusterResourceWhitelist.filter((e: any) => e.kind !== "StorageClass");
    expect(refusals(narrowed, applicationOf("prod"), builds.get("prod")!)).toEqual(["StorageClass/airflow-prod-efs: cluster kind not whitelisted"]);
  });
});

describe("sync waves", () => {
  const CHAIN = [
    ["Namespace", null],
    ["SecretStore", null],
    ["ExternalSecret", null],
    ["Job", "airflow-migrations"],
    ["Deployment", "airflow-scheduler"],
    ["ScaledObject", "airflow-scheduler"],
  ] as const;

  it.each(ENVIRONMENTS)("are set on every object of %s", (env) => {
    const missing = builds.get(env)!.filter((o) => !/^-?\d+$/.test(o.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? ""));
    expect(missing.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it("rise along the dependency chain: namespace, store, ExternalSecrets, migration hook, workloads, autoscalers", () => {
    const objects = builds.get("prod")!;
    const waves = CHAIN.map(([kind, name]) => {
      const o = objects.find((x) => x.kind === kind && (name === null || x.metadata.name === name));
      if (!o) throw new Error(`${kind} not in the prod build`);
      return Number(o.metadata.annotations![SYNC_WAVE_ANNOTATION]);
    });
    for (let i = 1; i < waves.length; i++) expect(waves[i], `${CHAIN[i]![0]} after ${CHAIN[i - 1]![0]}`).toBeGreaterThan(waves[i - 1]!);
    const job = objects.find((o) => o.kind === "Job")!;
    expect(job.metadata.annotations!["argocd.argoproj.io/hook"]).toBe("Sync");
  });

  it("put every PodDisruptionBudget and Service before or with the pods they select", () => {
    const objects = builds.get("prod")!;
    const wave = (kind: string) => Math.max(...objects.filter((o) => o.kind === kind).map((o) => Number(o.metadata.annotations![SYNC_WAVE_ANNOTATION])));
    expect(wave("Service")).toBeLessThanOrEqual(wave("Deployment"));
    expect(wave("ConfigMap")).toBeLessThan(wave("Deployment"));
    expect(wave("ServiceAccount")).toBeLessThan(wave("Job"));
  });
});

describe("ApplicationSet mode", () => {
  it("writes one ApplicationSet with a list element per environment instead of the Applications", async () => {
    const data = exampleData() as any;
    data.argocd.mode = "applicationSet";
    data.argocd.environments.prod = { name: "prod-cluster", revision: "release", automated: { prune: false, selfHeal: true } };
    const objects = argocdManifests(loadForCore(stringify(data))).map((m) => m.object as any);
    const set = objects.find((o) => o.kind === "ApplicationSet");
    expect(objects.filter((o) => o.kind === "Application").map((o) => o.spec.source.path)).toEqual(["argocd"]);
    expect(set.spec.generators[0].list.elements).toEqual([
      { environment: "dev", namespace: "airflow-dev", server: "https://kubernetes.default.svc", clusterName: "", revision: "main", prune: "true", selfHeal: "true" },
      { environment: "prod", namespace: "airflow", server: "", clusterName: "prod-cluster", revision: "release", prune: "false", selfHeal: "true" },
    ]);
    expect(set.spec.template.spec.source.path).toBe("overlays/{{.environment}}");
    expect(set.spec.templatePatch).toContain("prune: {{ .prune }}");
    const project = objects.find((o) => o.kind === "AppProject");
    expect(project.spec.destinations).toContainEqual({ name: "prod-cluster", namespace: "airflow" });
    expect(project.spec.namespaceResourceWhitelist).toContainEqual({ group: "argoproj.io", kind: "ApplicationSet" });
    expect(await validateWithModels(set)).toEqual([]);
    if (hasSharedSchemas) expect(schemaDirValidator(SHARED_SCHEMAS).validate(set)).toEqual([]);
  });
});
