/**
 * The prod overlay's Airflow components on this host: the migration Job's command turns a waiting
 * wait-for-migrations check into a pass on an empty database, through the URL the ExternalSecret
 * composes; api-server, dag-processor and triggerer, started with their exact command, args and env,
 * pass their startup, readiness and liveness probes within the probes' own budgets; the first admin user
 * gets a token from the running api-server with the password from its Secret, a wrong password does not.
 * On the example's line and the other supported one, each with its own Airflow.
 * (The scheduler needs a control plane for its KubernetesExecutor: see airflow-executor.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkProbes } from "../airflow/checks.js";
import { ADMIN_PASSWORD, AirflowHost } from "../airflow/harness.js";
import { logTail, type Started } from "../airflow/processes.js";
import { component, containerOf, generateProject, podSpecOf, renderOverlay, type PodSpec, type Rendered } from "../airflow/rendered.js";
import { lockOfLine } from "../airflow/venv.js";
import { hasStateStore, SUPPORTED_LINES } from "../../generator/config/airflow-options.js";
import { exampleData } from "../helpers.js";

const DATABASE_FROM_PARTS = (doc: import("yaml").Document) => doc.setIn(["secrets", "parameters", "database"], doc.createNode({ source: "parts" }));
const timings: string[] = [];

/** The example's line, and the other supported one: each with its own Airflow from its own lock. */
const exampleTag = (exampleData().airflow as { image: { tag: string } }).image.tag;
const LINES = [...SUPPORTED_LINES].sort((a, b) => Number(b.release === exampleTag) - Number(a.release === exampleTag));

describe.each(LINES)("the prod overlay's Airflow components on Airflow $release, run for real", ({ line, release }) => {
  let project: string;
  let rendered: Rendered;
  let host: AirflowHost;
  const running = new Map<string, Started>();

  beforeAll(async () => {
    project = await generateProject((doc) => {
      DATABASE_FROM_PARTS(doc);
      doc.setIn(["airflow", "image", "tag"], release);
    });
    rendered = renderOverlay(project, "prod");
    host = await AirflowHost.start(rendered, { lockFile: lockOfLine(line) });
  });
  afterAll(async () => {
    await host?.stop();
    if (timings.length) console.log(`Airflow ${release} component timings:\n  ${timings.splice(0).join("\n  ")}`);
  });

  it("the migration Job's command makes the waiting wait-for-migrations check pass, through the composed URL", async () => {
    const url = host.secrets.get("airflow-metadata-db")?.connection ?? "";
    expect(url, "the database URL must carry the escaped password").toContain("%40");
    const api = component(rendered, "api-server");
    const wait = containerOf(api.spec, "wait-for-migrations");
    const waiting = host.startContainer(api.spec, wait, "wait-for-migrations");
    await new Promise((r) => setTimeout(r, 20_000));
    expect(waiting.exitCode(), `wait-for-migrations ended before any migration ran:\n${logTail(waiting.logFile)}`).toBeUndefined();

    const job = podSpecOf(rendered, "Job", rendered.documents.find((d) => d.kind === "Job" && /migrat/.test(d.metadata.name))!.metadata.name);
    const migrate = await host.run(job, job.containers[0]!);
    expect(migrate.code, `the migration Job's command failed:\n${migrate.output.slice(-3000)}`).toBe(0);
    timings.push(`migration Job command: ${(migrate.ms / 1000).toFixed(1)} s`);

    const started = Date.now();
    const code = await Promise.race([waiting.exited, new Promise((r) => setTimeout(() => r("still waiting"), 120_000))]);
    expect(code, `wait-for-migrations did not pass after the migration:\n${logTail(waiting.logFile)}`).toBe(0);
    timings.push(`wait-for-migrations passing after the migration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  // Only a line with the state store has the CronJob.
  if (hasStateStore(line)) it("the state-store-clean CronJob's command runs on the migrated database (Airflow 3.3)", async () => {
    const cron = rendered.documents.find((d) => d.kind === "CronJob" && d.metadata.name.endsWith("state-store-clean"));
    if (!cron) throw new Error(`${rendered.dir}: no state-store-clean CronJob, though Airflow ${release} has the state store`);
    const spec = (cron.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec;
    const clean = await host.run(spec, spec.containers[0]!, { timeoutMs: 300_000 });
    expect(clean.code, `airflow state-store clean failed:\n${clean.output.slice(-3000)}`).toBe(0);
    timings.push(`state-store-clean CronJob command: ${(clean.ms / 1000).toFixed(1)} s`);
  });
  else it("has no state-store-clean CronJob: this line has no state store (and no such command)", () => {
    expect(rendered.documents.filter((d) => d.kind === "CronJob").map((d) => d.metadata.name)).not.toContainEqual(expect.stringMatching(/state-store-clean$/));
  });

  for (const name of ["api-server", "dag-processor", "triggerer"]) {
    it(`${name} passes its startup, readiness and liveness probes within their budgets`, async () => {
      const { spec, main } = component(rendered, name);
      const process = host.startContainer(spec, main, name);
      running.set(name, process);
      const times = await checkProbes(host, main, process, name);
      timings.push(`${name} probes: ${Object.entries(times).map(([k, v]) => `${k.replace("Ms", "")} ${((v as number) / 1000).toFixed(1)} s`).join(", ")}`);
    });
  }

  it("the first admin user gets a token with the password from its Secret; a wrong password does not", async () => {
    const api = running.get("api-server");
    expect(api?.exitCode(), "the api-server is not running").toBeUndefined();
    const admin = await firstAdmin(rendered, host);
    const token = async (password: string) =>
      fetch(`http://127.0.0.1:${host.apiServerPort}/auth/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: admin.username, password }) });
    const good = await token(admin.password);
    const body = await good.text();
    expect(good.status, `POST /auth/token as ${admin.username}: ${body}\n${host.logOf(api!)}`).toBeLessThan(300);
    expect(JSON.parse(body).access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const bad = await token(`${admin.password}-wrong`);
    expect(bad.status).toBe(401);
  });
});

/** The first admin user: the Job that creates it, run to completion as Argo CD would (after the migrations). */
async function firstAdmin(rendered: Rendered, host: AirflowHost): Promise<{ username: string; password: string }> {
  const job = rendered.documents.find((d) => d.kind === "Job" && JSON.stringify(d.spec).includes("airflow users create"));
  if (!job) throw new Error(`${rendered.dir}: the overlay renders no Job that runs \`airflow users create\`, so no user can log in to the api-server`);
  const spec = podSpecOf(rendered, "Job", job.metadata.name);
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const result = await host.run(spec, container, { timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`Job ${job.metadata.name} container ${container.name} failed (exit ${result.code}):\n${result.output.slice(-3000)}`);
  }
  const main = spec.containers[0]!;
  const argv = host.argv(main);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    if (i < 0 || argv[i + 1] === undefined) throw new Error(`Job ${job.metadata.name} passes no ${name}`);
    return argv[i + 1]!;
  };
  // the password the user logs in with is the Parameter Store value, not whatever the Job happened to pass
  return { username: flag("--username"), password: ADMIN_PASSWORD };
}
