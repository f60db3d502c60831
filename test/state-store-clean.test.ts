/**
 * Airflow 3.3's task state store expires only through `airflow state-store clean`: a CronJob on by default
 * where the line has the store, off for 3.2, refused there when asked for.
 */
import { describe, expect, it } from "vitest";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { exampleProblems, exampleWith } from "./helpers.js";

const cronJob = (c: Config, env: string) =>
  buildManifests(resolveEnvironment(c, env))
    .map((m) => m.object as any)
    .find((o) => o.kind === "CronJob" && o.metadata.name === "airflow-state-store-clean");

describe("state store cleanup", () => {
  it("runs `airflow state-store clean` on its schedule with the database URL only, after the migrations", () => {
    const job = cronJob(exampleWith(() => {}), "prod");
    expect(job.spec.schedule).toBe("45 3 * * *");
    const pod = job.spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].args).toEqual(["airflow", "state-store", "clean"]);
    expect(pod.containers[0].env.filter((e: any) => e.valueFrom).map((e: any) => e.name)).toEqual(["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(["wait-for-migrations"]);
  });

  it("is off for Airflow 3.2, which has no state store, and can be turned off on 3.3", () => {
    expect(cronJob(exampleWith((d) => (d.environments.prod.airflow.image = { tag: "3.2.2" })), "prod")).toBeUndefined();
    expect(cronJob(exampleWith((d) => (d.environments.prod.airflow.image = { tag: "3.2.2" })), "dev")).toBeDefined();
    expect(cronJob(exampleWith((d) => (d.airflow.stateStoreClean = { enabled: false })), "prod")).toBeUndefined();
  });

  it("is refused on 3.2 when asked for, naming the environment's release", () => {
    expect(
      exampleProblems((d) => {
        d.environments.prod.airflow.image = { tag: "3.2.2" };
        d.environments.prod.airflow.stateStoreClean = { enabled: true };
      }),
    ).toEqual([expect.stringMatching(/environments\.prod\.airflow\.stateStoreClean\.enabled: needs Airflow 3\.3 or later .*; prod runs 3\.2\.2$/)]);
  });
});
