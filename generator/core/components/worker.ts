/**
 * The pod template the KubernetesExecutor starts for every task: container `base`, restartPolicy
 * Never, the worker ServiceAccount, and the same image, config, DAGs and logs as the control plane.
 */
import { Pod } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject, type KubeObject } from "../manifest.js";
import { names } from "../names.js";
import { workerPlacement } from "../placement.js";
import { AIRFLOW_POD_UID, SECRETS_READ_BY, airflowContainer, airflowVolumes, podSecurityContext } from "../pod.js";

/** The executor looks the task container up by this name. */
export const WORKER_CONTAINER = "base";

export function workerPodTemplate(config: Target): KubeObject {
  const n = names(config);
  const worker = config.components.worker;
  const pod = new Pod({
    metadata: {
      name: "placeholder-name",
      namespace: n.namespace,
      labels: labels(config, "worker"),
      // A running task must not be evicted to consolidate nodes: it would fail or start over.
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false", "karpenter.sh/do-not-disrupt": "true" },
    },
    spec: {
      serviceAccountName: n.serviceAccount("worker"),
      restartPolicy: "Never",
      securityContext: podSecurityContext(AIRFLOW_POD_UID),
      terminationGracePeriodSeconds: worker.terminationGracePeriodSeconds,
      ...workerPlacement(config),
      containers: [
        airflowContainer(config, {
          name: WORKER_CONTAINER,
          secrets: SECRETS_READ_BY.worker,
          resources: worker.resources,
          mountsDags: true,
        }),
      ],
      volumes: airflowVolumes(config, true),
    },
  });
  return toKubeObject(pod);
}
