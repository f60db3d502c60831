/**
 * An upgrade from the other supported line to the example's, and the way back, with real Airflow of both
 * lines on one PostgreSQL: prod built for the older release migrates an empty database and gets a variable,
 * a connection and a DAG run; prod built for the newer release migrates it with its migration Job's command,
 * its api-server, dag-processor and triggerer pass their probes, and the data is there. Going back, the
 * older release's wait-for-migrations does not pass on the newer schema (a plain image rollback hangs every
 * pod in it); the runbook's downgrade (README, "Rolling back an upgrade"), run with the newer release, makes
 * it pass and the older api-server start again, the data still there.
 */
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkProbes } from "../airflow/checks.js";
import { AirflowHost } from "../airflow/harness.js";
import { component, containerOf, generateProject, podSpecOf, renderOverlay, type Container, type PodSpec, type Rendered } from "../airflow/rendered.js";
import { lockOfLine } from "../airflow/venv.js";
import { SUPPORTED_LINES } from "../../generator/config/airflow-options.js";
import { ROOT } from "../helpers.js";

const [newer, older] = SUPPORTED_LINES as [(typeof SUPPORTED_LINES)[number], (typeof SUPPORTED_LINES)[number]];
const DAG_ID = "upgrade_probe";
const DAG_FILE = `from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
import pendulum

with DAG("${DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    EmptyOperator(task_id="noop")
`;

/** The downgrade command of the README's runbook, with the release to go back to. */
function runbookDowngrade(release: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("### Rolling back an upgrade")[1]?.split("\n## ")[0] ?? "";
  const line = section.split("\n").find((l) => l.includes("airflow db downgrade"));
  if (!line) throw new Error("README.md: the section \"Rolling back an upgrade\" has no `airflow db downgrade` command");
  const command = line.slice(line.indexOf("airflow db downgrade")).trim();
  return command.replace("<release>", release).split(/\s+/);
}

interface Build {
  release: string;
  rendered: Rendered;
  host: AirflowHost;
}

