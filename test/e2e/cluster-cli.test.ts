/** `npm run cluster -- up` leaves a working control plane and prints its kubeconfig; `down` stops all of it. */
import { execFileSync, spawnSync } from "node:child_process";
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
});
