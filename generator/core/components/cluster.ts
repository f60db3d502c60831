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
      // The data claims live here: deleting the namespace would delete them, which their own Prune=false,Delete=false
      // forbids Argo CD; so a prune or a deleted Application leaves the namespace too, and a person removes it.
      annotations: { "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" },
    },
  });
  const priorityClass = new PriorityClass({
    metadata: { name: n.controlPlanePriorityClass, labels: labels(config, "airflow") },
    value: CONTROL_PLANE_PRIORITY,
    globalDefault: false,
    // Ahead of task pods in the scheduling queue, but never by killing one: a control-plane pod that finds no
    // room waits for a node (the autoscaler's, or the next a task frees, which it gets first) rather than
    // ending a task that may have run for hours. Task pods (priority 0) preempt only the placeholders.
    preemptionPolicy: "Never",
    description: `Airflow control plane of ${config.name}: scheduled before task pods and evicted after them, preempting none.`,
  });
  return [
    { component: "airflow", object: toKubeObject(namespace) },
    { component: "control-plane", object: toKubeObject(priorityClass) },
  ];
}
