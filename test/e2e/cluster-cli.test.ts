/** `npm run cluster -- up` leaves a working control plane and prints its kubeconfig; `down` stops all of it. */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isRunning, type Component } from "../cluster/processes.js";
import type { ClusterState } from "../cluster/index.js";
import { pinnedVersion } from "../cluster/binaries.js";

const ROOT = join(import.meta.dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "airflow-gitops-cli-"));
const env = { ...process.env, AIRFLOW_GITOPS_CLUSTER_STATE: join(scratch, "state.json") };
const cluster = (command: string) => spawnSync("npm", ["run", "-s", "cluster", "--", command], { cwd: ROOT, encoding: "utf8", env });

let state: ClusterState | undefined;
afterAll(async () => {
  if (state && state.components.some(isRunning)) cluster("down");
  rmSync(scratch, { recursive: true, force: true });
});

describe("npm run cluster", () => {
  it("up prints the kubeconfig path of a running control plane at the pinned version; down stops every process", () => {
    const up = cluster("up");
    expect(up.status, up.stderr).toBe(0);
    const kubeconfig = up.stdout.trim();
    expect(kubeconfig).toMatch(/\/kubeconfig$/);
    state = JSON.parse(readFileSync(join(scratch, "state.json"), "utf8")) as ClusterState;
    expect(state.components.map((c: Component) => c.name)).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]);
    expect(state.components.every(isRunning)).toBe(true);

    const version = JSON.parse(execFileSync("kubectl", ["--kubeconfig", kubeconfig, "version", "-o", "json"], { encoding: "utf8" }));
    expect(version.serverVersion.gitVersion).toBe(pinnedVersion("kubernetes", "k8s.io/kubernetes"));
    const nodes = execFileSync("kubectl", ["--kubeconfig", kubeconfig, "get", "nodes", "-o", "name"], { encoding: "utf8" }).trim().split("\n");
    expect(nodes.length).toBe(8);
    const crds = execFileSync("kubectl", ["--kubeconfig", kubeconfig, "get", "crd", "-o", "name"], { encoding: "utf8" });
    expect(crds).toContain("nodepools.karpenter.sh");

    const again = cluster("up");
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already running");

    const down = cluster("down");
    expect(down.status, down.stderr).toBe(0);
    expect(state.components.filter(isRunning).map((c) => c.name)).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
    expect(existsSync(join(scratch, "state.json"))).toBe(false);
  });

  it("up --argocd runs the real Argo CD syncing a local git copy of the generated tree, bootstrapped as the README says; Ctrl-C stops every process", async () => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["test/cluster/cli.ts", "up", "--argocd", "--mark-ready"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (child.exitCode !== null) throw new Error(`cluster up --argocd exited (${child.exitCode}) before ${what}:\n${err}`);
        if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s:\n${err}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    try {
      await until("the session is up", () => err.includes("Ctrl-C stops"), 300_000);
      const kubeconfig = out.trim();
      state = JSON.parse(readFileSync(join(scratch, "state.json"), "utf8")) as ClusterState;
      expect(state.components.map((c) => c.name)).toEqual(expect.arrayContaining(["kube-apiserver", "redis", "argocd-repo-server", "argocd-application-controller"]));
      const repository = /Argo CD is syncing (\S+) /.exec(err)![1]!;
      const applications = () => JSON.parse(execFileSync("kubectl", ["--kubeconfig", kubeconfig, "get", "applications", "-A", "-o", "json"], { encoding: "utf8" })).items as any[];
      // The root Application synced the environments' Applications from the local repository, and each has begun its sync.
      let seen = "";
      await until("every environment's Application created by the root and syncing", () => {
        const apps = applications();
        seen = apps.map((a) => `${a.metadata.name}:${a.status?.sync?.status}/${a.status?.operationState?.phase}`).join(", ");
        const root = apps.find((a) => a.spec.source.path === "argocd/apps");
        const environments = apps.filter((a) => a.spec.source.path.startsWith("overlays/"));
        return root?.status?.sync?.status === "Synced" && environments.length === 2 && environments.every((a) => a.status?.operationState);
      }, 480_000);
      process.stderr.write(`[cluster-cli] ${seen}\n`);
      for (const app of applications()) expect(app.spec.source.repoURL).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/airflow-gitops\.git$/);
      expect(execFileSync("git", ["-C", repository, "log", "--format=%s"], { encoding: "utf8" }).trim()).toBe("the generated repository");
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    expect(err).toContain("stopped Argo CD, the git server and the control plane");
    expect(state!.components.filter(isRunning).map((c) => c.name)).toEqual([]);
    expect(existsSync(join(scratch, "state.json"))).toBe(false);
  }, 900_000);
});
