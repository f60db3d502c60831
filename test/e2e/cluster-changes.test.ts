/**
 * Changes over a running deployment: an upgrade applied over the previous build, and broken manifests,
 * each refused or reported with a message naming the object and the field.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ApiError, describeObject, applyInWaves, type KubeObject, type RawApi } from "../cluster/index.js";
import { rbacProblems } from "./cluster-rbac.js";
import { deploy, events, eventually, kustomize58, pods, project, taskPod, undeploy, useCluster } from "./cluster-workloads.js";
import { runCli } from "../helpers.js";

const { api } = useCluster();

const clone = <T>(o: T): T => structuredClone(o);
const find = (objects: KubeObject[], kind: string, suffix: string) => objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix))!;
const container = (deployment: KubeObject) => (deployment as any).spec.template.spec.containers[0];

interface Revision {
  revision: string;
  template: string;
}

async function revisions(api: RawApi, namespace: string, deployments: KubeObject[]): Promise<Map<string, Revision>> {
  const out = new Map<string, Revision>();
  for (const d of deployments) {
    const live = await api.get<KubeObject & { spec: { template: unknown } }>(d);
    out.set(d.metadata.name, { revision: live.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? "", template: JSON.stringify(live.spec.template) });
  }
  return out;
}

/** The server's refusal of an object, as "Kind namespace/name: message", or undefined if accepted. */
async function refusal(api: RawApi, object: KubeObject): Promise<string | undefined> {
  try {
    await api.apply(object, { fieldManager: "argocd-controller", dryRun: true });
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return `${describeObject(object)}: ${error.message}`;
    throw error;
  }
}

