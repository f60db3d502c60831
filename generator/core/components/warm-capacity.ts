/**
 * Warm capacity for peak hours: pause pods with a negative priority, pinned to the peak pool, that a
 * KEDA cron trigger starts a lead time before each window and removes at its end. They make the node
 * autoscaler buy peak-pool nodes before the rush; any real pod preempts them at once.
 */
import { Deployment, PriorityClass, ScaledObject } from "../kinds.js";
import { labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { leadTimeMinutes } from "../../shared/peak-windows.js";
import { peakTriggers } from "./autoscaling.js";
import { placeholderPlacement } from "../placement.js";
import { containerSecurityContext, podSecurityContext } from "../pod.js";
import type { Target } from "../target.js";
import type { Manifest } from "./types.js";

/** The lowest priority that still makes the cluster autoscaler add nodes for pending pods. */
export const PLACEHOLDER_PRIORITY = -10;
const PAUSE_UID = 65535;

export function warmCapacity(config: Target): Manifest[] {
  const peak = config.environment?.peakHours;
  const warm = peak?.warmCapacity;
  if (!peak || !warm) return [];
  const n = names(config);
  const component = "peak-placeholder" as const;

  const priorityClass = new PriorityClass({
    metadata: { name: n.placeholderPriorityClass, labels: labels(config, component) },
    value: PLACEHOLDER_PRIORITY,
    globalDefault: false,
    // Placeholders hold room; they must never take it from anything else.
    preemptionPolicy: "Never",
    description: `Peak-hour placeholders of ${config.name} (${config.environment!.name}): evicted by any real pod.`,
  });

  const deployment = new Deployment({
    metadata: { name: n.placeholder, namespace: n.namespace, labels: labels(config, component) },
    spec: {
      // Created with none: a Deployment without replicas starts one pod, which stays Pending until the node
      // autoscaler buys a peak node for it, holding back its sync wave, off-peak. KEDA owns the count from
      // then on; the environment's Application ignores it (`placeholderReplicasIgnored`).
      replicas: 0,
      revisionHistoryLimit: 2,
      selector: { matchLabels: selectorLabels(config, component) },
      template: {
        metadata: { labels: labels(config, component) },
        spec: {
          priorityClassName: n.placeholderPriorityClass,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          securityContext: podSecurityContext(PAUSE_UID, PAUSE_UID),
          ...placeholderPlacement(config),
          containers: [
            {
              name: "pause",
              image: warm.image,
              imagePullPolicy: "IfNotPresent",
              resources: { requests: { cpu: warm.cpu, memory: warm.memory }, limits: { memory: warm.memory } },
              securityContext: containerSecurityContext({ readOnlyRootFilesystem: true }),
            },
          ],
        },
      },
    },
  });

  const lead = leadTimeMinutes(warm.leadTime);
  const scaledObject = new ScaledObject({
    metadata: { name: n.placeholder, namespace: n.namespace, labels: labels(config, component) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: n.placeholder },
      minReplicaCount: 0,
      maxReplicaCount: warm.placeholders,
      pollingInterval: 30,
      cooldownPeriod: 60,
      // Named like every other autoscaler of the environment, not keda-hpa-<name> (9 characters longer).
      advanced: { horizontalPodAutoscalerConfig: { name: n.placeholder } },
      triggers: peakTriggers(peak, warm.placeholders, lead),
    },
  });

  return [
    { component, object: toKubeObject(priorityClass) },
    { component, object: toKubeObject(deployment) },
    { component, object: toKubeObject(scaledObject) },
  ];
}
