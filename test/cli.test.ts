import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, exampleText, genIn as gen, runCli, snapshot, tempProject } from "./helpers.js";


describe("gen", () => {
  it("writes the committed tree from the example config, byte for byte", async () => {
    const dir = tempProject();
    const result = await gen(dir);
    expect(result.code).toBe(0);
    const written = snapshot(dir);
    delete written["airflow-gitops.yaml"];
    const committed = snapshot(ROOT);
    for (const [path, text] of Object.entries(written)) expect(committed[path], path).toBe(text);
  });

  it("changes nothing when run twice", async () => {
    const dir = tempProject();
    await gen(dir);
    const before = snapshot(dir);
    const second = await gen(dir);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/^0 created, 0 changed, 0 deleted, \d+ unchanged$/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("deletes stale files in the directories it owns and leaves other files alone", async () => {
    const dir = tempProject({ withTree: true });
    writeFileSync(join(dir, "base", "old-deployment.yaml"), "stale\n");
    mkdirSync(join(dir, "overlays", "gone"), { recursive: true });
    writeFileSync(join(dir, "overlays", "gone", "kustomization.yaml"), "stale\n");
    writeFileSync(join(dir, "NOTES.md"), "mine\n");
    const result = await gen(dir);
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, "base", "old-deployment.yaml"))).toBe(false);
    expect(existsSync(join(dir, "overlays", "gone"))).toBe(false);
    expect(readFileSync(join(dir, "NOTES.md"), "utf8")).toBe("mine\n");
  });
});