describe("an upgrade and broken manifests, on prod", () => {
  let dir: string;
  let objects: KubeObject[];
  let namespace: string;
  let prefix: string;
  beforeAll(async () => {
    dir = await project();
    objects = await kustomize58(join(dir, "overlays", "prod"));
    namespace = objects.find((o) => o.kind === "Namespace")!.metadata.name;
    prefix = parse(readFileSync(join(dir, "airflow-gitops.yaml"), "utf8")).name;
    await deploy(api(), objects);
  });
  afterAll(async () => {
    if (objects) await undeploy(api(), objects);
  });

  it("a new image tag and a changed airflow.cfg apply over the previous build; the Airflow pods roll to a new template", async () => {
    const deployments = objects.filter((o) => o.kind === "Deployment");
    const before = await revisions(api(), namespace, deployments);
    const hookBefore = await api().get(find(objects, "Job", "-migrations"));

    const configPath = join(dir, "airflow-gitops.yaml");
    const config = parse(readFileSync(configPath, "utf8"));
    const oldTag = config.airflow.image.tag;
    config.airflow.image.tag = "3.2.3";
    config.airflow.config.core.max_active_tasks_per_dag = 48;
    writeFileSync(configPath, stringify(config));
    const gen = await runCli(["gen", "--config", configPath]);
    expect(gen.code, gen.err).toBe(0);
    const upgraded = await kustomize58(join(dir, "overlays", "prod"));
    expect(JSON.stringify(upgraded)).toContain("apache/airflow:3.2.3");
    await deploy(api(), upgraded);
    objects = upgraded;

    const hookAfter = await api().get<KubeObject & { status: { succeeded?: number } }>(find(objects, "Job", "-migrations"));
    expect(hookAfter.metadata.uid, "the migration hook ran again").not.toBe(hookBefore.metadata.uid);
    expect(hookAfter.status.succeeded).toBe(1);

    const after = await revisions(api(), namespace, deployments);
    const rolled = deployments.filter((d) => after.get(d.metadata.name)!.revision !== before.get(d.metadata.name)!.revision).map((d) => d.metadata.name);
    for (const component of ["scheduler", "api-server", "dag-processor", "triggerer"]) expect(rolled).toContain(`${prefix}-${component}`);
    for (const d of deployments) {
      const templateChanged = after.get(d.metadata.name)!.template !== before.get(d.metadata.name)!.template;
      expect(rolled.includes(d.metadata.name), `${d.metadata.name}: rolled exactly when its template changed`).toBe(templateChanged);
    }
    await eventually("the rolled pods run the new image", async () => {
      const stale = (await pods(api(), namespace))
        .filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === "Running")
        .flatMap((p) => p.spec.containers.filter((c) => c.image === `apache/airflow:${oldTag}`).map((c) => `${p.metadata.name}/${c.name}`));
      return stale.length ? stale : undefined;
    });
  });

  it("limits below requests: refused, naming the Deployment and the resources field", async () => {
    const scheduler = clone(find(objects, "Deployment", "-scheduler"));
    container(scheduler).resources = { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "500m", memory: "1Gi" } };
    const message = await refusal(api(), scheduler);
    expect(message).toContain(`Deployment ${namespace}/${prefix}-scheduler`);
    expect(message).toMatch(/spec\.template\.spec\.containers\[0\]\.resources\.requests: Invalid value: "1": must be less than or equal to cpu limit/);
    expect(message).toMatch(/must be less than or equal to memory limit/);
  });

  it("an unknown field: refused by strict validation, naming the Deployment and the field path", async () => {
    const scheduler = clone(find(objects, "Deployment", "-scheduler"));
    container(scheduler).resourcez = { requests: { cpu: "1" } };
    const message = await refusal(api(), scheduler);
    expect(message).toContain(`Deployment ${namespace}/${prefix}-scheduler`);
    expect(message).toMatch(/\.spec\.template\.spec\.containers\[name="scheduler"\]\.resourcez: field not declared in schema/);
  });

  it("a privileged container: the ReplicaSet cannot create its pods (Pod Security restricted), the event names container and field", async () => {
    const original = find(objects, "Deployment", "-statsd");
    const statsd = clone(original);
    const c = container(statsd);
    c.securityContext = { ...c.securityContext, privileged: true };
    delete c.securityContext.allowPrivilegeEscalation;
    await api().apply(statsd, { fieldManager: "argocd-controller" });
    try {
      let found: string | undefined;
      await eventually("a FailedCreate event", async () => {
        const failed = (await events(api(), namespace)).find((e) => e.reason === "FailedCreate" && e.involvedObject.name.startsWith(`${prefix}-statsd-`));
        found = failed && `${failed.involvedObject.kind} ${failed.involvedObject.name}: ${failed.message}`;
        return found ? undefined : "none yet";
      });
      expect(found).toMatch(/^ReplicaSet airflow-statsd-\w+: .*violates PodSecurity "restricted:latest": .*privileged \(container "statsd-exporter" must not set securityContext\.privileged=true\)/);
    } finally {
      await api().apply(original, { fieldManager: "argocd-controller" });
    }
  });

  it("a missing RBAC verb: the RBAC table names the account, the verb and the Role", async () => {
    const original = find(objects, "Role", "-pod-launcher");
    const role = clone(original) as any;
    role.rules[0].verbs = role.rules[0].verbs.filter((v: string) => v !== "delete");
    await api().apply(role, { fieldManager: "argocd-controller" });
    try {
      expect(await rbacProblems(api(), objects, prefix)).toEqual([
        `ServiceAccount ${namespace}/${prefix}-scheduler may not delete pods (bound: Role ${prefix}-pod-launcher via RoleBinding ${prefix}-pod-launcher)`,
      ]);
    } finally {
      await api().apply(original, { fieldManager: "argocd-controller" });
    }
  });

  it("a pod template that breaks Pod Security: the task pod is refused, naming the pod, container and field", async () => {
    const config = clone(objects.find((o) => o.kind === "ConfigMap" && (o as any).data?.["pod_template_file.yaml"])!) as any;
    const template = parse(config.data["pod_template_file.yaml"]);
    delete template.spec.containers.find((c: { name: string }) => c.name === "base").securityContext;
    config.data["pod_template_file.yaml"] = stringify(template);
    const pod = taskPod([config], "e2e-task-insecure");
    const scheduler = api().as(`system:serviceaccount:${namespace}:${prefix}-scheduler`);
    const error = await scheduler.request("POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, JSON.stringify(pod)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).message).toMatch(
      /pods "e2e-task-insecure" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "base" must set securityContext\.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "base" must set securityContext\.capabilities\.drop=\["ALL"\]\)/,
    );
  });

  it("a migration that outlives its deadline: the Job controller fails it (DeadlineExceeded) and the sync stops, naming the Job and the reason", async () => {
    const rendered = find(objects, "Job", "-migrations") as any;
    expect(rendered.spec.activeDeadlineSeconds).toBe(3600);
    // The rendered Job with a deadline of seconds and a pod no node takes: a migration that never ends.
    const job = clone(rendered);
    job.metadata.name = `${rendered.metadata.name}-deadline`;
    job.spec.activeDeadlineSeconds = 3;
    job.spec.template.spec.nodeSelector = { "airflow-gitops.test/no-such-node": "true" };
    const started = Date.now();
    try {
      await expect(applyInWaves(api(), [job], { timeoutMs: 60_000 })).rejects.toThrow(
        new RegExp(`^Job ${namespace}/${job.metadata.name} failed: Job was active longer than specified deadline`),
      );
      const live = await api().get<KubeObject & { status: { conditions: { type: string; reason: string }[] } }>(job);
      expect(live.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: "Failed", reason: "DeadlineExceeded" })]));
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      await api().delete(job, "Background");
    }
  });

  it("a NodePool breaking a Karpenter CEL rule: refused by the CRD's validation, naming the field", async () => {
    const pool = clone(find(objects, "NodePool", "")) as any;
    pool.spec.template.spec.requirements = [...(pool.spec.template.spec.requirements ?? []), { key: "karpenter.sh/nodepool", operator: "In", values: ["x"] }];
    const message = await refusal(api(), pool);
    expect(message).toMatch(new RegExp(`^NodePool (\\S+/)?${pool.metadata.name}: `));
    expect(message).toMatch(/spec\.template\.spec\.requirements\[\d+\]/);
    expect(message).toMatch(/restricted/);
  });
});
