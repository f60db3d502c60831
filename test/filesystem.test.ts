/** File-system trouble is the user's to fix: one line naming the path and the cause, exit 1, no temporary file left. */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyPlan } from "../generator/fs/tree.js";
import { fileSystemProblem } from "../generator/fs/errors.js";
import { plan } from "../generator/fs/plan.js";
// @ts-expect-error: plain JavaScript module without declarations
import { ensureBundle } from "../generator/launch.mjs";
import { ROOT, genIn as gen, tempProject } from "./helpers.js";

/**
 * The bundled command as a process that permission bits bind: the current user's, or, when the tests
 * run as root, root's without the capabilities that override them (it still reads its own files).
 */
async function cliBoundByPermissions(cwd: string, args: string[]): Promise<SpawnSyncReturns<string>> {
  // Built by this process, so the child only reads dist/.
  await ensureBundle();
  const command = [process.execPath, join(ROOT, "generator", "launch.mjs"), ...args];
  const asRoot = process.getuid?.() === 0;
  if (asRoot && spawnSync("setpriv", ["--version"]).error) {
    throw new Error("the tests run as root, whom permission bits do not bind: this test needs setpriv (util-linux) to drop root's override capabilities");
  }
  const [file, ...argv] = asRoot ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ...command] : command;
  return spawnSync(file!, argv, { cwd, encoding: "utf8" });
}

function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.endsWith(".tmp-gen"));
}

describe("file-system problems", () => {
  it("-o pointing at a file", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, "out"), "a file\n");
    const result = await gen(dir, "-o", join(dir, "out"));
    expect(result.code).toBe(1);
    expect(result.err).toBe(`${join(dir, "out")}: is a file; the output must be a directory`);
  });

  it("a file where a directory should be", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, "overlays"), "not a directory\n");
    const result = await gen(dir);
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toHaveLength(1);
    expect(result.err).toMatch(/overlays(\/[a-z-]+)?: (a file is in the way where a directory should be \(ENOTDIR\)|already exists and is not a directory \(EEXIST\))$/);
    expect(result.err).not.toMatch(/internal error|at /);
    expect(tempFiles(dir)).toEqual([]);
  });

  it("a read-only output directory (the real command, bound by permission bits even as root)", async () => {
    const dir = tempProject();
    mkdirSync(join(dir, "base"));
    chmodSync(join(dir, "base"), 0o555);
    try {
      const run = await cliBoundByPermissions(dir, ["gen"]);
      expect(run.error).toBeUndefined();
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^base\/[a-z-]+\.yaml: permission denied \(EACCES\)\n$/);
      expect(tempFiles(dir)).toEqual([]);
    } finally {
      chmodSync(join(dir, "base"), 0o755);
    }
  });

  it("names the path and the cause of a permission or read-only failure, without the staging suffix", () => {
    const error = Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS", path: "/srv/repo/base/a.yaml.0badf00d.tmp-gen" });
    expect(fileSystemProblem(error, "/srv/repo")?.message).toBe("/srv/repo/base/a.yaml: read-only file system (EROFS)");
    const denied = Object.assign(new Error("EACCES"), { code: "EACCES", path: "/srv/repo/overlays/dev" });
    expect(fileSystemProblem(denied, "/srv/repo")?.message).toBe("/srv/repo/overlays/dev: permission denied (EACCES)");
    expect(fileSystemProblem(new Error("a bug"), "/srv/repo")).toBeUndefined();
  });

  it("a write that fails half-way leaves no staged file behind, and the tree as it was", async () => {
    const dir = tempProject();
    const desired = new Map([
      ["base/a.yaml", "a\n"],
      ["base/b.yaml", "b\n"],
      [`base/${"x".repeat(300)}.yaml`, "too long a name\n"],
    ]);
    await expect(applyPlan(dir, plan(desired, new Map()), desired)).rejects.toMatchObject({ code: "ENAMETOOLONG" });
    expect(readdirSync(join(dir, "base"))).toEqual([]);
  });

  it("ignores a staged file a killed run left behind, and gen removes it", async () => {
    const dir = tempProject();
    expect((await gen(dir)).code).toBe(0);
    writeFileSync(join(dir, "base", "scheduler-deployment.yaml.0badf00d.tmp-gen"), "half\n");
    writeFileSync(join(dir, "airflow-gitops.schema.json.0badf00d.tmp-gen"), "half\n");
    expect((await gen(dir, "--check")).code).toBe(0);
    expect((await gen(dir)).code).toBe(0);
    expect(tempFiles(dir)).toEqual([]);
  });
});

describe("piped output", () => {
  it.each([
    ["schedule prod", ["schedule", "prod"]],
    ["gen --diff", ["gen", "--diff", "-c", "test/fixtures/mini.yaml"]],
  ])("%s | head -1 exits quietly", (_name, args) => {
    const run = spawnSync("sh", ["-c", `node generator/launch.mjs ${args.join(" ")} | head -c 1 >/dev/null`], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
  });
});
