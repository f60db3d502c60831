/**
 * The scheduler's KubernetesExecutor against the local control plane (the prod overlay synced as Argo CD
 * does): a DAG run makes a task pod that is admitted under Pod Security "restricted", uses the template's
 * ServiceAccount and volumes, carries no database URL or fernet key and is bound where the overlay says;
 * the DAG is one the dag-sync pod's builder container makes from the example task specs, and its task is
 * the SQL of a spec reading only a source table. The pod's own command, run on this host with the pod's env
 * and the specs' connection (adaptation 4), brings the task instance to `success`
 * through the Execution API (the api-server's Service name resolving to the local api-server), with the
 * generated JWT settings and no database access. A wrong execution_api_server_url or a JWT secret that
 * differs between api-server and scheduler makes the task fail with the cause in its output.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configMapData, setOption, taskConnectionEnv } from "../airflow/adaptations.js";
import { checkProbes } from "../airflow/checks.js";
import { AirflowHost } from "../airflow/harness.js";
import type { Started } from "../airflow/processes.js";
import { component, containerOf, generateProject, podSpecOf, renderOverlay, type Container, type PodSpec, type Rendered } from "../airflow/rendered.js";
import type { KubeObject } from "../cluster/index.js";
import { StatsdExporter } from "../prometheus/statsd-exporter.js";
import { STATSD_FAMILIES } from "../../generator/core/components/statsd.js";
import { ensureVenv } from "../airflow/venv.js";
import { tempDir } from "../temp-dirs.js";
import { deploy, nodes, pods, useCluster, type Pod } from "./cluster-workloads.js";

const DATABASE_FROM_PARTS = (doc: import("yaml").Document) => doc.setIn(["secrets", "parameters", "database"], doc.createNode({ source: "parts" }));
// The example task specs, built by the dag-sync pod's builder container; stg_customers reads only a source table.
const TASK_SPECS = join(import.meta.dirname, "..", "..", "examples", "task-specs");
const DAG_ID = "warehouse";
const TASK_ID = "stg_customers";
const RAW_CUSTOMERS = `INSERT INTO raw.customers (id, email, country_code, created_at, deleted_at) VALUES
  (1, 'Ana@Example.com', 'br', '2026-01-02T10:00:00Z', NULL),
  (2, 'bo@example.com', 'pt', '2026-01-03T11:00:00Z', NULL),
  (3, 'gone@example.com', 'br', '2026-01-04T12:00:00Z', '2026-01-05T00:00:00Z')`;
const timings: string[] = [];
const { cluster, api } = useCluster();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, context: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${context()}`);
    await sleep(1000);
  }
}

describe("the KubernetesExecutor runs a task to success through the Execution API", () => {
  let project: string;
  let rendered: Rendered;
  let host: AirflowHost;
  let scheduler: Started;
  let apiServer: Started;
  let dagProcessor: Started;
  let taskPod: Pod;
  let connection: Record<string, string>;
  let exporter: StatsdExporter;

  beforeAll(async () => {
    project = await generateProject(DATABASE_FROM_PARTS);
    rendered = renderOverlay(project, "prod");
    // The suite resolves Secrets itself (test values through the ExternalSecrets' own templates): the
    // cluster gets everything else, which is all the executor and the scheduler of pods read.
    await deploy(api(), rendered.documents.filter((d) => !/^(ExternalSecret|SecretStore|ClusterSecretStore)$/.test(d.kind)) as unknown as KubeObject[]);
    host = await AirflowHost.start(rendered, { kubeconfig: cluster().kubeconfigPath });
    // The statsd exporter at the generated Deployment's image, with its mappings, where the Airflow processes send.
    const exporterDir = tempDir("airflow-gitops-statsd-");
    const statsdDeployment = rendered.documents.find((d) => d.kind === "Deployment" && d.metadata.name.endsWith("-statsd")) as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const mappings = configMapData(rendered.documents, `${rendered.documents.find((d) => d.kind === "Service" && d.metadata.name.endsWith("-statsd"))!.metadata.name}-mappings`);
    writeFileSync(join(exporterDir, "mappings.yml"), mappings["mappings.yml"]!);
    mkdirSync(join(exporterDir, "logs"));
    exporter = await StatsdExporter.start({
      image: statsdDeployment.spec.template.spec.containers[0]!.image,
      mappingFile: join(exporterDir, "mappings.yml"),
      udpPort: host.statsdPort,
      logsDir: join(exporterDir, "logs"),
    });
    const job = podSpecOf(rendered, "Job", rendered.documents.find((d) => d.kind === "Job" && /migrat/.test(d.metadata.name))!.metadata.name);
    const migrate = await host.run(job, job.containers[0]!);
    if (migrate.code !== 0) throw new Error(`migrations failed:\n${migrate.output.slice(-3000)}`);
    // The warehouse the specs' connection points at: the example's tables, and rows in the source the task reads.
    host.postgres.sql(readFileSync(join(TASK_SPECS, "tables.sql"), "utf8"));
    host.postgres.sql(RAW_CUSTOMERS);
  });
  afterAll(async () => {
    await exporter?.stop();
    await host?.stop();
    if (timings.length) console.log(`Airflow executor timings:\n  ${timings.join("\n  ")}`);
  });

  it("the dag-sync pod's builder container, with the rendered settings, builds the example task specs into the dags folder", async () => {
    const started = Date.now();
    const dagSync = rendered.documents.find((d) => d.kind === "Deployment" && podSpecOf(rendered, "Deployment", d.metadata.name).containers.some((c) => c.name === "dag-builder"))!;
    const spec = podSpecOf(rendered, "Deployment", dagSync.metadata.name);
    const builder = containerOf(spec, "dag-builder");
    // git-sync's checkout (its link `repo`, the specs folder the builder reads) holds the example specs
    const source = builder.command![builder.command!.indexOf("--source") + 1]!;
    cpSync(TASK_SPECS, host.layout.hostPath(source), { recursive: true });
    const process = host.startContainer(spec, builder, "dag-builder");
    const settings = builder.command![builder.command!.indexOf("--config") + 1]!;
    const configMap = (spec.volumes ?? []).find((v) => v.name === builder.volumeMounts!.find((m) => settings.startsWith(`${m.mountPath}/`))!.name)!.configMap as { name: string };
    const { connId } = JSON.parse(configMapData(rendered.documents, configMap.name)["settings.json"]!) as { connId: string };
    connection = taskConnectionEnv(connId, host.postgres);
    const dagFile = join(host.layout.hostPath("/opt/airflow/dags"), `${DAG_ID}.py`);
    await until("the builder writes the warehouse DAG", () => (existsSync(dagFile) ? true : undefined), 120_000, () => host.logOf(process));
    expect(readFileSync(dagFile, "utf8")).toContain("SQLExecuteQueryOperator");
    timings.push(`builder container's first pass over the example specs: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("api-server, dag-processor and scheduler (KubernetesExecutor on the local control plane) pass their probes", async () => {
    const started = Date.now();
    const a = component(rendered, "api-server");
    const d = component(rendered, "dag-processor");
    const s = component(rendered, "scheduler");
    apiServer = host.startContainer(a.spec, a.main, "api-server");
    dagProcessor = host.startContainer(d.spec, d.main, "dag-processor");
    scheduler = host.startContainer(s.spec, s.main, "scheduler");
    await Promise.all([checkProbes(host, a.main, apiServer, "api-server"), checkProbes(host, d.main, dagProcessor, "dag-processor"), checkProbes(host, s.main, scheduler, "scheduler")]);
    timings.push(`api-server, dag-processor and scheduler probes together: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("a DAG run makes a task pod admitted under restricted, with the template's account and volumes, no database URL or fernet key, bound where the overlay says", async () => {
    const started = Date.now();
    await until(`the dag-processor serialises ${DAG_ID}`, () => (host.postgres.sql(`SELECT count(*) FROM serialized_dag WHERE dag_id = '${DAG_ID}'`) === "1" ? true : undefined), 180_000, () => host.logOf(dagProcessor));
    const s = component(rendered, "scheduler");
    for (const args of [["dags", "unpause", DAG_ID], ["dags", "trigger", DAG_ID]]) {
      const result = await host.run(s.spec, s.main, { argv: ["airflow", ...args] });
      expect(result.code, `airflow ${args.join(" ")}:\n${result.output.slice(-2000)}`).toBe(0);
    }
    taskPod = await until(
      "the scheduler's KubernetesExecutor creates the task pod",
      async () => (await pods(api(), rendered.namespace, `dag_id=${DAG_ID},task_id=${TASK_ID}`))[0],
      180_000,
      () => host.logOf(scheduler),
    );
    timings.push(`DAG serialised, triggered and task pod created: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const namespace = rendered.documents.find((d) => d.kind === "Namespace" && d.metadata.name === rendered.namespace)!;
    expect(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "the pod was admitted by a namespace enforcing restricted").toBe("restricted");
    const template = rendered.podTemplate.spec;
    expect(taskPod.spec.serviceAccountName).toBe(template.serviceAccountName);
    expect(((taskPod.spec as unknown as PodSpec).volumes ?? []).map((v) => v.name).sort()).toEqual(expect.arrayContaining((template.volumes ?? []).map((v) => v.name).sort()));
    const env = (taskPod.spec as unknown as PodSpec).containers.flatMap((c) => c.env ?? []);
    const secretRefs = env.map((e) => e.valueFrom?.secretKeyRef?.name).filter(Boolean);
    expect(env.map((e) => e.name), "the task pod must not carry the metadata database URL or the fernet key").not.toEqual(
      expect.arrayContaining([expect.stringMatching(/SQL_ALCHEMY_CONN|FERNET_KEY/)]),
    );
    expect(secretRefs, "the task pod must read neither the database nor the fernet Secret").not.toEqual(expect.arrayContaining([expect.stringMatching(/metadata-db|fernet/)]));

    const bound = await until("the task pod is bound to a node", async () => (await pods(api(), rendered.namespace, `dag_id=${DAG_ID},task_id=${TASK_ID}`))[0]?.spec.nodeName, 60_000);
    const node = (await nodes(api())).get(bound)!;
    const preferred = (template.affinity as any)?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.preference?.matchExpressions?.[0];
    if (preferred) expect(preferred.values, `bound to ${bound}, labels ${JSON.stringify(node.metadata.labels)}`).toContain(node.metadata.labels[preferred.key]);
  });

  it("the pod's command, run on this host with the pod's env, brings the task instance to success through the Execution API, and its SQL fills the target table", async () => {
    expect(taskPod, "no task pod").toBeDefined();
    const result = await runTaskPod(host, taskPod, undefined, connection);
    expect(result.code, `the task pod's command failed:\n${result.output.slice(-4000)}`).toBe(0);
    timings.push(`task pod command on the host: ${(result.ms / 1000).toFixed(1)} s`);
    const runId = taskPod.metadata.annotations!["run_id"]!.replace(/'/g, "''");
    const stateOf = () => host.postgres.sql(`SELECT state FROM task_instance WHERE dag_id = '${DAG_ID}' AND task_id = '${TASK_ID}' AND run_id = '${runId}'`);
    const state = await until("the task instance reaches success", () => (stateOf() === "success" ? "success" : undefined), 60_000, () => `state ${stateOf()}\n${result.output.slice(-3000)}`);
    expect(state).toBe("success");
    // the task's SQL ran against the connection: current customers, normalised
    expect(host.postgres.sql("SELECT customer_id, email, country, signed_up_on FROM staging.customers ORDER BY customer_id")).toBe("1\tana@example.com\tBR\t2026-01-02\n2\tbo@example.com\tPT\t2026-01-03");
    expect(existsSync(host.layout.hostPath("/opt/airflow/airflow.db")), "the task opened a database of its own").toBe(false);
  });

  let last = "";
  it("real Airflow's statsd lines, through the statsd exporter at the image's release with the generated mappings, give every Airflow metric the alerts read, with no conflict", async () => {
    const metrics = await until(
      "the exporter has the scheduler's executor and pool metrics",
      async () => {
        const text = (last = await exporter.metrics());
        return /^airflow_executor_open_slots /m.test(text) && /^airflow_pool_starving_tasks\{pool="default_pool"\} /m.test(text) ? text : undefined;
      },
      60_000,
      () => `exporter log: ${exporter.component.log}; its Airflow series:\n${last.split("\n").filter((l) => l.startsWith("airflow_") || l.startsWith("statsd_exporter_events")).join("\n")}`,
    );
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN);
    // What the PrometheusRule reads: every Airflow metric of its expressions is here, under that name.
    const rule = rendered.documents.find((d) => d.kind === "PrometheusRule") as unknown as { spec: { groups: { rules: { expr: string }[] }[] } };
    const read = new Set(rule.spec.groups.flatMap((g) => g.rules.flatMap((r) => r.expr.match(/\bairflow_[a-z_]+/g) ?? [])));
    // The triggerer does not run in this file (airflow-components.test.ts starts it), and a counter appears at its
    // first increment: no task has failed yet. Every other metric the rules read is here.
    const here = [...read].filter((m) => m !== "airflow_triggerer_heartbeat" && m !== "airflow_ti_failures");
    expect(here.length).toBeGreaterThanOrEqual(6);
    expect(here.filter((m) => !new RegExp(`^${m}(\\{| )`, "m").test(metrics))).toEqual([]);
    expect(value("airflow_scheduler_heartbeat")).toBeGreaterThan(0);
    expect(value("airflow_ti_successes")).toBeGreaterThanOrEqual(1);
    expect(value("airflow_dag_processing_import_errors")).toBe(0);
    expect(value('airflow_pool_open_slots{pool="default_pool"}')).toBeGreaterThan(0);
    expect(metrics).toMatch(/^airflow_ti_finish\{dag_id="warehouse",state="success",task_id="stg_customers"\} 1$/m);
    // Airflow's own metric registry knows every name the rules read (the triggerer's too), and each legacy pattern the
    // mappings give labels to is the legacy name of the registry entry whose untagged twin they drop.
    const registry = metricsRegistry();
    const promName = (statsd: string) => `airflow_${statsd.replace(/\./g, "_")}`;
    const mappedNames = new Set(STATSD_FAMILIES.map((f) => f.name));
    expect([...read].filter((m) => !mappedNames.has(m) && !registry.some((r) => promName(r.name) === m))).toEqual([]);
    for (const family of STATSD_FAMILIES.filter((f) => f.tagless)) {
      const entry = registry.find((r) => `airflow.${r.name}` === family.tagless);
      expect(entry && `airflow.${entry.legacy_name.replace(/\{\w+\}/g, "*")}`, family.tagless).toBe(family.match);
    }
    // The registry names without their variables are dropped, so no series has two label sets.
    expect(metrics).not.toMatch(/^airflow_pool_open_slots /m);
    expect(metrics).not.toMatch(/^statsd_exporter_events_conflict_total\{/m);
  });

  it("fails naming the cause when execution_api_server_url is wrong", async () => {
    expect(taskPod, "no task pod").toBeDefined();
    const result = await runTaskPod(host, taskPod, (cfg) => setOption(cfg, "core", "execution_api_server_url", `http://127.0.0.1:${host.apiServerPort}/not-the-execution-api/`));
    expect(result.code).not.toBe(0);
    // 3.2 reports the unknown path (404); 3.3's client is answered 405 Method Not Allowed by the api-server's UI routes there.
    expect(result.output).toMatch(/not-the-execution-api|404|Not Found|Method Not Allowed/);
  });

  it("fails naming the cause when the JWT secret differs between api-server and scheduler", async () => {
    expect(taskPod, "no task pod").toBeDefined();
    // the workload's token is the one the scheduler signed; an api-server with another secret rejects it
    const a = component(rendered, "api-server");
    await host.stopProcess(apiServer);
    const otherSecret = { ...host.secrets.get("airflow-jwt-secret")! };
    host.secrets.set("airflow-jwt-secret", Object.fromEntries(Object.keys(otherSecret).map((k) => [k, "a-different-jwt-secret-0123456789abcdef"])));
    try {
      const other = host.startContainer(a.spec, a.main, "api-server-other-jwt");
      await checkProbes(host, { ...a.main, livenessProbe: undefined, readinessProbe: undefined } as Container, other, "api-server with another JWT secret");
      const result = await runTaskPod(host, taskPod);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/401|403|Invalid|signature|Unauthorized|Forbidden/i);
      await host.stopProcess(other);
    } finally {
      host.secrets.set("airflow-jwt-secret", otherSecret);
    }
  });
});

/** The live pod's first container: its command and args, its env resolved from the Secrets, its mounts on the host. */
async function runTaskPod(host: AirflowHost, pod: Pod, editCfg?: (cfg: string) => string, env: Record<string, string> = {}): Promise<{ code: number; output: string; ms: number }> {
  const spec = pod.spec as unknown as PodSpec;
  const container = spec.containers[0]!;
  host.prepare(spec, container);
  if (editCfg) {
    const mount = container.volumeMounts!.find((m) => m.mountPath.endsWith("/airflow.cfg"))!;
    const file = host.layout.hostPath(mount.mountPath);
    writeFileSync(file, editCfg(readFileSync(file, "utf8")));
    try {
      return await host.run(spec, container, { timeoutMs: 300_000, remount: false, env });
    } finally {
      host.prepare(spec, container);
    }
  }
  return host.run(spec, container, { timeoutMs: 300_000, env });
}

/** Airflow's metric registry (every metric's name, type and legacy name), read by Airflow's own code in the suite's environment. */
function metricsRegistry(): { name: string; legacy_name: string }[] {
  const script = "import json; from airflow._shared.observability.metrics.metrics_registry import YAML_REGISTRY_PATH, read_metrics_yaml; print(json.dumps(read_metrics_yaml(str(YAML_REGISTRY_PATH))))";
  const run = spawnSync(join(ensureVenv(), "bin", "python"), ["-c", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`reading Airflow's metric registry failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as { name: string; legacy_name: string }[];
}
