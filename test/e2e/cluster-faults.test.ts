/**
 * The harness's own faults: a port in use, a binary that fails to build, a component that never becomes
 * ready. Each is a clear error naming the component and its log; no process keeps running and no
 * temporary directory is left behind.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError, ComponentError, ensureBinaries, startCluster, type Binaries } from "../cluster/index.js";
import { MODULES_DIR } from "../cluster/binaries.js";
import type { Component } from "../cluster/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** This process's cluster directories (a suite process beside it has its own). */
const clusterDirs = () => readdirSync(tmpdir()).filter((e) => e.startsWith(`airflow-gitops-cluster-${process.pid}-`));
const alive = (c: Component) => existsSync(`/proc/${c.pid}`) && !/^\d+ \(.*\) Z /.test(execFileSync("cat", [`/proc/${c.pid}/stat`], { encoding: "utf8" }));

let binaries: Binaries;
let scratch: string;
beforeAll(async () => {
  binaries = await ensureBinaries();
  scratch = mkdtempSync(join(tmpdir(), "airflow-gitops-faults-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function failedStart(options: Parameters<typeof startCluster>[0]): Promise<{ error: Error; started: Component[] }> {
  const started: Component[] = [];
  const before = clusterDirs();
  let error: Error | undefined;
  try {
    const cluster = await startCluster({ binaries, ...options, onStarted: (c) => started.push(c) });
    await cluster.stop();
  } catch (e) {
    error = e as Error;
  }
  expect(error, "the start should have failed").toBeDefined();
  expect(started.filter(alive).map((c) => `${c.name} ${c.pid}`)).toEqual([]);
  expect(clusterDirs()).toEqual(before);
  return { error: error!, started };
}

describe("cluster faults", () => {
  it("a port in use: names the component and the port, starts nothing", async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const { error, started } = await failedStart({ ports: { "kube-apiserver": port } });
      expect(error).toBeInstanceOf(ComponentError);
      expect(error.message).toContain(`kube-apiserver cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(started).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("a component that never becomes ready: named with its log; every process started before it is stopped", async () => {
    const fake = join(scratch, "kube-scheduler");
    writeFileSync(fake, "#!/bin/sh\necho 'scheduler that never serves'\nexec sleep 600\n");
    chmodSync(fake, 0o755);
    const { error, started } = await failedStart({ binaries: { ...binaries, "kube-scheduler": fake }, readyTimeoutMs: 60_000 });
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).component).toBe("kube-scheduler");
    expect(error.message).toContain("kube-scheduler did not become ready (/healthz) within 60s");
    expect(error.message).toContain("scheduler that never serves");
    expect(existsSync((error as ComponentError).log)).toBe(true);
    expect(started.map((c) => c.name)).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]);
  });

  it("a component that exits at once: named with the reason from its log", async () => {
    const { error } = await failedStart({ binaries: { ...binaries, etcd: "/bin/false" } });
    expect(error).toBeInstanceOf(ComponentError);
    expect(error.message).toMatch(/^etcd exited before/);
  });

  it("a binary that fails to build: names the binary, its module and the build log; no half-built cache entry", async () => {
    const modules = join(scratch, "modules");
    cpSync(MODULES_DIR, modules, { recursive: true, filter: (p) => !p.endsWith(".ts") });
    writeFileSync(join(modules, "kubernetes", "go.sum"), "");
    const cache = join(scratch, "cache");
    const error = await ensureBinaries(() => {}, { modulesDir: modules, cacheDir: cache }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toMatch(/^building etcd from kubernetes\/go\.mod failed: see \S+etcd\.build\.log$/);
    const log = (error as Error).message.split("see ")[1]!;
    expect(spawnSync("grep", ["-q", "go.sum", log]).status).toBe(0);
    expect(readdirSync(join(cache, "cluster-bin")).filter((e) => !e.endsWith(".build.log"))).toEqual([]);
  });

  it("npm run cluster: a fault is one line naming the component, exit status 1", () => {
    const result = spawnSync("npx", ["tsx", "test/cluster/cli.ts", "up", "--config", "does-not-exist.yaml"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, AIRFLOW_GITOPS_CLUSTER_STATE: join(scratch, "state.json") },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^cluster: .*does-not-exist\.yaml/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
