/**
 * Namespaced, least-privilege RBAC: the scheduler launches, watches and adopts task pods; the
 * api-server and triggerer read the logs of running task pods; the failed-pod cleanup lists and
 * deletes pods; task pods launch pods only when asked.
 */
import { Role, RoleBinding } from "../kinds.js";
import type { IPolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names, type Component } from "../names.js";
import type { Manifest } from "./types.js";

/** `patch` lets a restarted scheduler adopt the pods of its predecessor. */
export const POD_LAUNCHER_RULES: IPolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "patch", "delete"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["events"], verbs: ["list"] },
];

export const POD_LOG_READER_RULES: IPolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get", "list"] },
];

/** What `airflow kubernetes cleanup-pods` calls: list the namespace's pods, delete the finished ones. */
export const POD_CLEANER_RULES: IPolicyRule[] = [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] }];

export function rbac(config: Target): Manifest[] {
  const n = names(config);
  const roleWithBinding = (component: string, roleName: string, rules: IPolicyRule[], subjects: Component[]): Manifest[] => [
    {
      component,
      object: toKubeObject(
        new Role({ metadata: { name: roleName, namespace: n.namespace, labels: labels(config, "airflow") }, rules }),
      ),
    },
    {
      component,
      object: toKubeObject(
        new RoleBinding({
          metadata: { name: roleName, namespace: n.namespace, labels: labels(config, "airflow") },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
          subjects: subjects.map((c) => ({ kind: "ServiceAccount", name: n.serviceAccount(c), namespace: n.namespace })),
        }),
      ),
    },
  ];
  const taskPods = config.components.worker.podLauncher;
  return [
    ...roleWithBinding("pod-launcher", n.podLauncherRole, POD_LAUNCHER_RULES, ["scheduler"]),
    ...roleWithBinding("pod-log-reader", n.podLogReaderRole, POD_LOG_READER_RULES, ["api-server", "triggerer"]),
    ...roleWithBinding("pod-cleaner", n.podCleanerRole, POD_CLEANER_RULES, ["failed-pod-cleanup"]),
    ...(taskPods.enabled ? roleWithBinding("task-pod-launcher", n.taskPodLauncherRole, taskPodLauncherRules(taskPods.exec), ["worker"]) : []),
  ];
}

/** What a KubernetesPodOperator needs in its own namespace: run, follow and clean up its pods. */
export function taskPodLauncherRules(exec: boolean): IPolicyRule[] {
  return [
    { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "patch", "delete"] },
    { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    { apiGroups: [""], resources: ["events"], verbs: ["list"] },
    ...(exec ? [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }] : []),
  ];
}
