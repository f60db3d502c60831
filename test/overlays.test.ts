/**
 * Every committed overlay, rendered by real kustomize: it builds, it builds exactly what the
 * environment's resolved config describes, its objects are schema-valid, and its autoscaling and
 * peak-hour objects hang together.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { generate } from "../generator/core/index.js";
import { canonicalJson as canonical } from "../generator/core/hash.js";
import { secretsManifests } from "../generator/core/secrets.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { kustomizeBuild, type KubeDocument } from "../generator/validate/kustomize.js";
import { ROOT, committedBuild, exampleText, loadForCore, runCli, tempProject } from "./helpers.js";

const config: Config = loadForCore(exampleText());
const ENVIRONMENTS = Object.keys(config.environments);
const builds = new Map<string, KubeDocument[]>();

/**
 * Kustomize cannot know a custom kind is cluster-scoped, nor, before v5.8 (kubectl 1.32 bundles v5.5), that the
 * admission policy kinds are, and stamps the namespace on them; the API server drops it.
 */
const CLUSTER_SCOPED_CUSTOM_KINDS = new Set(["NodePool", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);

beforeAll(() => {
  for (const env of ENVIRONMENTS) {
    builds.set(
      env,
      committedBuild(`overlays/${env}`).map((o) => {
        if (CLUSTER_SCOPED_CUSTOM_KINDS.has(o.kind)) delete o.metadata.namespace;
        return o;
      }),
    );
  }
});

const id = (o: { kind: string; metadata: { name?: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const build = (env: string) => builds.get(env)!;
const ofKind = (env: string, kind: string) => build(env).filter((o) => o.kind === kind);
const spec = (o: KubeDocument) => o.spec as any;

/** The environment's Application ignores a Deployment's replicas in its diff and keeps the live value on sync. */
function replicasIgnoredByArgoCd(env: string, deployment: string): boolean {
  const app = parse(readFileSync(join(ROOT, "argocd", "apps", `${env}-application.yaml`), "utf8"));
  const ignored = (app.spec.ignoreDifferences ?? []).some(
    (d: { group: string; kind: string; name: string; jsonPointers: string[] }) => d.group === "apps" && d.kind === "Deployment" && d.name === deployment && d.jsonPointers.includes("/spec/replicas"),
  );
  return ignored && app.spec.syncPolicy.syncOptions.includes("RespectIgnoreDifferences=true");
}

function podTemplateOf(env: string): any {
  const configMap = build(env).find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!;
  return parse((configMap.data as Record<string, string>)["pod_template_file.yaml"]!);
}

describe.each(ENVIRONMENTS)("overlays/%s", (env) => {
  it("builds exactly the objects the environment's resolved config describes", () => {
    const target = resolveEnvironment(config, env);
    const expected = new Map([...buildManifests(target), ...secretsManifests(target)].map(({ object }) => [id(object), canonical(object)]));
    const actual = new Map(build(env).map((o) => [id(o), canonical(o)]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    const differing = [...expected].filter(([key, text]) => actual.get(key) !== text).map(([key]) => key);
    expect(differing).toEqual([]);
  });

  it("puts every namespaced object in the environment's namespace", () => {
    const namespace = resolveEnvironment(config, env).namespace;
    const namespaces = new Set(build(env).flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])));
    expect([...namespaces]).toEqual([namespace]);
    expect(ofKind(env, "Namespace").map((o) => o.metadata.name)).toEqual([namespace]);
  });

  it("applies every patch: each field a patch sets is in the build, each it deletes is gone", () => {
    const dir = join(ROOT, "overlays", env);
    const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
    const problems: string[] = [];
    const renamed = new Map<string, string>();
    for (const entry of kustomization.patches ?? []) {
      if (entry.target) renamed.set(`${entry.target.kind}/${entry.target.name}`, parse(readFileSync(join(dir, entry.path), "utf8")).metadata.name);
    }
    for (const entry of kustomization.patches ?? []) {
      if (entry.target) continue;
      const patch = parse(readFileSync(join(dir, entry.path), "utf8"));
      patch.metadata.name = renamed.get(`${patch.kind}/${patch.metadata.name}`) ?? patch.metadata.name;
      if (patch.$patch === "delete") {
        if (build(env).some((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name)) problems.push(`${entry.path}: not deleted`);
        continue;
      }
      const object = build(env).find((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (!object) problems.push(`${entry.path}: no ${patch.kind}/${patch.metadata.name} in the build`);
      else problems.push(...unappliedFields(patch, object).map((field) => `${entry.path}: ${field}`));
    }
    expect(problems).toEqual([]);
  });

  it("scales only Deployments of the build, each once, within ordered bounds, and leaves their replicas to the scaler", () => {
    const problems: string[] = [];
    const scalers = [...ofKind(env, "ScaledObject"), ...ofKind(env, "HorizontalPodAutoscaler")];
    const targets = scalers.map((s) => spec(s).scaleTargetRef.name as string);
    if (new Set(targets).size !== targets.length) problems.push(`a Deployment has two scalers: ${targets.join(", ")}`);
    for (const s of scalers) {
      const ref = spec(s).scaleTargetRef;
      const target = ofKind(env, "Deployment").find((d) => d.metadata.name === ref.name);
      if (ref.kind !== "Deployment" || !target) problems.push(`${id(s)}: target ${ref.kind}/${ref.name} not in the build`);
      else if (spec(target).replicas !== undefined && !replicasIgnoredByArgoCd(env, ref.name)) problems.push(`${id(target)}: sets replicas although ${s.kind} owns them`);
      const [min, max] = s.kind === "ScaledObject" ? [spec(s).minReplicaCount, spec(s).maxReplicaCount] : [spec(s).minReplicas, spec(s).maxReplicas];
      if (!(min <= max)) problems.push(`${id(s)}: min ${min} > max ${max}`);
      for (const trigger of s.kind === "ScaledObject" ? spec(s).triggers : []) {
        if (trigger.type === "cron" && Number(trigger.metadata.desiredReplicas) > max) problems.push(`${id(s)}: ${trigger.name} above max`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("gives every component that may run several pods a disruption budget and a zone spread", () => {
    const problems: string[] = [];
    for (const d of ofKind(env, "Deployment")) {
      const scaler = build(env).find((s) => (s.kind === "ScaledObject" || s.kind === "HorizontalPodAutoscaler") && spec(s).scaleTargetRef.name === d.metadata.name);
      const max = scaler ? (spec(scaler).maxReplicaCount ?? spec(scaler).maxReplicas) : (spec(d).replicas ?? 1);
      if (max <= 1 || d.metadata.name.endsWith("peak-placeholder")) continue;
      const selector = spec(d).selector.matchLabels;
      const pdb = ofKind(env, "PodDisruptionBudget").find((p) => canonical(spec(p).selector.matchLabels) === canonical(selector));
      if (!pdb) problems.push(`${id(d)}: no PodDisruptionBudget`);
      const zones = (spec(d).template.spec.topologySpreadConstraints ?? []).map((c: any) => c.topologyKey);
      if (!zones.includes("topology.kubernetes.io/zone")) problems.push(`${id(d)}: no zone spread`);
    }
    expect(problems).toEqual([]);
  });
});

/** Leaves of a patch that the object does not show: a value that differs, or a deleted field still present. */
function unappliedFields(patch: unknown, object: unknown, path = ""): string[] {
  if (patch === null) return object === undefined ? [] : [`${path} should be deleted`];
  if (Array.isArray(patch)) {
    if (!Array.isArray(object)) return [`${path} missing`];
    return patch.flatMap((item, i) => {
      const match = item?.name !== undefined ? object.find((o: any) => o?.name === item.name) : object[i];
      return unappliedFields(item, match, `${path}[${item?.name ?? i}]`);
    });
  }
  if (typeof patch === "object") {
    if (typeof object !== "object" || object === null) return [`${path} missing`];
    return Object.entries(patch as object)
      .filter(([key]) => !(path === "" && ["apiVersion", "kind", "metadata"].includes(key)) || key === "metadata")
      .flatMap(([key, value]) =>
        path === "" && key === "metadata"
          ? Object.entries(value as object)
              .filter(([k]) => !["name", "namespace"].includes(k))
              .flatMap(([k, v]) => unappliedFields(v, (object as any).metadata?.[k], `metadata.${k}`))
          : unappliedFields(value, (object as any)[key], path ? `${path}.${key}` : key),
      );
  }
  return patch === object ? [] : [`${path} is ${JSON.stringify(object)}, patch says ${JSON.stringify(patch)}`];
}

describe("prod peak hours", () => {
  it("scales the api-server and the scheduler with KEDA: CPU plus one cron trigger per window", () => {
    for (const name of ["airflow-api-server", "airflow-scheduler"]) {
      const so = ofKind("prod", "ScaledObject").find((s) => s.metadata.name === name)!;
      const triggers = spec(so).triggers;
      expect(triggers[0]).toMatchObject({ type: "cpu", metricType: "Utilization" });
      expect(triggers.filter((t: any) => t.type === "cron").map((t: any) => [t.metadata.start, t.metadata.end])).toEqual([
        ["0 7 * * 1-5", "0 11 * * 1-5"],
        ["0 18 * * 1-5", "0 21 * * 1-5"],
        ["0 23 * * *", "0 3 * * *"],
      ]);
      expect(triggers.every((t: any) => t.type !== "cron" || t.metadata.timezone === "America/Sao_Paulo")).toBe(true);
      expect(spec(so).advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBe(600);
    }
  });

  it("orders preemption so that no running task is killed: the control plane preempts none, task pods only the placeholders", () => {
    const classes = new Map(ofKind("prod", "PriorityClass").map((p: any) => [p.metadata.name, p]));
    const controlPlane = [...classes.values()].find((p: any) => p.metadata.name.endsWith("-control-plane")) as any;
    expect(controlPlane).toMatchObject({ value: 100000, preemptionPolicy: "Never", globalDefault: false });
    for (const d of ofKind("prod", "Deployment").filter((x) => x.metadata.name !== "airflow-peak-placeholder")) {
      expect(spec(d).template.spec.priorityClassName, d.metadata.name).toBe(controlPlane.metadata.name);
    }
    // Task pods take the cluster's default (0): above the placeholders, equal to each other.
    expect(podTemplateOf("prod").spec.priorityClassName).toBeUndefined();
    const placeholder = classes.get(spec(ofKind("prod", "Deployment").find((d) => d.metadata.name === "airflow-peak-placeholder")!).template.spec.priorityClassName) as any;
    expect(placeholder.value).toBeLessThan(0);
  });

  it("warms the peak pool with placeholders from the lead time before each window to its end", () => {
    const placeholder = ofKind("prod", "Deployment").find((d) => d.metadata.name === "airflow-peak-placeholder")!;
    const pod = spec(placeholder).template.spec;
    const priority = ofKind("prod", "PriorityClass").find((p) => p.metadata.name === pod.priorityClassName) as any;
    expect(priority.value).toBeLessThan(0);
    expect(priority.preemptionPolicy).toBe("Never");
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: "karpenter.sh/nodepool", operator: "In", values: ["airflow-peak"] },
    ]);
    expect(pod.tolerations).toEqual([{ key: "dedicated", operator: "Equal", value: "airflow-peak", effect: "NoSchedule" }]);
    const so = ofKind("prod", "ScaledObject").find((s) => s.metadata.name === "airflow-peak-placeholder")!;
    expect(spec(so).minReplicaCount).toBe(0);
    expect(spec(so).triggers.map((t: any) => [t.metadata.start, t.metadata.end, t.metadata.desiredReplicas])).toEqual([
      ["30 6 * * 1-5", "0 11 * * 1-5", "6"],
      ["30 17 * * 1-5", "0 21 * * 1-5", "6"],
      ["30 22 * * *", "0 3 * * *", "6"],
    ]);
  });

  it("makes task pods prefer the peak pool and tolerate its taint, in the embedded pod template", () => {
    const pod = podTemplateOf("prod").spec;
    expect(pod.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, preference: { matchExpressions: [{ key: "karpenter.sh/nodepool", operator: "In", values: ["airflow-peak"] }] } },
    ]);
    expect(pod.tolerations).toEqual([{ key: "dedicated", operator: "Equal", value: "airflow-peak", effect: "NoSchedule" }]);
  });

  it("keeps the control plane on on-demand nodes", () => {
    for (const d of ofKind("prod", "Deployment").filter((x) => !x.metadata.name.endsWith("peak-placeholder"))) {
      const terms = spec(d).template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      expect(terms, d.metadata.name).toEqual([{ matchExpressions: [{ key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] }] }]);
    }
  });

  it("writes the Karpenter NodePool of the peak pool with its taint", () => {
    const [pool] = ofKind("prod", "NodePool") as any[];
    expect(pool.metadata.name).toBe("airflow-peak");
    expect(pool.spec.template.spec.taints).toEqual([{ key: "dedicated", value: "airflow-peak", effect: "NoSchedule" }]);
  });
});

describe("dev", () => {
  it("has no autoscaling, placeholders, node pool or peak-hour placement", () => {
    const kinds = new Set(build("dev").map((o) => o.kind));
    for (const kind of ["ScaledObject", "HorizontalPodAutoscaler", "NodePool", "PodDisruptionBudget"]) expect(kinds.has(kind), kind).toBe(false);
    for (const d of ofKind("dev", "Deployment")) expect(spec(d).template.spec.affinity, d.metadata.name).toBeUndefined();
    expect(podTemplateOf("dev").spec.affinity).toBeUndefined();
  });
});

describe("every override an environment may set", () => {
  it("builds exactly what the environment describes, through patches and kustomize's transformers", async () => {
    const data = parse(exampleText());
    Object.assign(data.environments.prod, {
      namespace: "airflow-production",
      airflow: { image: { repository: "registry.example.com/airflow", tag: "3.2.3" }, migrationWaitTimeoutSeconds: 900, config: { core: { parallelism: 256 } } },
      ingress: { className: "alb-internal", scheme: "internet-facing", allowedCidrs: ["10.1.0.0/16"] },
      storage: { dags: { size: "20Gi" }, logs: { size: "200Gi" } },
      secrets: { refreshInterval: "15m" },
    });
    Object.assign(data.environments.prod.components, {
      statsd: { image: "quay.io/prometheus/statsd-exporter:v0.28.1", resources: { limits: { memory: "256Mi" } } },
      dagSync: { gitSyncResources: { requests: { cpu: "100m" } } },
      worker: { resources: { limits: { cpu: "4" } }, terminationGracePeriodSeconds: 1200 },
      migrations: { resources: { requests: { memory: "1Gi" } } },
    });
    const text = stringify(data);
    const dir = tempProject({ configText: text });
    const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
    expect(result.code, result.err).toBe(0);
    const config = loadForCore(text);
    const target = resolveEnvironment(config, "prod");
    const expected = new Map([...buildManifests(target), ...secretsManifests(target)].map(({ object }) => [id(object), canonical(object)]));
    const built = kustomizeBuild(join(dir, "overlays", "prod")).map((o) => {
      if (CLUSTER_SCOPED_CUSTOM_KINDS.has(o.kind)) delete o.metadata.namespace;
      return o;
    });
    const actual = new Map(built.map((o) => [id(o), canonical(o)]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    expect([...expected].filter(([key, t]) => actual.get(key) !== t).map(([key]) => key)).toEqual([]);
    const files = readdirSync(join(dir, "overlays", "prod"));
    expect(files).toContain("statsd-deployment-containers.yaml");
    expect(files).toContain("api-server-deployment-containers.yaml");
  });
});

describe("environments are data", () => {
  it("adding a third environment adds exactly its overlay, secrets layer and Application, and changes only the project", () => {
    const withStaging: Config = structuredClone(config);
    withStaging.environments.staging = structuredClone(config.environments.prod!);
    const before = new Map(generate(config).map((f) => [f.path, canonical(f.content)]));
    const after = new Map(generate(withStaging).map((f) => [f.path, canonical(f.content)]));
    const added = [...after.keys()].filter((p) => !before.has(p));
    const removed = [...before.keys()].filter((p) => !after.has(p));
    const changed = [...before.keys()].filter((p) => after.has(p) && after.get(p) !== before.get(p));
    expect(removed).toEqual([]);
    expect(changed.sort()).toEqual(["argocd/airflow-appproject.yaml", "argocd/apps/kustomization.yaml"]);
    expect(added.filter((p) => !p.startsWith("overlays/staging/") && !p.startsWith("secrets/staging/"))).toEqual(["argocd/apps/staging-application.yaml"]);
    expect(added).toContain("overlays/staging/kustomization.yaml");
    expect(added).toContain("secrets/staging/kustomization.yaml");
  });

  it("a patch whose object is missing from the base fails the build instead of vanishing", () => {
    const dir = tempProject({ withTree: true });
    rmSync(join(dir, "base", "scheduler-deployment.yaml"));
    const kustomization = join(dir, "base", "kustomization.yaml");
    writeFileSync(kustomization, readFileSync(kustomization, "utf8").replace("  - scheduler-deployment.yaml\n", ""));
    expect(() => kustomizeBuild(join(dir, "base"))).not.toThrow();
    expect(() => kustomizeBuild(join(dir, "overlays", "prod"))).toThrow(/no resource matches strategic merge patch|failed to find unique target/);
  });

  it("names every overlay file after what it holds or changes", () => {
    for (const env of ENVIRONMENTS) {
      for (const file of readdirSync(join(ROOT, "overlays", env))) {
        expect(file).toMatch(/^(kustomization|[a-z0-9-]+-(deployment|job|cronjob|configmap|serviceaccount|ingress|networkpolicy|storageclass|persistentvolumeclaim|priorityclass|scaledobject|horizontalpodautoscaler|poddisruptionbudget|nodepool|servicemonitor|prometheusrule|validatingadmissionpolicy|validatingadmissionpolicybinding)(-[a-z0-9-]+)?)\.yaml$/);
      }
    }
  });
});
