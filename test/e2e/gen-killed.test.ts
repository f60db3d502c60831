/**
 * The real gen command, killed with SIGKILL at random points of a large write, leaves the old tree or the
 * new one (once the next run has finished what the killed one decided), never a mix.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
// @ts-expect-error: plain JavaScript module without declarations
import { ensureBundle } from "../../generator/launch.mjs";
import { LOCK_FILE } from "../../generator/fs/lock.js";
import { JOURNAL_FILE } from "../../generator/fs/tree.js";
import { ROOT, exampleData, genIn as gen, snapshot, tempProject } from "../helpers.js";

/** The generated part of a tree, as gen reads it (staged files and the lock are not part of it). */
function owned(dir: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot(dir)).filter(([path]) => path !== "airflow-gitops.yaml" && !path.endsWith(".tmp-gen") && path !== LOCK_FILE),
  );
}

/** The example with `count` copies of its dev environment and the given image tag: a large tree. */
function largeConfig(count: number, tag: string, first = 0): string {
  const data = exampleData() as any;
  const dev = data.environments.dev;
  data.airflow.image.tag = tag;
  data.argocd.environments = {};
  data.environments = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`e${first + i}`, { ...dev, namespace: `airflow-e${first + i}`, ingress: { host: `e${first + i}.acme.internal` } }]),
  );
  return stringify(data);
}

describe("killed in the middle of a large write", () => {
  it("leaves the old tree or the new one, whenever the kill comes", async () => {
    await ensureBundle();
    // Old: 12 environments on one tag. New: another tag (every file changes), 4 environments gone, 4 new.
    const oldConfig = largeConfig(12, "3.2.2");
    const newConfig = largeConfig(12, "3.2.1", 4);
    const oldDir = tempProject({ configText: oldConfig });
    expect((await gen(oldDir)).code).toBe(0);
    const newDir = tempProject({ configText: newConfig });
    expect((await gen(newDir)).code).toBe(0);
    const [oldTree, newTree] = [owned(oldDir), owned(newDir)];
    expect(Object.keys(oldTree).length).toBeGreaterThan(250);

    const killedAfter = async (dir: string, delayMs: number | undefined) => {
      const child = spawn(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen", "--config", join(dir, "airflow-gitops.yaml")], { stdio: "ignore" });
      const exited = new Promise<number>((resolve) => child.on("exit", () => resolve(Date.now())));
      // Time from taking the lock (the write is about to start) to the kill.
      while (!existsSync(join(dir, LOCK_FILE)) && child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
      const locked = Date.now();
      if (delayMs !== undefined) {
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill("SIGKILL");
      }
      return (await exited) - locked;
    };

    const calibration = tempProject({ configText: oldConfig });
    cpSync(oldDir, calibration, { recursive: true });
    writeFileSync(join(calibration, "airflow-gitops.yaml"), newConfig);
    const writeMs = await killedAfter(calibration, undefined);
    expect(owned(calibration)).toEqual(newTree);

    const outcomes = { old: 0, new: 0, interrupted: 0 };
    for (let run = 0; run < 20; run++) {
      const dir = tempProject();
      cpSync(oldDir, dir, { recursive: true });
      writeFileSync(join(dir, "airflow-gitops.yaml"), newConfig);
      await killedAfter(dir, Math.random() * writeMs);
      const leftover = existsSync(join(dir, JOURNAL_FILE)) || (readdirSync(dir, { recursive: true }) as string[]).some((p) => p.endsWith(".tmp-gen"));
      if (leftover) outcomes.interrupted++;
      // What any next run sees: gen --check (like validate) first finishes a decided write.
      await gen(dir, "--check");
      const tree = owned(dir);
      if (JSON.stringify(tree) === JSON.stringify(oldTree)) outcomes.old++;
      else {
        expect(tree, `run ${run}: neither the old tree nor the new one`).toEqual(newTree);
        outcomes.new++;
      }
      // And the run after it brings the tree up to date from either.
      expect((await gen(dir)).code).toBe(0);
      expect(owned(dir)).toEqual(newTree);
    }
    // Proof that kills landed inside the write, not only before or after it.
    expect(outcomes.interrupted, JSON.stringify(outcomes)).toBeGreaterThan(0);
  });
});
