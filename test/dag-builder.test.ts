/** The built-in DAG builder: shipped from builder/dag_builder in a ConfigMap, run in the Airflow image. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { readBuilderSource } from "../generator/builder-source.js";
import { ConfigError } from "../generator/config/issues.js";
import { loadConfig } from "../generator/config/load.js";
import { generate } from "../generator/core/index.js";
import { renderAll } from "../generator/render/render.js";
import { ROOT, exampleData, genIn, loadForCore, tempProject } from "./helpers.js";

const PACKAGE = join(ROOT, "builder", "dag_builder");

function exampleWith(change: (d: any) => void): string {
  const d = exampleData() as any;
  change(d);
  return stringify(d);
}

function objectsOf(files: Map<string, string>, prefix: string): any[] {
  return [...files].filter(([path]) => path.startsWith(prefix) && path.endsWith(".yaml")).flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS()));
}

function baseObjects(text: string): any[] {
  return objectsOf(renderAll(generate(loadForCore(text))), "base/");
}

const find = (objects: any[], kind: string, name: string) => objects.find((o) => o?.kind === kind && o.metadata.name === name);
const dagSyncPod = (objects: any[]) => find(objects, "Deployment", "airflow-dag-sync").spec.template;

function problems(text: string): string[] {
  try {
    loadConfig(text, "airflow-gitops.yaml");
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
}

describe("built-in DAG builder", () => {
  const example = baseObjects(exampleWith(() => {}));

  it("ships every file of the builder package byte for byte, and the settings with every default filled", () => {
    const data = find(example, "ConfigMap", "airflow-dag-builder").data;
    const files = readdirSync(PACKAGE).filter((f) => f.endsWith(".py")).sort();
    expect(files).toContain("__main__.py");
    expect(Object.keys(data).sort()).toEqual([...files, "settings.json"].sort());
    for (const file of files) expect(data[file], file).toBe(readFileSync(join(PACKAGE, file), "utf8"));
    expect(JSON.parse(data["settings.json"])).toEqual({
      defaultDag: "warehouse",
      schedule: "0 4 * * *",
      startDate: "2024-01-01",
      connId: "warehouse",
      retries: 2,
      owner: "data",
      operator: "sql",
      tags: ["task-specs"],
      pollSeconds: 30,
    });
  });

  it("runs python3 -m dag_builder in the environment's Airflow image with the package on PYTHONPATH", () => {
    const pod = dagSyncPod(example).spec;
    const builder = pod.containers.find((c: any) => c.name === "dag-builder");
    expect(builder.image).toBe("apache/airflow:3.3.2");
    expect(builder.command).toEqual([
      "python3", "-m", "dag_builder", "--source", "/git/repo/specs", "--output", "/opt/airflow/dags", "--config", "/opt/dag-builder/settings.json",
    ]);
    expect(builder.env).toContainEqual({ name: "PYTHONPATH", value: "/opt/dag-builder" });
    expect(builder.volumeMounts).toContainEqual({ name: "dag-builder", mountPath: "/opt/dag-builder", readOnly: true });
    const volume = pod.volumes.find((v: any) => v.name === "dag-builder");
    expect(volume.configMap.name).toBe("airflow-dag-builder");
    expect(volume.configMap.items).toContainEqual({ key: "__main__.py", path: "dag_builder/__main__.py" });
    expect(volume.configMap.items).toContainEqual({ key: "settings.json", path: "settings.json" });
  });

  it("rolls the dag-sync pod when a builder file or a setting changes, and only then", () => {
    const config = loadConfig(exampleWith(() => {}), "airflow-gitops.yaml");
    const source = readBuilderSource();
    const annotation = (objects: any[]) => dagSyncPod(objects).metadata.annotations["checksum/dag-builder"];
    const base = (files: Map<string, string>) => objectsOf(files, "base/");
    const before = annotation(base(renderAll(generate(config, source))));
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(annotation(base(renderAll(generate(config, source))))).toBe(before);
    const changedSource = { ...source, "render.py": `${source["render.py"]}# changed\n` };
    expect(annotation(base(renderAll(generate(config, changedSource))))).not.toBe(before);
    expect(annotation(baseObjects(exampleWith((d) => (d.dags.taskSpecs.schedule = "@hourly"))))).not.toBe(before);
  });

  it("references no image but the Airflow, git-sync, statsd and pause images in any overlay", () => {
    const files = renderAll(generate(loadForCore(exampleWith(() => {}))));
    const images = new Set<string>();
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") {
        for (const [key, v] of Object.entries(value)) {
          if (key === "image" && typeof v === "string") images.add(v);
          else if (key === "pod_template_file.yaml" && typeof v === "string") visit(parse(v));
          else visit(v);
        }
      }
    };
    for (const [path, text] of files) if (path.endsWith(".yaml")) for (const doc of parseAllDocuments(text)) visit(doc.toJS());
    expect([...images].map((i) => i.replace(/:.*/, "")).sort()).toEqual(
      ["apache/airflow", "quay.io/prometheus/statsd-exporter", "registry.k8s.io/git-sync/git-sync", "registry.k8s.io/pause"].sort(),
    );
  });

  it("keeps the builder image of the user's as an option", () => {
    const objects = baseObjects(
      exampleWith((d) => {
        delete d.dags.taskSpecs;
        d.dags.builder = { image: "acme/dag-builder:1.4.0", command: ["build-dags", "--watch"] };
      }),
    );
    expect(find(objects, "ConfigMap", "airflow-dag-builder")).toBeUndefined();
    const builder = dagSyncPod(objects).spec.containers.find((c: any) => c.name === "dag-builder");
    expect(builder.image).toBe("acme/dag-builder:1.4.0");
    expect(builder.env).toEqual([
      { name: "DAG_SOURCES_DIR", value: "/git/repo/specs" },
      { name: "DAGS_DIR", value: "/opt/airflow/dags" },
    ]);
    expect(dagSyncPod(objects).metadata.annotations?.["checksum/dag-builder"]).toBeUndefined();
  });

  it("writes the pod operator's settings for the builder", () => {
    const pod = { image: "acme/spark-sql:3.5.1", command: ["spark-sql"], arguments: ["-f", "/specs/{sql_file}"] };
    const objects = baseObjects(exampleWith((d) => Object.assign(d.dags.taskSpecs, { operator: "pod", pod })));
    const settings = JSON.parse(find(objects, "ConfigMap", "airflow-dag-builder").data["settings.json"]);
    expect(settings).toMatchObject({ operator: "pod", pod });
  });

  it.each([
    [(d: any) => (d.dags.builder = { image: "acme/dag-builder:1.4.0", command: ["b"] }), "dags.builder: use either the built-in builder (dags.taskSpecs) or a builder image (dags.builder), not both"],
    [(d: any) => (d.dags.taskSpecs.operator = "pod"), 'dags.taskSpecs.operator: operator "pod" needs dags.taskSpecs.pod with the image each task runs in'],
    [
      (d: any) => Object.assign(d.dags.taskSpecs, { operator: "pod", pod: { image: "acme/job:1.0", arguments: ["{sql}"] } }),
      "dags.taskSpecs.pod.arguments[0]: unknown placeholder {sql}; known: {sql_file}, {task_id}, {dag_id}, {table}, {conn_id}",
    ],
    [(d: any) => (d.dags.taskSpecs.defaultDag = "my dag"), "dags.taskSpecs.defaultDag: must be an id Airflow accepts"],
    [(d: any) => (d.dags.taskSpecs.startDate = "2024-13-01"), "dags.taskSpecs.startDate: must be a date YYYY-MM-DD"],
  ])("rejects inconsistent builder settings (%#)", (change, expected) => {
    expect(problems(exampleWith(change)).join("\n")).toContain(expected);
  });

  it("is an internal error to generate the built-in builder without its files", () => {
    expect(() => generate(loadConfig(exampleWith(() => {}), "airflow-gitops.yaml"))).toThrow(/Python files were not passed/);
  });

  it("gen ships the builder of its own installation into a project anywhere", async () => {
    const dir = tempProject();
    const result = await genIn(dir);
    expect(result.code, result.err).toBe(0);
    const configMap = parse(readFileSync(join(dir, "base", "dag-sync-configmap.yaml"), "utf8"));
    expect(configMap.data["__main__.py"]).toBe(readFileSync(join(PACKAGE, "__main__.py"), "utf8"));
  });
});
