/**
 * gen writes only its own files: never through a symbolic link, one run at a time, and the tree it leaves
 * is the old one or the new one, never a mix (test/e2e/gen-killed.test.ts kills the real command mid-write).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript module without declarations
import { ensureBundle } from "../generator/launch.mjs";
import { LOCK_FILE } from "../generator/fs/lock.js";
import { JOURNAL_FILE } from "../generator/fs/tree.js";
import { ROOT, genIn as gen, snapshot, tempProject } from "./helpers.js";
import { tempDir } from "./temp-dirs.js";

/** The generated part of a tree, as gen reads it (staged files and the lock are not part of it). */
function owned(dir: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot(dir)).filter(([path]) => path !== "airflow-gitops.yaml" && !path.endsWith(".tmp-gen") && path !== LOCK_FILE),
  );
}

describe("symbolic links in the generated tree", () => {
  it("refuses an owned folder that is a link, and deletes nothing it points to", async () => {
    const dir = tempProject({ withTree: true });
    const outside = tempDir("airflow-gitops-outside-");
    writeFileSync(join(outside, "id_ed25519"), "a key gen did not write\n");
    rmSync(join(dir, "secrets"), { recursive: true });
    symlinkSync(outside, join(dir, "secrets"));
    const before = snapshot(dir);
    const result = await gen(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^a symbolic link is in the generated tree, where gen writes and deletes: secrets -> ${outside}; `));
    expect(result.err.split("\n")).toHaveLength(1);
    expect(readdirSync(outside)).toEqual(["id_ed25519"]);
    expect(snapshot(dir)).toEqual(before);
  });

  it("refuses a link below an owned folder, and writes nothing outside", async () => {
    const dir = tempProject({ withTree: true });
    const outside = tempDir("airflow-gitops-outside-");
    rmSync(join(dir, "overlays", "dev"), { recursive: true });
    symlinkSync(outside, join(dir, "overlays", "dev"));
    for (const args of [[], ["--check"]]) {
      const result = await gen(dir, ...args);
      expect(result.code).toBe(1);
      expect(result.err).toContain("overlays/dev -> ");
    }
    expect(readdirSync(outside)).toEqual([]);
  });

  it("refuses a linked file among the owned ones", async () => {
    const dir = tempProject({ withTree: true });
    const outside = join(tempDir("airflow-gitops-outside-"), "schema.json");
    writeFileSync(outside, "{}\n");
    rmSync(join(dir, "airflow-gitops.schema.json"));
    symlinkSync(outside, join(dir, "airflow-gitops.schema.json"));
    expect((await gen(dir)).err).toContain("airflow-gitops.schema.json -> ");
    expect(readFileSync(outside, "utf8")).toBe("{}\n");
  });
});

describe("one gen at a time", () => {
  it("stops while a live process holds the lock, naming it, and writes nothing", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: (await import("node:os")).hostname(), since: "2026-01-01T00:00:00.000Z" }));
    const result = await gen(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${LOCK_FILE}: process ${process.pid} on `);
    expect(existsSync(join(dir, "base"))).toBe(false);
  });

  it("takes over the lock of a process that is gone, and releases its own", async () => {
    const dir = tempProject();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(gone.stdout), host: (await import("node:os")).hostname(), since: "2026-01-01T00:00:00.000Z" }));
    expect((await gen(dir)).code).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("two runs started together: each either writes the tree or says the other is writing it", async () => {
    await ensureBundle();
    const dir = tempProject();
    const run = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen", "--config", join(dir, "airflow-gitops.yaml")], { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) => resolve({ code, err }));
      });
    const results = await Promise.all([run(), run()]);
    for (const r of results) if (r.code !== 0) expect(r.err).toContain("is writing this tree");
    expect(results.some((r) => r.code === 0)).toBe(true);
    expect((await gen(dir, "--check")).code).toBe(0);
  });
});

describe("a journal left by a killed run", () => {
  it("is carried out by the next gen --check, which then finds the tree up to date", async () => {
    const dir = tempProject({ withTree: true });
    const path = "base/scheduler-deployment.yaml";
    const text = readFileSync(join(dir, path), "utf8");
    writeFileSync(join(dir, path), "half old\n");
    writeFileSync(join(dir, `${path}.0badf00d.tmp-gen`), text);
    writeFileSync(join(dir, "base", "stale.yaml"), "a file the plan deletes\n");
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify({ suffix: ".0badf00d.tmp-gen", rename: [path], delete: ["base/stale.yaml"] }));
    expect((await gen(dir, "--check")).code).toBe(0);
    expect(readFileSync(join(dir, path), "utf8")).toBe(text);
    expect(existsSync(join(dir, "base", "stale.yaml"))).toBe(false);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(false);
  });

  it("that names a path outside the tree is refused, and nothing is touched", async () => {
    const dir = tempProject({ withTree: true });
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify({ suffix: ".0badf00d.tmp-gen", rename: [], delete: ["../victim"] }));
    writeFileSync(join(dir, "..", "victim"), "x");
    const result = await gen(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${JOURNAL_FILE}: not a journal gen wrote`);
    expect(existsSync(join(dir, "..", "victim"))).toBe(true);
    rmSync(join(dir, "..", "victim"));
  });
});

describe("a hand-written file in a generated folder", () => {
  it("is not deleted without --force, and gen says why; with --force it is", async () => {
    const dir = tempProject({ withTree: true });
    writeFileSync(join(dir, "overlays", "prod", "my-patch.yaml"), "kind: Notes\n");
    const before = snapshot(dir);
    const refused = await gen(dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      "overlays/prod/my-patch.yaml: not written by gen (no generated header), in a folder gen owns and would delete it; move it out of the generated folders, or run gen with --force to delete it",
    );
    expect(snapshot(dir)).toEqual(before);
    expect((await gen(dir, "--force")).code).toBe(0);
    expect(existsSync(join(dir, "overlays", "prod", "my-patch.yaml"))).toBe(false);
  });
});
