/**
 * Airflow (the image tag's version, from PyPI) loads the configuration every Airflow container of each
 * overlay sees, the task pod included: no unknown option, no deprecated option, no warning, and every
 * option reads back as rendered; prod built for the other supported line, by that line's Airflow. Breaking
 * it in an overlay patch fails with the option named.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConfiguration } from "../airflow/checks.js";
import { AirflowHost } from "../airflow/harness.js";
import { generateProject, renderOverlay, type Container, type PodSpec, type Rendered } from "../airflow/rendered.js";
import { lockOfLine } from "../airflow/venv.js";
import { SUPPORTED_LINES } from "../../generator/config/airflow-options.js";
import { exampleData } from "../helpers.js";

const DATABASE_FROM_PARTS = (doc: import("yaml").Document) => doc.setIn(["secrets", "parameters", "database"], doc.createNode({ source: "parts" }));

/**
 * Every container running Airflow, deduplicated by what it sees (env, mounts, volumes). The DAG builder runs
 * in the Airflow image too, but only for its Python: it sets no AIRFLOW_HOME and never reads airflow.cfg.
 */
function airflowContainers(rendered: Rendered): { label: string; spec: PodSpec; container: Container }[] {
  const pods: [string, PodSpec][] = [["task pod template", rendered.podTemplate.spec]];
  for (const d of rendered.documents) {
    if (d.kind === "Deployment" || d.kind === "Job") pods.push([`${d.kind} ${d.metadata.name}`, (d.spec as { template: { spec: PodSpec } }).template.spec]);
  }
  const seen = new Set<string>();
  const out: { label: string; spec: PodSpec; container: Container }[] = [];
  for (const [owner, spec] of pods) {
    for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (!/(^|\/)airflow:/.test(container.image) || !container.env?.some((e) => e.name === "AIRFLOW_HOME")) continue;
      const volumes = (container.volumeMounts ?? []).map((m) => ({ ...m, source: spec.volumes?.find((v) => v.name === m.name) }));
      const key = JSON.stringify([container.env, volumes]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ label: `${rendered.environment}: ${owner} container ${container.name}`, spec, container });
    }
  }
  return out;
}

describe("real Airflow loads the generated configuration", () => {
  let project: string;
  const hosts: AirflowHost[] = [];
  beforeAll(async () => {
    project = await generateProject(DATABASE_FROM_PARTS);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
  });

  for (const environment of ["dev", "prod"]) {
    it(`${environment}: every Airflow container and the task pod`, async () => {
      const rendered = renderOverlay(project, environment);
      const host = await AirflowHost.start(rendered);
      hosts.push(host);
      const containers = airflowContainers(rendered);
      expect(containers.map((c) => c.label).join("\n")).toMatch(/task pod template[\s\S]*api-server[\s\S]*scheduler/);
      for (const { label, spec, container } of containers) await checkConfiguration(host, spec, container, label);
    });
  }

  // The other supported line: what it reads differs (options, renames), so its build is loaded by its own Airflow.
  const exampleTag = (exampleData().airflow as { image: { tag: string } }).image.tag;
  const previous = SUPPORTED_LINES.find((l) => l.release !== exampleTag)!;
  it(`prod on Airflow ${previous.release}, the other supported line: every Airflow container and the task pod`, async () => {
    const older = await generateProject((doc) => {
      DATABASE_FROM_PARTS(doc);
      doc.setIn(["airflow", "image", "tag"], previous.release);
    });
    const rendered = renderOverlay(older, "prod");
    const host = await AirflowHost.start(rendered, { lockFile: lockOfLine(previous.line) });
    hosts.push(host);
    for (const { label, spec, container } of airflowContainers(rendered)) await checkConfiguration(host, spec, container, `${previous.release} ${label}`);
  });

  it("fails naming an unknown option added by an overlay patch", async () => {
    const patch = join(project, "overlays", "prod", "airflow-configmap-airflow-cfg.yaml");
    const original = readFileSync(patch, "utf8");
    writeFileSync(patch, original.replace(/^(\s+)\[core\]\n/m, (m, indent: string) => `${m}${indent}dags_are_paused_at_creation_typo = True\n`));
    try {
      const rendered = renderOverlay(project, "prod");
      expect(rendered.airflowCfg).toContain("dags_are_paused_at_creation_typo");
      const host = await AirflowHost.start(rendered);
      hosts.push(host);
      const scheduler = rendered.documents.find((d) => d.kind === "Deployment" && d.metadata.name.endsWith("scheduler"))!;
      const spec = (scheduler.spec as { template: { spec: PodSpec } }).template.spec;
      await expect(checkConfiguration(host, spec, spec.containers[0]!, "prod scheduler")).rejects.toThrow(/unknown option \[core\] dags_are_paused_at_creation_typo/);
    } finally {
      writeFileSync(patch, original);
    }
  });
});
