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
import { kustomizeBuildText, parseDocuments, type KubeDocument } from "../generator/validate/kustomize.js";
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
  ServiceMonitor: "namespaced",
  PrometheusRule: "namespaced",
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
  Application: "namespaced",
  ApplicationSet: "namespaced",
  AppProject: "namespaced",
  ClusterRoleBinding: "cluster",
  ValidatingAdmissionPolicy: "cluster",
  ValidatingAdmissionPolicyBinding: "cluster",
};

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const spec = (o: object) => (o as { spec?: unknown }).spec as any;

/** Why Argo CD would refuse each object of an Application's build under a project; empty when it admits all. */
function refusals(project: any, application: any, objects: readonly KubeDocument[]): string[] {
  const listed = (list: any[] | undefined, o: KubeDocument) => (list ?? []).some((e) => e.group === groupOf(o.apiVersion) && e.kind === o.kind);
  const destination = spec(application).destination;
  const problems: string[] = [];
  // Argo CD's "Applications in any namespace": outside its own namespace, an Application may use only a project listing its namespace.
  const appNamespace = (application.metadata as any).namespace;
  if (appNamespace !== "argocd" && !(spec(project).sourceNamespaces ?? []).includes(appNamespace)) problems.push(`an Application in ${appNamespace} may not use this project`);
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

const project = () => argo.find((o) => o.kind === "AppProject" && o.metadata.name === "airflow")!;
const adminProject = () => argo.find((o) => o.kind === "AppProject" && o.metadata.name === "airflow-admin")!;
const applicationOf = (env: string) => argo.find((o) => o.kind === "Application" && spec(o).source.path === `overlays/${env}`)!;
const rootApplication = () => argo.find((o) => o.kind === "Application" && spec(o).source.path === "argocd/apps")!;
const APPS_NAMESPACE = "argocd-airflow";

describe("argocd/", () => {
  it("holds the two projects, one Application per environment in their own namespace, and the root Application over argocd/apps/", () => {
    const apps = argo.filter((o) => o.kind === "Application");
    expect(apps.map((a) => spec(a).source.path).sort()).toEqual([...ENVIRONMENTS.map((e) => `overlays/${e}`), "argocd/apps"].sort());
    const root = rootApplication();
    expect((root.metadata as any).finalizers).toBeUndefined();
    expect(root.metadata.namespace).toBe("argocd");
    expect(spec(root).project).toBe("airflow-admin");
    expect(spec(root).destination).toEqual({ server: "https://kubernetes.default.svc", namespace: APPS_NAMESPACE });
    for (const env of ENVIRONMENTS) expect(applicationOf(env).metadata.namespace).toBe(APPS_NAMESPACE);
    expect(argo.filter((o) => o.kind === "AppProject").map((o) => o.metadata.name).sort()).toEqual(["airflow", "airflow-admin"]);
    expect(argo.find((o) => o.kind === "Namespace")!.metadata.name).toBe(APPS_NAMESPACE);
  });

  it("lets the root Application sync only argocd/apps/, where the projects and the root itself are not", () => {
    const synced = kustomizeBuildText(join(ROOT, "argocd", "apps"));
    expect(parseDocuments(synced).map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(ENVIRONMENTS.map((e) => `Application/airflow-${e}`).sort());
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
      // A retry takes the newest commit: the fix of a refused one is synced at once (shown in argocd-sync's hostile commits).
      expect(spec(app).syncPolicy.retry.refresh).toBe(true);
      expect((app.metadata as any).finalizers).toEqual(["resources-finalizer.argocd.argoproj.io"]);
    }
  });

});

describe("the AppProject", () => {
  it.each(ENVIRONMENTS)("admits every object of the %s build", (env) => {
    expect(refusals(project(), applicationOf(env), builds.get(env)!)).toEqual([]);
  });

  it("the admin project admits what the root Application syncs: the environments' Applications", () => {
    const synced = parseDocuments(kustomizeBuildText(join(ROOT, "argocd", "apps")));
    expect(refusals(adminProject(), rootApplication(), synced)).toEqual([]);
  });

  it("has no Argo CD kind and no Argo CD namespace among its destinations", () => {
    expect(spec(project()).namespaceResourceWhitelist.filter((e: any) => e.group === "argoproj.io")).toEqual([]);
    expect(spec(project()).destinations.map((d: any) => d.namespace)).not.toContain("argocd");
    expect(spec(project()).destinations.map((d: any) => d.namespace)).not.toContain(APPS_NAMESPACE);
    expect(spec(project()).sourceNamespaces).toEqual([APPS_NAMESPACE]);
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

describe("a hostile commit", () => {
  const inArgocd = (kind: string, apiVersion: string, namespace = "argocd") => ({ apiVersion, kind, metadata: { name: "x", namespace } }) as KubeDocument;

  it("cannot reach the Argo CD namespace, a cluster role or a project through the root Application", () => {
    const hostile = [
      inArgocd("Deployment", "apps/v1"),
      inArgocd("Deployment", "apps/v1", APPS_NAMESPACE),
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "x" } } as KubeDocument,
      inArgocd("AppProject", "argoproj.io/v1alpha1", APPS_NAMESPACE),
    ];
    for (const o of hostile) expect(refusals(adminProject(), rootApplication(), [o]), `${o.kind} in ${o.metadata.namespace}`).not.toEqual([]);
    // And an Application aimed at the Argo CD namespace: the admin project's only destination is the Applications' namespace.
    const widened = structuredClone(rootApplication());
    spec(widened).destination.namespace = "argocd";
    expect(refusals(adminProject(), widened, [])).toContainEqual(expect.stringContaining("destination"));
  });

  it("cannot give an environment's Application the admin project, or deploy it into the Argo CD namespace", () => {
    const app = structuredClone(applicationOf("prod"));
    expect(refusals(adminProject(), app, [])).toContainEqual(`an Application in ${APPS_NAMESPACE} may not use this project`);
    spec(app).destination.namespace = "argocd";
    expect(refusals(project(), app, [])).toContainEqual(expect.stringContaining("destination"));
    expect(refusals(project(), app, [inArgocd("Application", "argoproj.io/v1alpha1", "airflow")])).toContainEqual(expect.stringContaining("not whitelisted"));
  });
});

describe("data", () => {
  it.each(ENVIRONMENTS)("the claims of %s are never pruned or deleted by Argo CD", (env) => {
    const claims = builds.get(env)!.filter((o) => o.kind === "PersistentVolumeClaim");
    expect(claims.length).toBeGreaterThan(0);
    for (const c of claims) expect(c.metadata.annotations?.["argocd.argoproj.io/sync-options"], c.metadata.name).toBe("Prune=false,Delete=false");
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

  it("put the NodePool after everything else: its health, which the platform's EC2NodeClass decides, gates nothing of Airflow's", () => {
    const objects = builds.get("prod")!;
    const wave = (o: (typeof objects)[number]) => Number(o.metadata.annotations![SYNC_WAVE_ANNOTATION]);
    const pool = objects.find((o) => o.kind === "NodePool")!;
    const later = objects.filter((o) => o.kind !== "NodePool" && wave(o) >= wave(pool));
    expect(later.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    // Nothing before it needs its nodes: the placeholders start at 0 replicas, and task pods only prefer the pool.
    const placeholder = objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-peak-placeholder")) as any;
    expect(placeholder.spec.replicas).toBe(0);
  });

  it("put every PodDisruptionBudget and Service before or with the pods they select", () => {
    const objects = builds.get("prod")!;
    const wave = (kind: string) => Math.max(...objects.filter((o) => o.kind === kind).map((o) => Number(o.metadata.annotations![SYNC_WAVE_ANNOTATION])));
    expect(wave("Service")).toBeLessThanOrEqual(wave("Deployment"));
    expect(wave("ConfigMap")).toBeLessThan(wave("Deployment"));
    expect(wave("ServiceAccount")).toBeLessThan(wave("Job"));
  });
});

describe("replicas KEDA owns", () => {
  const placeholderRule = { group: "apps", kind: "Deployment", name: "airflow-peak-placeholder", jsonPointers: ["/spec/replicas"] };

  it("the placeholders start at 0; where they exist, the Application ignores their replicas and a sync keeps the live count", () => {
    const placeholder = builds.get("prod")!.find((o) => o.kind === "Deployment" && o.metadata.name === placeholderRule.name) as any;
    expect(placeholder.spec.replicas).toBe(0);
    const app = (env: string) => argo.find((o) => o.kind === "Application" && o.metadata.name === `airflow-${env}`) as any;
    expect(app("prod").spec.ignoreDifferences).toEqual([placeholderRule]);
    expect(app("prod").spec.syncPolicy.syncOptions).toContain("RespectIgnoreDifferences=true");
    expect(app("dev").spec.ignoreDifferences).toBeUndefined();
    expect(app("dev").spec.syncPolicy.syncOptions).not.toContain("RespectIgnoreDifferences=true");
  });

  it("the ApplicationSet's template carries the same rule when any environment has placeholders", () => {
    const data = exampleData() as any;
    data.argocd.mode = "applicationSet";
    const set = (apps: ReturnType<typeof argocdManifests>["apps"]) => apps.map((m) => m.object as any).find((o) => o.kind === "ApplicationSet");
    const withPlaceholders = set(argocdManifests(loadForCore(stringify(data))).apps);
    expect(withPlaceholders.spec.template.spec.ignoreDifferences).toEqual([placeholderRule]);
    expect(withPlaceholders.spec.template.spec.syncPolicy.syncOptions).toContain("RespectIgnoreDifferences=true");
    delete data.environments.prod.peakHours.warmCapacity;
    const without = set(argocdManifests(loadForCore(stringify(data))).apps);
    expect(without.spec.template.spec.ignoreDifferences).toBeUndefined();
  });
});

describe("ApplicationSet mode", () => {
  it("writes one ApplicationSet with a list element per environment instead of the Applications", async () => {
    const data = exampleData() as any;
    data.argocd.mode = "applicationSet";
    data.argocd.environments.prod = { name: "prod-cluster", revision: "release", automated: { prune: false, selfHeal: true } };
    const { bootstrap, apps } = argocdManifests(loadForCore(stringify(data)));
    const objects = [...bootstrap, ...apps].map((m) => m.object as any);
    const set = objects.find((o) => o.kind === "ApplicationSet");
    expect(set.metadata.namespace).toBe(APPS_NAMESPACE);
    expect(objects.filter((o) => o.kind === "Application").map((o) => o.spec.source.path)).toEqual(["argocd/apps"]);
    expect(set.spec.generators[0].list.elements).toEqual([
      { environment: "dev", namespace: "airflow-dev", server: "https://kubernetes.default.svc", clusterName: "", revision: "main", prune: "true", selfHeal: "true" },
      { environment: "prod", namespace: "airflow", server: "", clusterName: "prod-cluster", revision: "release", prune: "false", selfHeal: "true" },
    ]);
    expect(set.spec.template.spec.source.path).toBe("overlays/{{.environment}}");
    expect(set.spec.templatePatch).toContain("prune: {{ .prune }}");
    const [admin, project] = ["airflow-admin", "airflow"].map((name) => objects.find((o) => o.kind === "AppProject" && o.metadata.name === name));
    expect(project.spec.destinations).toContainEqual({ name: "prod-cluster", namespace: "airflow" });
    expect(admin.spec.namespaceResourceWhitelist).toEqual([{ group: "argoproj.io", kind: "ApplicationSet" }]);
    expect(await validateWithModels(set)).toEqual([]);
    if (hasSharedSchemas) expect(schemaDirValidator(SHARED_SCHEMAS).validate(set)).toEqual([]);
  });
});
