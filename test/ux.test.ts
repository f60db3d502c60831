/**
 * What people see: gen's report, --quiet, colour only when wanted, gen --diff and diff writing
 * nothing, the schedule grid, the generated config reference and schedule picture, and CI parity.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../generator/config/load.js";
import { configJsonSchema } from "../generator/config/schema.js";
import { weekPlan } from "../generator/core/schedule.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { runs } from "../generator/docs/schedule-svg.js";
import { colorWanted } from "../generator/report/style.js";
import { docFiles } from "../generator/run.js";
import { renderAll } from "../generator/render/render.js";
import { ROOT, genIn as gen, runCli, snapshot, tempProject } from "./helpers.js";
import { tempDir } from "./temp-dirs.js";

const MINI = readFileSync(join(ROOT, "test", "fixtures", "mini.yaml"), "utf8");

function miniProject(): string {
  const dir = tempDir("airflow-gitops-ux-");
  writeFileSync(join(dir, "airflow-gitops.yaml"), MINI);
  return dir;
}


describe("gen reports what it did", () => {
  it("per layer and environment, then the totals", async () => {
    const dir = miniProject();
    const first = await gen(dir);
    expect(first.code).toBe(0);
    expect(first.out).toBe(
      [
        "airflow-gitops.schema.json  1 created",
        "argocd                      8 created",
        "base                        46 created",
        "docs                        2 created",
        "overlays/dev                16 created",
        "overlays/prod               27 created",
        "secrets/dev                 9 created",
        "secrets/prod                9 created",
        "118 created, 0 changed, 0 deleted, 0 unchanged",
      ].join("\n"),
    );
    expect((await gen(dir)).out).toBe("0 created, 0 changed, 0 deleted, 118 unchanged");

    writeFileSync(join(dir, "airflow-gitops.yaml"), MINI.replace("      replicas: { apiServer: 2 }", "      replicas: { apiServer: 3 }"));
    expect((await gen(dir)).out).toBe(
      ["docs           1 changed, 1 unchanged", "overlays/prod  1 changed, 26 unchanged", "0 created, 2 changed, 0 deleted, 116 unchanged"].join("\n"),
    );

    writeFileSync(join(dir, "airflow-gitops.yaml"), MINI.replace(/\n {2}prod:\n[\s\S]*$/, "\n"));
    expect((await gen(dir)).out).toBe(
      [
        "argocd         2 changed, 1 deleted, 5 unchanged",
        "docs           1 deleted, 1 unchanged",
        "overlays/prod  27 deleted",
        "secrets/prod   9 deleted",
        "0 created, 2 changed, 38 deleted, 78 unchanged",
      ].join("\n"),
    );
  });

  it("prints nothing with --quiet, but still every problem", async () => {
    const dir = miniProject();
    expect(await gen(dir, "--quiet")).toEqual({ code: 0, out: "", err: "" });
    writeFileSync(join(dir, "airflow-gitops.yaml"), MINI.replace("eu-west-1", "eu-west"));
    const broken = await gen(dir, "--quiet");
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/airflow-gitops\.yaml:8:16 aws\.region: must be an AWS region like sa-east-1, found "eu-west"/);
  });

  it("colours only when asked, and never with NO_COLOR or off a terminal", async () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, {})).toBe(false);
    const coloured: string[] = [];
    const code = await (await import("../generator/cli.js")).main(["gen", "--config", join(miniProject(), "airflow-gitops.yaml")], {
      out: (l) => coloured.push(l),
      err: (l) => coloured.push(l),
      color: true,
    });
    expect(code).toBe(0);
    expect(coloured[0]).toBe("airflow-gitops.schema.json  \u001b[32m1 created\u001b[39m");
    const plain = await gen(miniProject());
    expect(plain.out).not.toMatch(/\u001b\[/);
  });
});

describe("gen --diff", () => {
  it("prints a unified diff of what would change and writes nothing", async () => {
    const dir = miniProject();
    await gen(dir);
    writeFileSync(join(dir, "airflow-gitops.yaml"), MINI.replace("      replicas: { apiServer: 2 }", "      replicas: { apiServer: 3 }"));
    const before = snapshot(dir);
    const result = await gen(dir, "--diff");
    expect(result.code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    const lines = result.out.split("\n");
    expect(lines).toContain("--- a/overlays/prod/api-server-scaledobject.yaml");
    expect(lines).toContain("+++ b/overlays/prod/api-server-scaledobject.yaml");
    expect(lines).toContain('-        desiredReplicas: "2"');
    expect(lines).toContain('+        desiredReplicas: "3"');
    expect(lines.at(-1)).toBe("would be: 0 created, 2 changed, 0 deleted, 116 unchanged");
    const checked = await gen(dir, "--diff", "--check");
    expect(checked.code).toBe(1);
    expect(snapshot(dir)).toEqual(before);
  });

  it("says so when there is nothing to change", async () => {
    const dir = miniProject();
    await gen(dir);
    expect(await gen(dir, "--diff")).toEqual({ code: 0, out: "no changes", err: "" });
  });
});

describe("diff <envA> <envB>", () => {
  it("lists what one environment has beyond the other and how shared objects differ, writing nothing", async () => {
    const dir = tempProject({ withTree: true });
    const before = snapshot(dir);
    const { code, out } = await runCli(["diff", "dev", "prod", "--dir", dir]);
    expect(code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    const lines = out.split("\n");
    expect(lines.slice(0, 4)).toEqual(["only in dev:", "  (none)", "only in prod:", "  CronJob/airflow-db-clean"]);
    expect(lines).toContain("  Deployment/airflow-peak-placeholder");
    expect(lines).toContain("  ScaledObject/airflow-scheduler");
    expect(lines).toContain("  PersistentVolumeClaim/airflow-logs");
    expect(lines).toContain("    spec.resources.requests.storage: 20Gi -> 100Gi");
    expect(lines).toContain("    spec.replicas: 1 -> (absent)");
    expect(lines.at(-1)).toMatch(/^0 only in dev, \d+ only in prod, \d+ different, \d+ identical$/);
    // The environments' own names and namespaces are not differences, and the output says so.
    expect(out).not.toMatch(/StorageClass\/airflow-(dev|prod)-efs|Namespace\/airflow/);
    expect(lines.at(-2)).toMatch(
      /^names compared with "dev" and "prod" read as <env>, namespaces "airflow-dev" and "airflow" as <namespace>; \d+ differing checksum annotation\(s\) not shown \(--checksums shows them\)$/,
    );
    // Checksum annotations follow from other changes: hidden unless asked for.
    expect(out).not.toContain("checksum/");
    // Text fields show their changed lines.
    const cfg = lines.indexOf('    data."airflow.cfg": text (dev -> prod)');
    expect(cfg).toBeGreaterThan(0);
    expect(lines.slice(cfg + 1)).toEqual(expect.arrayContaining(["      - parallelism = 64", "      + parallelism = 128"]));
    const withChecksums = await runCli(["diff", "dev", "prod", "--dir", dir, "--checksums"]);
    expect(withChecksums.out).toMatch(/annotations\."checksum\/airflow-config": [0-9a-f]{64} -> [0-9a-f]{64}/);
  });

  it("names the known environments when given an unknown one", async () => {
    const { code, err } = await runCli(["diff", "dev", "prd", "--dir", ROOT]);
    expect(code).toBe(1);
    expect(err).toBe('unknown environment "prd" (did you mean "prod"?); known: dev, prod');
  });
});

describe("schedule <env>", () => {
  it("shows the week grid in the environment's time zone with its UTC offsets", async () => {
    const dir = miniProject();
    const { code, out } = await runCli(["schedule", "prod", "--config", join(dir, "airflow-gitops.yaml")]);
    expect(code).toBe(0);
    const hours = `     ${Array.from({ length: 24 }, (_, h) => String(h).padStart(3)).join("")}`;
    const row = (day: string, values: number[]) => `${day}  ${values.map((v) => String(v).padStart(3)).join("")}`;
    const at = (on: number[], off: number) => Array.from({ length: 24 }, (_, h) => (on.includes(h) ? 2 : off));
    const weekday = at([9, 10], 1);
    const weekend = at([], 1);
    const warm = Array.from({ length: 24 }, (_, h) => ([8, 9, 10].includes(h) ? 1 : 0));
    const none = Array.from({ length: 24 }, () => 0);
    expect(out.split("\n")).toEqual([
      "prod: hours in Europe/Berlin (UTC+01:00 in January, UTC+02:00 in July)",
      "",
      "api-server replicas (autoscaled 1-3 on CPU 70%, 2 during peak windows)",
      hours,
      ...["Mon", "Tue", "Wed", "Thu", "Fri"].map((d) => row(d, weekday)),
      ...["Sat", "Sun"].map((d) => row(d, weekend)),
      "",
      "warm placeholders (1 pause pod of 1 CPU and 2Gi, from 30m before each window to its end)",
      hours,
      ...["Mon", "Tue", "Wed", "Thu", "Fri"].map((d) => row(d, warm)),
      ...["Sat", "Sun"].map((d) => row(d, none)),
      "",
      "task pods at once: up to 32 ([core] parallelism 32 per scheduler × 1 scheduler(s))",
      "database connections at the most replicas: up to 90 (replicas × pool: scheduler 1 × 15 + api-server 3 × 15 + dag-processor 1 × 15 + triggerer 1 × 15)",
    ]);
  });

  it("says when an environment has no schedule, and names the known ones for an unknown one", async () => {
    const config = join(miniProject(), "airflow-gitops.yaml");
    expect((await runCli(["schedule", "dev", "--config", config])).out.split("\n")).toEqual([
      "dev neither autoscales nor has peak hours: api-server 1, scheduler 1 replica(s) at every hour",
      "",
      "task pods at once: up to 32 ([core] parallelism 32 per scheduler × 1 scheduler(s))",
      "database connections at the most replicas: up to 60 (replicas × pool: scheduler 1 × 15 + api-server 1 × 15 + dag-processor 1 × 15 + triggerer 1 × 15)",
    ]);
    const unknown = await runCli(["schedule", "staging", "--config", config]);
    expect(unknown).toEqual({ code: 1, out: "", err: 'unknown environment "staging"; known: dev, prod' });
  });

  it("is drawn as a deterministic SVG for every environment with a plan", () => {
    const config = loadConfig(MINI, "mini.yaml");
    const first = renderAll(docFiles(config));
    const second = renderAll(docFiles(loadConfig(MINI, "mini.yaml")));
    expect([...first.keys()].sort()).toEqual(["docs/config.md", "docs/schedule-prod.svg"]);
    expect(second.get("docs/schedule-prod.svg")).toBe(first.get("docs/schedule-prod.svg"));
    const svg = first.get("docs/schedule-prod.svg")!;
    expect(svg).toMatch(/^<!-- Code generated by "npm run gen" from airflow-gitops\.yaml\. DO NOT EDIT\. -->\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain("<title>Peak-hour plan of prod: hours in Europe/Berlin (UTC+01:00 in January, UTC+02:00 in July)</title>");
    // One bar per run of equal hours, covering all 24 hours of each day of each row.
    const plan = weekPlan(resolveEnvironment(config, "prod"))!;
    const bars = [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)"/g)].map((m) => Number(m[1]) + 2);
    expect(bars.reduce((a, b) => a + b, 0)).toBe(plan.rows.length * 7 * 24 * 26);
    expect(bars.length).toBe(plan.rows.flatMap((r) => r.values).reduce((n, hours) => n + runs(hours).length, 0));
  });
});

describe("docs/config.md", () => {
  it("documents every field of the schema with its type and default", () => {
    const doc = renderAll(docFiles(loadConfig(MINI, "mini.yaml"))).get("docs/config.md")!;
    const missing: string[] = [];
    const visit = (schema: any, path: string) => {
      if (schema.$comment?.startsWith("override")) return;
      if (path && !doc.includes(`| \`${path}\``)) missing.push(path);
      for (const [key, sub] of Object.entries<any>(schema.properties ?? {})) visit(sub, path ? `${path}.${key}` : key);
    };
    visit(configJsonSchema(), "");
    expect(missing).toEqual([]);
    expect(doc).toContain('| `components.scheduler.replicas` | integer (1..100) | `1` |');
    expect(doc).toContain('| `ingress.scheme` | `"internal"` \\| `"internet-facing"` | `"internal"` |');
    expect(doc).toContain("| `environments.<env>.components` | object |  |");
  });

  it("is linked from the README, and the example config points editors at the schema", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("(docs/config.md)");
    expect(readFileSync(join(ROOT, "airflow-gitops.yaml"), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=./airflow-gitops.schema.json");
  });
});

describe("CI", () => {
  it("the GitHub workflow runs the same steps as .ci/run", () => {
    const script = readFileSync(join(ROOT, ".ci", "run"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^npm /.test(l));
    const workflow = parse(readFileSync(join(ROOT, ".github", "workflows", "ci.yml"), "utf8"));
    // Installing a toolchain differs between the two; the npm steps must not.
    const steps: string[] = workflow.jobs.ci.steps.flatMap((s: { run?: string }) => (s.run && /^npm /.test(s.run) ? [s.run] : []));
    // .ci/run adds --schemas when the strict schemas are beside the project; the workflow has none.
    expect(steps).toEqual(script.filter((l) => !l.includes("--schemas")));
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
  });
});