describe("gen --check", () => {
  it("passes on an up-to-date tree and writes nothing", async () => {
    const dir = tempProject({ withTree: true });
    writeFileSync(join(dir, "airflow-gitops.schema.json"), readFileSync(join(ROOT, "airflow-gitops.schema.json")));
    const before = snapshot(dir);
    const result = await gen(dir, "--check");
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(/^up to date: \d+ files$/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("fails listing missing, changed and extra files, and writes nothing", async () => {
    const dir = tempProject({ withTree: true });
    writeFileSync(join(dir, "airflow-gitops.schema.json"), readFileSync(join(ROOT, "airflow-gitops.schema.json")));
    rmSync(join(dir, "base", "scheduler-deployment.yaml"));
    writeFileSync(join(dir, "base", "statsd-service.yaml"), "edited by hand\n");
    writeFileSync(join(dir, "base", "extra-configmap.yaml"), "extra\n");
    const before = snapshot(dir);
    const result = await gen(dir, "--check");
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toEqual([
      "missing: base/scheduler-deployment.yaml",
      "changed: base/statsd-service.yaml",
      "extra: base/extra-configmap.yaml",
      "the generated files are out of date: run `npm run gen`",
    ]);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("bad input", () => {
  const cases: { name: string; edit: (text: string) => string; expected: RegExp }[] = [
    { name: "YAML syntax", edit: (t) => t.replace("namespace: airflow", "namespace: [airflow"), expected: /\/airflow-gitops\.yaml:\d+:\d+ YAML: / },
    {
      name: "unknown key",
      edit: (t) => t.replace("    branch: main", "    brnach: main"),
      expected: /\/airflow-gitops\.yaml:\d+:5 dags\.gitSync\.brnach: unknown field "brnach"; did you mean "branch"\?/,
    },
    {
      name: "wrong type",
      edit: (t) => t.replace("    size: 100Gi", "    size: 100"),
      expected: /\/airflow-gitops\.yaml:\d+:11 storage\.logs\.size: must be string, found number 100: YAML reads unquoted digits as a number \(and drops leading zeros\); put the value in quotes$/,
    },
    {
      name: "missing required field",
      edit: (t) => t.replace(/aws:\n {2}region: sa-east-1\n/, "aws:\n"),
      expected: /\/airflow-gitops\.yaml:\d+:\d+ aws\.region: is required$/,
    },
    {
      name: "overlapping peak windows",
      edit: (t) => t.replace('start: "18:00", end: "21:00"', 'start: "10:00", end: "21:00"'),
      expected: /\/airflow-gitops\.yaml:\d+:11 environments\.prod\.peakHours\.windows\[1\]: mon-fri 10:00-21:00 overlaps window 1 \(mon-fri 07:00-11:00\); merge them into one window$/,
    },
    {
      name: "unknown environment field",
      edit: (t) => t.replace("    peakHours:\n", "    peakHour:\n"),
      expected: /\/airflow-gitops\.yaml:\d+:5 environments\.prod\.peakHour: unknown field "peakHour"; did you mean "peakHours"\?/,
    },
    {
      name: "log volume turned off in one environment",
      edit: (t) => t.replace("        s3BaseFolder: s3://acme-airflow-logs/{env}", "        volume: false\n        s3BaseFolder: s3://acme-airflow-logs/{env}"),
      expected: /\/airflow-gitops\.yaml:\d+:9 environments\.prod\.storage\.logs\.volume: cannot differ from storage\.logs\.volume \(true\)/,
    },
  ];

  it.each(cases)("$name: exits 1 with file:line:col path: message and leaves the tree untouched", async ({ edit, expected }) => {
    const dir = tempProject({ withTree: true, configText: edit(exampleText()) });
    writeFileSync(join(dir, "base", "kustomization.yaml"), "an older generation\n");
    const before = snapshot(dir);
    const result = await gen(dir);
    expect(result.code).toBe(1);
    const lines = result.err.split("\n");
    expect(lines[0]).toMatch(expected);
    expect(lines.at(-1)).toMatch(/^\d+ problem\(s\) in .*airflow-gitops\.yaml; nothing was written$/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("reports a missing config file as a user error", async () => {
    const result = await runCli(["gen", "--config", "/nonexistent/airflow-gitops.yaml"]);
    expect(result.code).toBe(1);
    expect(result.err).toBe("/nonexistent/airflow-gitops.yaml: cannot read the config file (ENOENT)");
  });

  it("rejects an unknown command or option", async () => {
    expect((await runCli(["generate"])).code).toBe(1);
    expect((await runCli(["gen", "--frobnicate"])).code).toBe(1);
  });
});

describe("the real command", () => {
  it("runs as a process: exit 1 and one line per problem on stderr for a misspelt key", () => {
    const dir = tempProject({ configText: exampleText().replace("namespace: airflow", "namespce: airflow") });
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen"], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
      });
    } catch (error: any) {
      status = error.status;
      stderr = error.stderr;
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/^airflow-gitops\.yaml:7:1 namespce: unknown field "namespce"; did you mean "namespace"\?/);
    expect(snapshot(dir)).toEqual({ "airflow-gitops.yaml": readFileSync(join(dir, "airflow-gitops.yaml"), "utf8") });
  });
});

describe("the committed tree", () => {
  it("is what the example config generates (gen --check on the repository)", async () => {
    const result = await runCli(["gen", "--check", "--config", join(ROOT, "airflow-gitops.yaml")]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
  });
});

describe("the bundled entry point", () => {
  it("runs gen --check on the committed tree", () => {
    const out = execFileSync(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen", "--check"], { cwd: ROOT, encoding: "utf8" });
    expect(out).toMatch(/^up to date: \d+ files\n$/);
  });

  it("reports a broken config exactly as the sources do (its config validator is precompiled)", async () => {
    const text = exampleText()
      .replace("    branch: main", "    brnach: main")
      .replace("scheme: internal", "scheme: public")
      .replace(/\nenvironments:\n/, "\nenvironments:\n  Bad_Env: {}\n");
    const dir = tempProject({ configText: text });
    const inProcess = await gen(dir);
    let bundled: { status: number; stderr: string };
    try {
      execFileSync(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen", "--config", join(dir, "airflow-gitops.yaml")], { encoding: "utf8", stdio: "pipe" });
      bundled = { status: 0, stderr: "" };
    } catch (error) {
      bundled = error as { status: number; stderr: string };
    }
    expect(bundled.status).toBe(1);
    expect(bundled.stderr.trimEnd()).toBe(inProcess.err);
    expect(inProcess.err).toContain('dags.gitSync.brnach: unknown field "brnach"; did you mean "branch"?');
    expect(inProcess.err).toContain('environments.Bad_Env: invalid name "Bad_Env"');
  });
});
