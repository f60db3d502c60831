/**
 * The kwok controller's behaviour (nodes become Ready and keep their lease; pods run, Job pods complete,
 * deleted pods go away), from the Stage files of the pinned kwok module, the defaults kwokctl uses; and the
 * kubelet resource metrics it serves per node (`/metrics/nodes/<node>/metrics/resource`, what metrics-server
 * scrapes), each pod's CPU and memory read from its `kwok.x-k8s.io/usage-cpu` and `-memory` annotations (1m and
 * 1Mi when absent).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pinnedVersion } from "./binaries.js";
import { moduleDir } from "./crds.js";

const STAGES = [
  "kustomize/stage/node/fast/node-initialize.yaml",
  "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
  "kustomize/stage/pod/fast/pod-ready.yaml",
  "kustomize/stage/pod/fast/pod-complete.yaml",
  "kustomize/stage/pod/fast/pod-delete.yaml",
  "kustomize/metrics/resource/metrics-resource.yaml",
  "kustomize/metrics/usage/usage-from-annotation.yaml",
];

export function kwokStagesConfig(): string {
  const dir = moduleDir("sigs.k8s.io/kwok", pinnedVersion("kwok", "sigs.k8s.io/kwok"));
  return STAGES.map((file) => readFileSync(join(dir, file), "utf8").trim()).join("\n---\n") + "\n";
}
