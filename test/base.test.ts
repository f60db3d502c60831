/**
 * The committed base, rendered by real kustomize: every component present, every reference resolved,
 * every pod hardened, and the Airflow wiring right. (Schema validation of every object happens in
 * validate.test.ts, over the overlays that include the base.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { KubeDocument } from "../generator/validate/kustomize.js";
import { adminUserSecret, airflowSecrets } from "../generator/core/secret-refs.js";
import { committedBuild } from "./helpers.js";

let objects: KubeDocument[];
let podTemplate: KubeDocument;

beforeAll(() => {
  objects = committedBuild("base");
  const configMap = find("ConfigMap", "airflow-config");
  podTemplate = parse((configMap.data as Record<string, string>)["pod_template_file.yaml"]!) as KubeDocument;
});

function find(kind: string, name: string): KubeDocument {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not in the build`);
  return found;
}

const id = (o: KubeDocument) => `${o.kind}/${o.metadata.name}`;

interface PodSpecLike {
  serviceAccountName?: string;
  securityContext?: Record<string, any>;
  initContainers?: Record<string, any>[];
  containers: Record<string, any>[];
  volumes?: Record<string, any>[];
}

/** Every pod spec of the build (workload templates and the task pod template), by owner. */
function podSpecs(): [string, PodSpecLike, Record<string, string>][] {
  const specs: [string, PodSpecLike, Record<string, string>][] = [];
  for (const o of objects) {
    const template = (o.spec as any)?.template;
    if (template?.spec) specs.push([id(o), template.spec, template.metadata?.labels ?? {}]);
  }
  specs.push(["pod_template_file", podTemplate.spec as PodSpecLike, podTemplate.metadata.labels ?? {}]);
  return specs;
}

describe("kustomize build base", () => {
  it("renders every component of the deployment", () => {
    const ids = objects.map(id).sort();
    for (const expected of [
      "Namespace/airflow",
      "Deployment/airflow-api-server",
      "Deployment/airflow-scheduler",
      "Deployment/airflow-dag-processor",
      "Deployment/airflow-triggerer",
      "Deployment/airflow-statsd",
      "Deployment/airflow-dag-sync",
      "Job/airflow-migrations",
      "Role/airflow-pod-launcher",
      "Role/airflow-pod-log-reader",
      "Service/airflow-api-server",
      "Ingress/airflow-api-server",
      "StorageClass/airflow-efs",
      "PersistentVolumeClaim/airflow-dags",
      "PersistentVolumeClaim/airflow-logs",
      "PriorityClass/airflow-control-plane",
      "NetworkPolicy/airflow-default-deny",
    ]) {
      expect(ids).toContain(expected);
    }
    for (const c of ["api-server", "scheduler", "dag-processor", "triggerer", "statsd", "worker", "migrations", "dag-sync"]) {
      expect(ids).toContain(`ServiceAccount/airflow-${c}`);
    }
  });

});

