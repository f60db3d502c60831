/** The Namespace (enforcing Pod Security "restricted") and the control plane's PriorityClass. */
import { Namespace, PriorityClass } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import type { Manifest } from "./types.js";

export const CONTROL_PLANE_PRIORITY = 100000;

export function clusterObjects(config: Target): Manifest[] {
  const n = names(config);
  const namespace = new Namespace({
    metadata: {
      name: n.namespace,
      labels: {
        ...labels(config, "airflow"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        // The AWS Load Balancer Controller holds a rolling update until new api-server pods are healthy targets.
        "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
      },
    },
  });
  const priorityClass = new PriorityClass({
    metadata: { name: n.controlPlanePriorityClass, labels: labels(config, "airflow") },
    value: CONTROL_PLANE_PRIORITY,
    globalDefault: false,
    preemptionPolicy: "PreemptLowerPriority",
    description: `Airflow control plane of ${config.name}: scheduled before task pods and evicted after them.`,
  });
  return [
    { component: "airflow", object: toKubeObject(namespace) },
    { component: "control-plane", object: toKubeObject(priorityClass) },
  ];
}
