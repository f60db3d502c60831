/** Config variants beyond the example, each generated, rendered by kustomize and validated. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { kustomizeBuild, type KubeDocument } from "../generator/validate/kustomize.js";
import { validateWithModels } from "../generator/validate/models.js";
import { schemaDirValidator } from "../generator/validate/schema-dir.js";
import { SHARED_SCHEMAS, exampleText, hasSharedSchemas, runCli, tempProject } from "./helpers.js";

async function build(change: (d: any) => void): Promise<KubeDocument[]> {
  const data = parse(exampleText());
  change(data);
  const dir = tempProject({ configText: stringify(data) });
  const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
  expect(result.code, result.err).toBe(0);
  return kustomizeBuild(join(dir, "base"));
}

async function problems(objects: KubeDocument[]): Promise<string[]> {
  const strict = hasSharedSchemas ? schemaDirValidator(SHARED_SCHEMAS) : undefined;
  const found: string[] = [];
  for (const o of objects) {
    for (const p of [...((await validateWithModels(o)) ?? []), ...(strict?.validate(o) ?? [])]) {
      found.push(`${o.kind}/${o.metadata.name} ${p.path}: ${p.message}`);
    }
  }
  return found;
}

const dagSyncPod = (objects: KubeDocument[]) =>
  (objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-dag-sync"))!.spec as any).template.spec;

describe("variants", () => {
  it("HTTPS git without a builder: git-sync writes to the DAG volume with a token from the credentials Secret", async () => {
    const objects = await build((d) => {
      d.dags.gitSync.repository = "https://github.com/acme/dags.git";
      d.dags.gitSync.auth = "https";
      d.dags.gitSync.subPath = "";
      delete d.dags.builder;
    });
    expect(await problems(objects)).toEqual([]);
    const pod = dagSyncPod(objects);
    expect(pod.containers.map((c: any) => c.name)).toEqual(["git-sync"]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "dags", mountPath: "/git" },
      { name: "git-sync-home", mountPath: "/tmp" },
    ]);
    const secretEnv = pod.containers[0].env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.key]);
    expect(secretEnv).toEqual([["GITSYNC_USERNAME", "username"], ["GITSYNC_PASSWORD", "password"]]);
    const cfg = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!.data as Record<string, string>;
    expect(cfg["airflow.cfg"]).toContain("dags_folder = /opt/airflow/dags/repo\n");
  });

  it("a public repository needs no credentials at all", async () => {
    const objects = await build((d) => {
      d.dags.gitSync.repository = "https://github.com/acme/public-dags.git";
      d.dags.gitSync.auth = "none";
    });
    expect(await problems(objects)).toEqual([]);
    expect(JSON.stringify(dagSyncPod(objects))).not.toContain("git-credentials");
  });

  it("another name and namespace rename every object and reference consistently", async () => {
    const objects = await build((d) => {
      d.name = "etl";
      d.namespace = "data-platform";
    });
    expect(await problems(objects)).toEqual([]);
    for (const o of objects) {
      if (!["Namespace", "StorageClass", "PriorityClass"].includes(o.kind)) expect(o.metadata.namespace, `${o.kind}`).toBe("data-platform");
      expect(o.metadata.name.startsWith("etl-") || o.metadata.name === "data-platform").toBe(true);
    }
    const binding = objects.find((o) => o.kind === "RoleBinding" && o.metadata.name === "etl-pod-launcher") as any;
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "etl-scheduler", namespace: "data-platform" }]);
    const cfg = (objects.find((o) => o.metadata.name === "etl-config")!.data as Record<string, string>)["airflow.cfg"]!;
    expect(cfg).toContain("execution_api_server_url = http://etl-api-server.data-platform.svc.cluster.local:8080/execution/");
    expect(cfg).toContain("namespace = data-platform");
  });
});