describe("pods", () => {
  it("meet Pod Security Standards restricted", () => {
    const problems: string[] = [];
    for (const [owner, spec] of podSpecs()) {
      const pod = spec.securityContext ?? {};
      if (pod.runAsNonRoot !== true) problems.push(`${owner}: runAsNonRoot`);
      if (pod.runAsUser === 0) problems.push(`${owner}: runs as root`);
      if (pod.seccompProfile?.type !== "RuntimeDefault") problems.push(`${owner}: seccomp`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${owner}/${c.name}: allowPrivilegeEscalation`);
        if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`${owner}/${c.name}: capabilities`);
        if (sc.privileged || sc.runAsUser === 0) problems.push(`${owner}/${c.name}: privileged or root`);
      }
      for (const v of spec.volumes ?? []) {
        if (v.hostPath) problems.push(`${owner}: hostPath volume ${v.name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("give every container requests and a memory limit, and pin every image", () => {
    const problems: string[] = [];
    for (const [owner, spec] of podSpecs()) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problems.push(`${owner}/${c.name}: requests`);
        if (!c.resources?.limits?.memory) problems.push(`${owner}/${c.name}: memory limit`);
        if (!/:[^:/]+$/.test(c.image) || c.image.endsWith(":latest")) problems.push(`${owner}/${c.name}: image ${c.image}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("reference only ServiceAccounts, ConfigMaps, claims and Secrets that exist", () => {
    const has = (kind: string, name: string) => objects.some((o) => o.kind === kind && o.metadata.name === name);
    const secretNames = new Set(Object.values(airflowSecrets({ name: "airflow" })).map((s) => s.secretName));
    secretNames.add("airflow-git-credentials");
    secretNames.add(adminUserSecret({ name: "airflow" }).secretName);
    const problems: string[] = [];
    for (const [owner, spec] of podSpecs()) {
      if (!spec.serviceAccountName || !has("ServiceAccount", spec.serviceAccountName)) problems.push(`${owner}: service account`);
      const volumeNames = new Set((spec.volumes ?? []).map((v) => v.name));
      for (const v of spec.volumes ?? []) {
        if (v.configMap && !has("ConfigMap", v.configMap.name)) problems.push(`${owner}: ConfigMap ${v.configMap.name}`);
        if (v.persistentVolumeClaim && !has("PersistentVolumeClaim", v.persistentVolumeClaim.claimName)) problems.push(`${owner}: claim`);
        if (v.secret && !secretNames.has(v.secret.secretName)) problems.push(`${owner}: Secret ${v.secret.secretName}`);
      }
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const m of c.volumeMounts ?? []) if (!volumeNames.has(m.name)) problems.push(`${owner}/${c.name}: mount ${m.name}`);
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && !secretNames.has(ref.name)) problems.push(`${owner}/${c.name}: Secret ${ref.name}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("select their own pods: every Deployment's selector matches its template, every Service finds pods and ports", () => {
    const problems: string[] = [];
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const o of objects.filter((x) => x.kind === "Deployment")) {
      const spec = o.spec as any;
      if (!matches(spec.selector.matchLabels, spec.template.metadata.labels)) problems.push(`${id(o)}: selector`);
    }
    for (const svc of objects.filter((x) => x.kind === "Service")) {
      const spec = svc.spec as any;
      const pods = podSpecs().filter(([, , labels]) => matches(spec.selector, labels));
      if (pods.length === 0) problems.push(`${id(svc)}: selects no pod`);
      for (const port of spec.ports) {
        const named = pods.some(([, pod]) => pod.containers.some((c) => (c.ports ?? []).some((p: any) => p.name === port.targetPort)));
        if (!named) problems.push(`${id(svc)}: targetPort ${port.targetPort}`);
      }
    }
    const ingress = find("Ingress", "airflow-api-server");
    const backend = (ingress.spec as any).rules[0].http.paths[0].backend.service;
    const svc = find("Service", backend.name);
    if (!(svc.spec as any).ports.some((p: any) => p.name === backend.port.name)) problems.push("Ingress backend port");
    expect(problems).toEqual([]);
  });
});

describe("Airflow wiring", () => {
  it("binds the pod launcher to the scheduler with the verbs the executor needs, in the same namespace", () => {
    const role = find("Role", "airflow-pod-launcher") as any;
    const pods = role.rules.find((r: any) => r.resources.includes("pods"));
    expect([...pods.verbs].sort()).toEqual(["create", "delete", "get", "list", "patch", "watch"]);
    expect(role.rules.find((r: any) => r.resources.includes("pods/log")).verbs).toEqual(["get"]);
    const binding = find("RoleBinding", "airflow-pod-launcher") as any;
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "airflow-scheduler", namespace: "airflow" }]);
    expect(binding.metadata.namespace).toBe("airflow");
    const reader = find("RoleBinding", "airflow-pod-log-reader") as any;
    expect(reader.subjects.map((s: any) => s.name)).toContain("airflow-api-server");
  });

  it("runs migrations as an Argo CD Sync hook and makes every long-running Airflow pod wait for them", () => {
    const job = find("Job", "airflow-migrations");
    expect(job.metadata.annotations).toMatchObject({
      "argocd.argoproj.io/hook": "Sync",
      "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
    });
    expect(JSON.stringify(job)).not.toContain("helm.sh/hook");
    expect((job.spec as any).template.spec.containers[0].args).toEqual(["bash", "-c", "exec airflow db migrate"]);
    for (const name of ["api-server", "scheduler", "dag-processor", "triggerer"]) {
      const init = (find("Deployment", `airflow-${name}`).spec as any).template.spec.initContainers;
      expect(init.map((c: any) => c.args.slice(0, 3))).toEqual([["airflow", "db", "check-migrations"]]);
    }
  });

  it("gives the task pod template the executor's contract", () => {
    const spec = podTemplate.spec as any;
    expect(spec.containers[0].name).toBe("base");
    expect(spec.restartPolicy).toBe("Never");
    expect(spec.serviceAccountName).toBe("airflow-worker");
    expect(spec.containers[0].volumeMounts.map((m: any) => m.mountPath).sort()).toEqual([
      "/opt/airflow/airflow.cfg",
      "/opt/airflow/dags",
      "/opt/airflow/logs",
    ]);
    expect(podTemplate.metadata.namespace).toBe("airflow");
  });

  it("mounts the pod template into the scheduler where airflow.cfg says it is", () => {
    const cfg = (find("ConfigMap", "airflow-config").data as Record<string, string>)["airflow.cfg"]!;
    const path = /pod_template_file = (.*)/.exec(cfg)![1];
    const mounts = (find("Deployment", "airflow-scheduler").spec as any).template.spec.containers[0].volumeMounts;
    expect(mounts.some((m: any) => m.mountPath === path && m.subPath === "pod_template_file.yaml")).toBe(true);
  });

  it("wires into each control-plane container exactly the Airflow secrets its process needs", () => {
    const [fernet, db, apiKey, jwt] = ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"];
    const expected: Record<string, string[]> = {
      "api-server": [fernet!, db!, apiKey!, jwt!],
      scheduler: [fernet!, db!, jwt!],
      "dag-processor": [fernet!, db!],
      triggerer: [fernet!, db!, apiKey!],
    };
    for (const [name, secrets] of Object.entries(expected)) {
      const env = (find("Deployment", `airflow-${name}`).spec as any).template.spec.containers[0].env;
      expect(env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name).sort(), name).toEqual([...secrets].sort());
    }
  });

  it("rolls every Airflow pod when airflow.cfg changes", () => {
    for (const name of ["api-server", "scheduler", "dag-processor", "triggerer"]) {
      const annotations = (find("Deployment", `airflow-${name}`).spec as any).template.metadata.annotations;
      expect(annotations["checksum/airflow-config"]).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("gives git-sync the SSH key readable by its group only and known_hosts", () => {
    const spec = (find("Deployment", "airflow-dag-sync").spec as any).template.spec;
    const secretVolume = spec.volumes.find((v: any) => v.secret);
    expect(secretVolume.secret.defaultMode).toBe(0o400);
    expect(spec.securityContext.fsGroup).toBe(65533);
    const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ GITSYNC_SSH_KNOWN_HOSTS: "true", GITSYNC_ROOT: "/git", GITSYNC_LINK: "repo" });
    expect(spec.containers[1].command.slice(0, 5)).toEqual(["python3", "-m", "dag_builder", "--source", "/git/repo/specs"]);
  });
});
