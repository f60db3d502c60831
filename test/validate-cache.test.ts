/** The validate cache repeats verdicts of unchanged builds and nothing else: it can never turn a failure into a pass. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputFiles } from "../generator/validate/cache.js";
import { main, type Io } from "../generator/cli.js";
import { runCli, tempProject, editYaml } from "./helpers.js";

const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-cache-"));
  temps.push(dir);
  return dir;
}

function treeCopy(): string {
  const dir = tempProject({ withTree: true });
  temps.push(dir);
  return dir;
}

const edit = editYaml;

function entries(cacheDir: string): string[] {
  return (readdirSync(cacheDir, { recursive: true }) as string[]).filter((p) => p.endsWith(".json")).map((p) => join(cacheDir, p));
}

const TARGETS = ["overlays/dev", "argocd"];

describe("validate cache", () => {
  it("reuses unchanged builds, rebuilds what a change reaches, and keeps failures failures", async () => {
    const dir = treeCopy();
    const cache = temp();
    const validate = (...extra: string[]) => runCli(["validate", "--dir", dir, "--cache-dir", cache, "--json", ...extra, ...TARGETS]);

    const first = JSON.parse((await validate()).out);
    expect(first).toMatchObject({ failed: 0, cached: 0 });
    const second = JSON.parse((await validate()).out);
    expect(second).toMatchObject({ failed: 0, cached: 2, passed: first.passed });

    // A defect in the base reaches the overlay, not argocd/: one build, and a failure.
    edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.template.spec.containers[0].image = "x:latest"));
    const broken = await validate();
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ cached: 1 });
    expect(broken.out).toContain('uses the latest tag');

    // The failure is what the cache now repeats.
    const again = await validate();
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ cached: 2 });

    // Entries that are damaged or claim another address are misses, never passes.
    const passing = entries(cache).map((path) => readFileSync(path, "utf8")).find((text) => text.includes('"problems":[]'))!;
    for (const path of entries(cache)) writeFileSync(path, path.includes("0") ? "{not json" : passing);
    const forged = await validate();
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.out)).toMatchObject({ cached: 0 });
    expect(forged.out).toContain('uses the latest tag');

    // --no-cache checks everything again.
    const fresh = await validate("--no-cache");
    expect(fresh.code).toBe(1);
    expect(JSON.parse(fresh.out)).toMatchObject({ cached: 0 });
  });

  it("says how many verdicts came from the cache, with a progress line on a terminal", async () => {
    const dir = treeCopy();
    const cache = temp();
    const progress: string[] = [];
    const io: Io = { out: () => {}, err: () => {}, progress: (line) => progress.push(line) };
    expect(await main(["validate", "--dir", dir, "--cache-dir", cache, "argocd"], io)).toBe(0);
    expect(progress).toEqual(["validate: 0 from cache, 1 built, 0 checked of 1", "validate: 0 from cache, 1 built, 1 checked of 1", ""]);
    const second = await runCli(["validate", "--dir", dir, "--cache-dir", cache, "argocd"]);
    expect(second.out).toMatch(/^\d+ passed, 0 failed \(argocd\); 1 of 1 build\(s\) unchanged, verdict from the cache$/);
  });

  it("counts every file a build reads, through the kustomizations it names", () => {
    const dir = treeCopy();
    const files = [...inputFiles(join(dir, "overlays", "prod"))!].map((f) => f.slice(dir.length + 1));
    expect(files).toContain("overlays/prod/kustomization.yaml");
    expect(files).toContain("base/kustomization.yaml");
    expect(files).toContain("base/scheduler-deployment.yaml");
    expect(files.some((f) => f.startsWith("secrets/prod/"))).toBe(true);
    expect(files.some((f) => f.startsWith("overlays/dev/"))).toBe(false);
  });

  it("does not cache a build with a remote resource", () => {
    const dir = treeCopy();
    edit(dir, "overlays/dev/kustomization.yaml", (d) => d.resources.push("https://github.com/acme/extra//deploy?ref=v1"));
    expect(inputFiles(join(dir, "overlays", "dev"))).toBeUndefined();
  });
});
