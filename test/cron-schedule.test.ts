import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { P } from "../generator/config/schema-kit.js";
import { ConfigError, formatIssue } from "../generator/config/issues.js";
import { exampleData, loadForCore as loadConfig } from "./helpers.js";

const cron = new RegExp(P.cronSchedule, "u");

describe("cron schedules", () => {
  it.each([
    "30 */6 * * *",
    "0 4 * * *",
    "0 0 1 1 0",
    "59 23 31 12 6",
    "*/15 9-17 * * mon-fri",
    "0,30 8,12,18 1-7/2 JAN,jul * ",
    "5 0 * Feb Sun",
    "0 3  *\t* 1",
  ].map((s) => s.trimEnd()))("accepts %j", (schedule) => {
    expect(cron.test(schedule)).toBe(true);
  });

  it.each([
    "every day at 3 am",
    "0 4 * *",
    "0 4 * * * *",
    "60 4 * * *",
    "0 24 * * *",
    "0 4 0 * *",
    "0 4 32 * *",
    "0 4 * 13 *",
    "0 4 * 0 *",
    "0 4 * * 7",
    "0 4 * * monday",
    "0 4 * * mon-",
    "*/0 * * * *",
    "0 4 ** * *",
    "0,,1 4 * * *",
    "@daily",
    " 0 4 * * *",
  ])("refuses %j", (schedule) => {
    expect(cron.test(schedule)).toBe(false);
  });

  it("reports a bad schedule with file, line, field and what a schedule looks like", () => {
    const d = exampleData() as any;
    d.airflow.dbClean = { enabled: true, schedule: "every day at 3 am" };
    let message = "";
    try {
      loadConfig(stringify(d), "airflow-gitops.yaml");
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      message = error.issues.map((i) => formatIssue(error.file, i)).join("\n");
    }
    expect(message).toMatch(/^airflow-gitops\.yaml:\d+:\d+ airflow\.dbClean\.schedule: must be a five-field cron schedule \(minute 0-59/);
  });
});
