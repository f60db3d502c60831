/** `schedule <env> --measured <file>`: a measured day beside the plan, and a bad measurement file as the user's error. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareDay, measuredDayIssues, type MeasuredDay } from "../generator/core/measured-day.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { exampleText, loadForCore, runCli, tempProject } from "./helpers.js";

const prod = resolveEnvironment(loadForCore(exampleText()), "prod");

// 2026-11-30 is a Monday; America/Sao_Paulo is UTC-03:00 (the example's mon-fri 07:00-11:00 window, 30m lead time).
const day: MeasuredDay = {
  environment: "prod",
  source: "a test",
  steps: [
    { step: "lead", at: "2026-11-30T09:30:25Z", what: "placeholders up" },
    { step: "start", at: "2026-11-30T10:00:40Z", what: "peak replicas" },
    { step: "end", at: "2026-11-30T13:59:50Z", what: "off-peak" },
  ],
};

describe("a measured day", () => {
  it("is compared with the planned minute each step answers, in the environment's zone, early steps negative", () => {
    expect(compareDay(prod, day)).toEqual([
      { what: "placeholders up (lead time)", planned: "Mon 06:30", measured: "Mon 06:30:25", lagSeconds: 25 },
      { what: "peak replicas (window start)", planned: "Mon 07:00", measured: "Mon 07:00:40", lagSeconds: 40 },
      { what: "off-peak (window end)", planned: "Mon 11:00", measured: "Mon 10:59:50", lagSeconds: -10 },
    ]);
  });

  it("answers the nearest window: the one that crosses midnight ends the next morning", () => {
    const [end] = compareDay(prod, { ...day, steps: [{ step: "end", at: "2026-12-01T06:00:05Z", what: "off-peak" }] });
    expect(end).toEqual({ what: "off-peak (window end)", planned: "Tue 03:00", measured: "Tue 03:00:05", lagSeconds: 5 });
  });

  it("names each malformed field", () => {
    expect(measuredDayIssues([])).toEqual(["the file must hold an object"]);
    expect(measuredDayIssues({ environment: 1, source: "x", steps: [{ step: "noon", at: "later", what: 2 }] })).toEqual([
      "environment: must be a string",
      "steps[0].step: must be one of lead, start, end",
      "steps[0].at: must be an ISO 8601 time",
      "steps[0].what: must be a string",
    ]);
  });

  it("schedule --measured prints it after the grids; a missing, broken or foreign file is one line and exit 1", async () => {
    const dir = tempProject();
    const file = join(dir, "measured.json");
    writeFileSync(file, JSON.stringify(day));
    const ok = await runCli(["schedule", "prod", "--dir", dir, "--measured", file]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("measured by a test (local times in America/Sao_Paulo)");
    expect(ok.out).toMatch(/peak replicas \(window start\)\s+Mon 07:00\s+Mon 07:00:40\s+\+40 s/);

    const missing = await runCli(["schedule", "prod", "--dir", dir, "--measured", join(dir, "none.json")]);
    expect([missing.code, missing.err.trim()]).toEqual([1, `--measured ${join(dir, "none.json")}: no such file`]);
    writeFileSync(file, "{ not json");
    const broken = await runCli(["schedule", "prod", "--dir", dir, "--measured", file]);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain(`--measured ${file}: `);
    expect(broken.err).not.toContain("    at ");
    writeFileSync(file, JSON.stringify({ ...day, environment: "dev" }));
    const foreign = await runCli(["schedule", "prod", "--dir", dir, "--measured", file]);
    expect([foreign.code, foreign.err.trim()]).toEqual([1, `--measured ${file}: measures environment dev, not prod`]);
  });
});