describe(`upgrade from Airflow ${older.release} to ${newer.release}, and back`, () => {
  let before: Build;
  let after: Build;

  const build = async (release: string, line: string, databaseOf?: AirflowHost): Promise<Build> => {
    const project = await generateProject((doc) => {
      doc.setIn(["secrets", "parameters", "database"], doc.createNode({ source: "parts" }));
      doc.setIn(["airflow", "image", "tag"], release);
    });
    const rendered = renderOverlay(project, "prod");
    return { release, rendered, host: await AirflowHost.start(rendered, { lockFile: lockOfLine(line), ...(databaseOf ? { databaseOf } : {}) }) };
  };
  const migrationJob = (b: Build): PodSpec => podSpecOf(b.rendered, "Job", b.rendered.documents.find((d) => d.kind === "Job" && /migrat/.test(d.metadata.name))!.metadata.name);
  /** An Airflow CLI command in a component's container (the dag-processor's: its config, DAG folder and secrets). */
  const cli = async (b: Build, args: string[], expectCode = 0, name = "dag-processor"): Promise<string> => {
    const { spec, main } = component(b.rendered, name);
    const result = await b.host.run(spec, main, { argv: ["airflow", ...args], timeoutMs: 300_000 });
    expect(result.code, `${b.release}: airflow ${args.join(" ")}:\n${result.output.slice(-3000)}`).toBe(expectCode);
    return result.output;
  };
  const waitForMigrations = (b: Build): { spec: PodSpec; wait: Container } => {
    const { spec } = component(b.rendered, "api-server");
    return { spec, wait: containerOf(spec, "wait-for-migrations") };
  };

  beforeAll(async () => {
    before = await build(older.release, older.line);
    after = await build(newer.release, newer.line, before.host);
  });
  afterAll(async () => {
    await after?.host.stop();
    await before?.host.stop();
  });

  it(`${older.release}: migrated, and given a variable, a connection and a DAG run`, async () => {
    const migrate = await before.host.run(migrationJob(before), migrationJob(before).containers[0]!);
    expect(migrate.code, migrate.output.slice(-3000)).toBe(0);
    // Where the DAG builder would have written it, in both builds' DAG folders.
    for (const b of [before, after]) {
      const dags = b.host.layout.hostPath("/opt/airflow/dags");
      mkdirSync(dags, { recursive: true });
      writeFileSync(join(dags, `${DAG_ID}.py`), DAG_FILE);
    }
    await cli(before, ["variables", "set", "upgrade_marker", `kept from ${older.release}`]);
    await cli(before, ["connections", "add", "upgrade_conn", "--conn-uri", "postgresql://user:s3cret@warehouse.example.com:5432/sales"]);
    await cli(before, ["dags", "reserialize"]);
    await cli(before, ["dags", "trigger", DAG_ID, "--run-id", "before_upgrade"]);
    expect(await cli(before, ["dags", "list-runs", DAG_ID, "--output", "json"])).toContain("before_upgrade");
  });

  it(`${newer.release}: its migration Job's command upgrades the schema, and every component passes its probes`, async () => {
    const migrate = await after.host.run(migrationJob(after), migrationJob(after).containers[0]!);
    expect(migrate.code, migrate.output.slice(-3000)).toBe(0);
    for (const name of ["api-server", "dag-processor", "triggerer"]) {
      const { spec, main } = component(after.rendered, name);
      await checkProbes(after.host, main, after.host.startContainer(spec, main, `${newer.release}-${name}`), `${newer.release} ${name}`);
    }
  });

  it(`${newer.release}: the variable, the connection (its password decrypted with the same Fernet key) and the DAG run are there`, async () => {
    expect(await cli(after, ["variables", "get", "upgrade_marker"])).toContain(`kept from ${older.release}`);
    expect(await cli(after, ["connections", "get", "upgrade_conn", "--output", "json"])).toContain("s3cret");
    expect(await cli(after, ["dags", "list-runs", DAG_ID, "--output", "json"])).toContain("before_upgrade");
  });

  it(`back to ${older.release}: its wait-for-migrations does not pass on the newer schema`, async () => {
    const { spec, wait } = waitForMigrations(before);
    const result = await before.host.run(spec, wait, { argv: [...before.host.argv(wait).filter((a) => !a.startsWith("--migration-wait-timeout")), "--migration-wait-timeout=20"] });
    expect(result.code, `check-migrations of ${older.release} passed on ${newer.release}'s schema:\n${result.output.slice(-2000)}`).not.toBe(0);
    expect(result.output).toMatch(/There are still unapplied migrations after \d+ seconds/);
  });

  it(`back to ${older.release}: the runbook's downgrade, run with ${newer.release}, lets it start again with the data`, async () => {
    // The runbook's step 1: the newer processes that write to the database stop; its api-server stays.
    const running = after.host.runningProcesses();
    for (const process of running.filter((p) => !p.name.endsWith("api-server"))) await after.host.stopProcess(process);
    expect(after.host.runningProcesses().map((p) => p.name)).toEqual([`${newer.release}-api-server`]);
    await cli(after, runbookDowngrade(older.release).slice(1), 0, "api-server");
    const { spec, wait } = waitForMigrations(before);
    const passed = await before.host.run(spec, wait);
    expect(passed.code, `check-migrations of ${older.release} after the downgrade:\n${passed.output.slice(-2000)}`).toBe(0);
    const { main } = component(before.rendered, "api-server");
    await checkProbes(before.host, main, before.host.startContainer(spec, main, `${older.release}-api-server`), `${older.release} api-server`);
    expect(await cli(before, ["variables", "get", "upgrade_marker"])).toContain(`kept from ${older.release}`);
    expect(await cli(before, ["connections", "get", "upgrade_conn", "--output", "json"])).toContain("s3cret");
    expect(await cli(before, ["dags", "list-runs", DAG_ID, "--output", "json"])).toContain("before_upgrade");
  });
});

