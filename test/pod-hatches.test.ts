/**
 * The escape hatches (`pods`, `environments.<env>.pods`, `environments.<env>.patches`): each lands where it
 * says in the pods real kustomize builds from the written tree, an environment's add to the shared ones,
 * and a hatch that would take over what the generator makes is a config error with file, line and field.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { buildManifests } from "../generator/core/base.js";
import { canonicalJson as canonical } from "../generator/core/hash.js";
import { secretsManifests } from "../generator/core/secrets.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { kustomizeBuild, type KubeDocument } from "../generator/validate/kustomize.js";
import { exampleData, exampleProblems, loadForCore, runCli, snapshot, tempProject } from "./helpers.js";
import { withHatches } from "./pod-hatch-config.js";

const SIZED = { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } };
const CLUSTER_SCOPED_CUSTOM_KINDS = new Set(["NodePool", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);

function hatchedProject(): { dir: string; text: string } {
  const data = exampleData() as any;
  withHatches(data);
  const text = stringify(data);
  return { dir: tempProject({ configText: text }), text };
}

const id = (o: { kind: string; metadata: { name?: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

function built(dir: string, env: string): KubeDocument[] {
  return kustomizeBuild(join(dir, "overlays", env)).map((o) => {
    if (CLUSTER_SCOPED_CUSTOM_KINDS.has(o.kind)) delete o.metadata.namespace;
    return o;
  });
}

function template(objects: KubeDocument[], kind: string, name: string): any {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name) as any;
  if (!o) throw new Error(`no ${kind} ${name}`);
  return kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template;
}

function taskPod(objects: KubeDocument[]): any {
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!;
  return parse((configMap.data as Record<string, string>)["pod_template_file.yaml"]!);
}

describe("escape hatches, through gen and real kustomize", async () => {
  const { dir, text } = hatchedProject();
  const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
  const builds = new Map(["dev", "prod"].map((env) => [env, result.code === 0 ? built(dir, env) : []]));

  it("gen writes the tree", () => {
    expect(result.code, result.err).toBe(0);
  });

  const pods: [string, string, string][] = [
    ["Deployment", "airflow-api-server", "api-server"],
    ["Deployment", "airflow-scheduler", "scheduler"],
    ["Deployment", "airflow-dag-processor", "dag-processor"],
    ["Deployment", "airflow-triggerer", "triggerer"],
    ["Deployment", "airflow-statsd", "statsd-exporter"],
    ["Deployment", "airflow-dag-sync", "git-sync"],
    ["Job", "airflow-migrations", "migrate"],
    ["CronJob", "airflow-db-clean", "db-clean"],
    ["CronJob", "airflow-log-retention", "log-retention"],
  ];

  it.each(["dev", "prod"])("%s: every pod gets every hatch of its workload, added to what the generator made", (env) => {
    const objects = builds.get(env)!;
    // dev runs no db clean.
    const present = pods.filter(([kind, name]) => objects.some((o) => o.kind === kind && o.metadata.name === name));
    expect(present.length).toBeGreaterThanOrEqual(env === "prod" ? pods.length : pods.length - 1);
    for (const [kind, name, main] of [...present, ["Pod", "task pod", "base"] as [string, string, string]]) {
      const t = kind === "Pod" ? taskPod(objects) : template(objects, kind, name);
      const where = `${env} ${kind} ${name}`;
      const container = t.spec.containers.find((c: any) => c.name === main);
      expect(container.env.map((e: any) => e.name), where).toEqual(expect.arrayContaining(["TEAM", "NODE_NAME"]));
      expect(container.env.find((e: any) => e.name === "NODE_NAME").valueFrom, where).toEqual({ fieldRef: { fieldPath: "spec.nodeName" } });
      expect(container.envFrom, where).toEqual([{ configMapRef: { name: "team-settings", optional: true } }]);
      expect(container.volumeMounts, where).toContainEqual({ name: "team-ca", mountPath: "/etc/ssl/team", readOnly: true });
      expect(t.spec.volumes, where).toContainEqual({ name: "team-ca", configMap: { name: "team-ca-bundle" } });
      const shipper = t.spec.containers.find((c: any) => c.name === "shipper");
      expect(shipper.securityContext, `${where}: the restricted container settings`).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      expect(t.spec.initContainers.at(-1).name, where).toBe("warm-up");
      expect(t.metadata.annotations["example.com/owner"], where).toBe("data-platform");
      expect(t.metadata.labels["cost-center"], where).toBe("cc-42");
      expect(t.metadata.labels["app.kubernetes.io/name"], `${where}: the generated labels stay`).toBe("airflow");
      expect(t.spec.imagePullSecrets, where).toEqual([{ name: "private-registry" }]);
      expect(t.spec.nodeSelector["kubernetes.io/arch"], where).toBe("amd64");
      expect(t.spec.tolerations, where).toContainEqual({ key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" });
      expect(t.spec.priorityClassName, where).toBe("team-critical");
      const terms = t.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      for (const term of terms) expect(term.matchExpressions, where).toContainEqual({ key: "example.com/pool", operator: "In", values: ["airflow"] });
      if (kind !== "Pod") expect(t.spec.terminationGracePeriodSeconds, where).toBe(77);
    }
  });

  it("prod: the generated node placement and the added one must both hold (each term has both)", () => {
    const terms = template(builds.get("prod")!, "Deployment", "airflow-scheduler").spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    const dev = template(builds.get("dev")!, "Deployment", "airflow-scheduler").spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms.length).toBeGreaterThan(0);
    for (const term of terms) expect(term.matchExpressions.length, "generated + added").toBeGreaterThan(1);
    expect(dev).toEqual([{ matchExpressions: [{ key: "example.com/pool", operator: "In", values: ["airflow"] }] }]);
  });

  it("git-sync and the builder get their own container hatches", () => {
    const t = template(builds.get("prod")!, "Deployment", "airflow-dag-sync");
    const gitSync = t.spec.containers.find((c: any) => c.name === "git-sync");
    expect(gitSync.env.map((e: any) => e.name)).toEqual(expect.arrayContaining(["TEAM", "GIT_SSL_CAINFO"]));
    const builder = t.spec.containers.find((c: any) => c.name === "dag-builder");
    if (builder) expect(builder.env.map((e: any) => e.name)).toContain("BUILDER_TEAM");
  });

  it("an environment's hatches add to the shared ones, in that environment only", () => {
    const prod = template(builds.get("prod")!, "Deployment", "airflow-scheduler");
    const dev = template(builds.get("dev")!, "Deployment", "airflow-scheduler");
    const names = (t: any) => t.spec.containers.find((c: any) => c.name === "scheduler").env.map((e: any) => e.name);
    expect(names(prod)).toEqual(expect.arrayContaining(["TEAM", "NODE_NAME", "PROD_ONLY"]));
    expect(names(dev)).not.toContain("PROD_ONLY");
    expect(prod.spec.containers.map((c: any) => c.name)).toEqual(["scheduler", "shipper", "prod-proxy"]);
    expect(dev.spec.containers.map((c: any) => c.name)).toEqual(["scheduler", "shipper"]);
    expect(prod.metadata.labels).toMatchObject({ "cost-center": "cc-42", tier: "gold" });
    expect(prod.spec.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: "dedicated" }), expect.objectContaining({ key: "prod" })]));
    expect(taskPod(builds.get("prod")!).metadata.annotations["example.com/tier"]).toBe("gold");
    expect(taskPod(builds.get("dev")!).metadata.annotations["example.com/tier"]).toBeUndefined();
  });

  it("prod's overlay builds exactly the resolved config, plus the raw patches and nothing else", () => {
    const config = loadForCore(text);
    const target = resolveEnvironment(config, "prod");
    const expected = new Map([...buildManifests(target), ...secretsManifests(target)].map(({ object }) => [id(object), object]));
    const actual = new Map(builds.get("prod")!.map((o) => [id(o), o]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    const patched = new Set(["Deployment/airflow/airflow-api-server", "Service/airflow/airflow-api-server"].map((k) => k.replace("/airflow/", `/${target.namespace}/`)));
    const differing = [...expected].filter(([key, o]) => !patched.has(key) && canonical(actual.get(key)) !== canonical(o)).map(([key]) => key);
    expect(differing).toEqual([]);
    const api = actual.get(`Deployment/${target.namespace}/airflow-api-server`) as any;
    expect(api.spec.template.spec.hostAliases).toEqual([{ ip: "10.0.0.10", hostnames: ["ldap.internal"] }]);
    const { hostAliases: _h, ...rest } = api.spec.template.spec;
    expect(canonical({ ...api, spec: { ...api.spec, template: { ...api.spec.template, spec: rest } } })).toBe(canonical(expected.get(`Deployment/${target.namespace}/airflow-api-server`)));
    const service = actual.get(`Service/${target.namespace}/airflow-api-server`) as any;
    expect(service.metadata.annotations["example.com/owner"]).toBe("data-platform");
  });

  it("validate passes the hatched tree: the cluster objects the hatches name are declared on the pods, not missing from the build", async () => {
    const scheduler = template(builds.get("prod")!, "Deployment", "airflow-scheduler");
    expect(scheduler.metadata.annotations["airflow-gitops.io/cluster-references"]).toBe("ConfigMap/team-ca-bundle,ConfigMap/team-settings,PriorityClass/team-critical");
    const checked = await runCli(["validate", "--dir", dir, "--no-cache"]);
    expect(checked.code, checked.out + checked.err).toBe(0);
  });

  it("the raw patches are files of the overlay, listed after the generated patches with their targets", () => {
    const kustomization = parse(readFileSync(join(dir, "overlays", "prod", "kustomization.yaml"), "utf8"));
    const last = kustomization.patches.slice(-2);
    expect(last).toEqual([
      { path: "custom-patch-01.yaml", target: { kind: "Deployment", name: "airflow-api-server" } },
      { path: "custom-patch-02.yaml", target: { kind: "Service", name: "airflow-api-server" } },
    ]);
    expect(existsSync(join(dir, "overlays", "dev", "custom-patch-01.yaml"))).toBe(false);
  });
});

describe("escape hatches: bad input is a config error with the line, and nothing is written", () => {
  const problems = (change: (pods: any, data: any) => void) =>
    exampleProblems((data) => {
      data.pods = {};
      change(data.pods, data);
    });

  it("a wrong type and an unknown field, inside a Kubernetes value, checked against the Kubernetes types", () => {
    expect(problems((p) => (p.scheduler = { extraEnv: "TEAM=data" }))).toEqual([expect.stringMatching(/:\d+:\d+ pods\.scheduler\.extraEnv: must be array/)]);
    expect(problems((p) => (p.scheduler = { extraEnv: [{ name: "A", valueFrom: { fieldRef: { fieldPth: "x" } } }] }))).toEqual([
      expect.stringMatching(/:\d+:\d+ pods\.scheduler\.extraEnv\[0\]\.valueFrom\.fieldRef: must have required property fieldPath/),
      expect.stringMatching(/:\d+:\d+ pods\.scheduler\.extraEnv\[0\]\.valueFrom\.fieldRef\.fieldPth: unknown field "fieldPth"$/),
    ]);
    expect(problems((p) => (p.worker = { extraContainers: [{ name: "x", image: "i:1", imagePullPolicy: "Sometimes", resources: SIZED }] }))).toEqual([
      expect.stringMatching(/pods\.worker\.extraContainers\[0\]\.imagePullPolicy: must be equal to one of the allowed values/),
    ]);
    expect(problems((p) => (p.schedulr = {}))).toEqual([expect.stringMatching(/pods\.schedulr: unknown field "schedulr"; did you mean "scheduler"\?/)]);
  });

  it("what Pod Security restricted refuses: a privileged sidecar, an added capability, a hostPath volume", () => {
    expect(problems((p) => (p.triggerer = { extraContainers: [{ name: "x", image: "i:1", resources: SIZED, securityContext: { privileged: true } }] }))).toEqual([
      expect.stringMatching(/pods\.triggerer\.extraContainers\[0\]\.securityContext\.privileged: a privileged container is refused: the namespace enforces Pod Security "restricted"/),
    ]);
    expect(problems((p) => (p.jobs = { extraInitContainers: [{ name: "x", image: "i:1", resources: SIZED, securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] }))).toEqual([
      expect.stringMatching(/pods\.jobs\.extraInitContainers\[0\]\.securityContext\.capabilities\.add\[0\]: capability SYS_ADMIN is refused/),
    ]);
    expect(problems((p) => (p.apiServer = { extraVolumes: [{ name: "host", hostPath: { path: "/" } }] }))).toEqual([
      expect.stringMatching(/pods\.apiServer\.extraVolumes\[0\]\.hostPath: a hostPath volume is refused/),
    ]);
  });

  it("an added container without requests or a memory limit", () => {
    expect(problems((p) => (p.statsd = { extraContainers: [{ name: "x", image: "i:1", resources: { limits: { memory: "1Gi" } } }] }))).toEqual([
      expect.stringMatching(/pods\.statsd\.extraContainers\[0\]\.resources\.requests: needs cpu and memory requests/),
    ]);
    expect(problems((p) => (p.statsd = { extraInitContainers: [{ name: "x", image: "i:1" }] }))).toEqual([
      expect.stringMatching(/pods\.statsd\.extraInitContainers\[0\]\.resources\.limits\.memory: needs a memory limit/),
      expect.stringMatching(/pods\.statsd\.extraInitContainers\[0\]\.resources\.requests: needs cpu and memory requests/),
    ]);
  });

  it("the executor and airflow.cfg options cannot be set behind the config's back", () => {
    expect(problems((p) => (p.scheduler = { extraEnv: [{ name: "AIRFLOW__CORE__EXECUTOR", value: "CeleryExecutor" }] }))).toEqual([
      expect.stringMatching(/pods\.scheduler\.extraEnv\[0\]\.name: overrides the executor, which is KubernetesExecutor by design/),
    ]);
    expect(problems((p, d) => (d.environments.prod.pods = { worker: { extraEnv: [{ name: "AIRFLOW__CORE__PARALLELISM", value: "1" }] } }))).toEqual([
      expect.stringMatching(/environments\.prod\.pods\.worker\.extraEnv\[0\]\.name: sets airflow\.cfg option \[core\] parallelism behind the config's back/),
    ]);
  });

  it("a raw patch with both kinds, or none", () => {
    expect(problems((_p, d) => (d.environments.prod.patches = [{ target: { kind: "Deployment" } }]))).toEqual([
      expect.stringMatching(/environments\.prod\.patches\[0\]: needs exactly one of strategicMerge and jsonPatch/),
    ]);
  });

  async function genProblems(change: (data: any) => void): Promise<{ code: number; err: string; written: boolean }> {
    const data = exampleData() as any;
    data.pods = {};
    change(data);
    const dir = tempProject({ configText: stringify(data) });
    const before = snapshot(dir);
    const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
    return { code: result.code, err: result.err, written: JSON.stringify(snapshot(dir)) !== JSON.stringify(before) };
  }

  it("collisions with what the generator makes, named with the object, from gen; nothing is written", async () => {
    const found = await genProblems((d) => {
      d.pods.scheduler = {
        extraVolumes: [{ name: "config", emptyDir: {} }],
        extraEnv: [{ name: "AIRFLOW_HOME", value: "/tmp" }],
        podLabels: { "app.kubernetes.io/component": "mine" },
        podAnnotations: { "checksum/airflow-config": "0" },
        extraContainers: [{ name: "wait-for-migrations", image: "i:1", resources: SIZED }],
      };
      d.pods.triggerer = { extraVolumeMounts: [{ name: "missing", mountPath: "/x" }] };
      d.environments.prod.pods = { apiServer: { extraVolumeMounts: [{ name: "config", mountPath: "/opt/airflow/airflow.cfg" }] } };
      d.environments.prod.patches = [{ target: { kind: "Deployment", name: "airflow-webserver" }, jsonPatch: [{ op: "remove", path: "/spec/replicas" }] }];
    });
    expect(found.code).toBe(1);
    expect(found.written).toBe(false);
    const lines = found.err.split("\n");
    const expectLine = (pattern: RegExp) => expect(lines.some((l) => pattern.test(l)), `${pattern} in:\n${found.err}`).toBe(true);
    expectLine(/airflow-gitops\.yaml:\d+:\d+ pods\.scheduler\.extraVolumes\[0\]\.name: collides with the generated volume "config" of Deployment airflow-scheduler/);
    expectLine(/pods\.scheduler\.extraEnv\[0\]\.name: AIRFLOW_HOME is already set in container scheduler of Deployment airflow-scheduler \(by the generator\)/);
    expectLine(/pods\.scheduler\.podLabels\["app\.kubernetes\.io\/component"\]: is set by the generator/);
    expectLine(/pods\.scheduler\.podAnnotations\["checksum\/airflow-config"\]: is set by the generator/);
    expectLine(/pods\.scheduler\.extraContainers\[0\]\.name: collides with the generated container "wait-for-migrations"/);
    expectLine(/pods\.triggerer\.extraVolumeMounts\[0\]\.name: names no volume of Deployment airflow-triggerer/);
    expectLine(/environments\.prod\.pods\.apiServer\.extraVolumeMounts\[0\]\.mountPath: \/opt\/airflow\/airflow\.cfg is already mounted/);
    expectLine(/environments\.prod\.patches\[0\]\.target: selects no object of the prod overlay/);
    expect(found.err).not.toMatch(/\n\s+at /);
  });
});

describe("escape hatches: what a second look found", () => {
  it("an added capability keeps every other one dropped", () => {
    const data = exampleData() as any;
    data.pods = { statsd: { extraContainers: [{ name: "x", image: "i:1", resources: SIZED, securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } }] } };
    const statsd = buildManifests(loadForCore(stringify(data))).find((m) => m.object.kind === "Deployment" && m.component === "statsd")!.object as any;
    const x = statsd.spec.template.spec.containers.find((c: any) => c.name === "x");
    expect(x.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } });
  });

  it("wrong types deep inside a container are config errors, not crashes", () => {
    const found = exampleProblems((d) => {
      d.pods = { statsd: { extraContainers: [{ name: "x", image: "i:1", resources: SIZED, ports: { hostPort: 80 }, securityContext: { capabilities: { add: "NET_ADMIN", drop: 5 } } }] } };
      d.environments.prod.patches = [{ target: { kind: "Deployment" }, strategicMerge: { metadata: "x" } }];
    });
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toMatch(/pods\.statsd\.extraContainers\[0\]\.ports: must be array/);
    expect(found.join("\n")).not.toMatch(/TypeError|\n\s+at /);
  });

  it("a JSON patch may not rename the object, change its kind, or target the Namespace", () => {
    const found = exampleProblems((d) => {
      d.environments.prod.patches = [
        { target: { kind: "Deployment", name: "airflow-scheduler" }, jsonPatch: [{ op: "replace", path: "/metadata/name", value: "x" }] },
        { target: { kind: "Namespace" }, strategicMerge: { metadata: { labels: { team: "data" } } } },
      ];
    });
    expect(found).toEqual([
      expect.stringMatching(/environments\.prod\.patches\[0\]\.jsonPatch\[0\]: changes \/metadata\/name/),
      expect.stringMatching(/environments\.prod\.patches\[1\]\.target\.kind: Kustomize patches before it names the Namespace/),
    ]);
  });

  it("a shared hatch that collides in one environment only is refused", async () => {
    const data = exampleData() as any;
    data.pods = { scheduler: { extraEnv: [{ name: "AWS_DEFAULT_REGION", value: "us-west-2" }] } };
    const dir = tempProject({ configText: stringify(data) });
    const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
    // prod keeps its task logs in S3, so the generator gives prod's Airflow containers AWS_DEFAULT_REGION; dev has none.
    expect(data.environments.prod.storage.logs.s3BaseFolder).toBeTruthy();
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/pods\.scheduler\.extraEnv\[0\]\.name: AWS_DEFAULT_REGION is already set in container scheduler/);
  });
});
