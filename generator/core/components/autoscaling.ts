/**
 * Autoscaling of the api-server and the scheduler: a KEDA ScaledObject with a CPU trigger and one cron
 * trigger per peak window, or, for clusters without KEDA, a plain autoscaling/v2 HPA on CPU.
 */
import { HorizontalPodAutoscaler, ScaledObject } from "../kinds.js";
import type { IHorizontalPodAutoscalerBehavior } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior";
import type { AutoscalingConfig } from "../../config/schema.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { cronWindow } from "../peak-windows.js";
import { autoscalingOf, type ScaledComponent, type Target } from "../target.js";
import type { Manifest } from "./types.js";

const SCALED: readonly { component: ScaledComponent; peakReplicas: "apiServer" | "scheduler" }[] = [
  { component: "api-server", peakReplicas: "apiServer" },
  { component: "scheduler", peakReplicas: "scheduler" },
];

export function autoscaling(config: Target): Manifest[] {
  const settings = config.environment?.autoscaling;
  if (!settings) return [];
  return SCALED.flatMap(({ component, peakReplicas }) => {
    const bounds = autoscalingOf(config, component);
    if (!bounds) return [];
    const object =
      settings.engine === "keda"
        ? scaledObject(config, component, bounds, config.environment?.peakHours?.replicas[peakReplicas])
        : horizontalPodAutoscaler(config, component, bounds);
    return [{ component, object }];
  });
}

type Bounds = NonNullable<ReturnType<typeof autoscalingOf>>;

function scaledObject(config: Target, component: ScaledComponent, bounds: Bounds, peakReplicas: number | undefined) {
  const n = names(config);
  const peak = config.environment?.peakHours;
  const cronTriggers =
    peak && peakReplicas !== undefined
      ? peak.windows.map((window, i) => ({
          type: "cron",
          name: `peak-${i + 1}`,
          metadata: { timezone: peak.timezone, ...cronWindow(window), desiredReplicas: String(peakReplicas) },
        }))
      : [];
  return toKubeObject(
    new ScaledObject({
      metadata: { name: n.component(component), namespace: n.namespace, labels: labels(config, component) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: n.component(component) },
        minReplicaCount: bounds.min,
        maxReplicaCount: bounds.max,
        pollingInterval: 30,
        cooldownPeriod: 300,
        advanced: {
          restoreToOriginalReplicaCount: false,
          horizontalPodAutoscalerConfig: { name: n.component(component), behavior: behavior(config.environment!.autoscaling!) },
        },
        triggers: [
          {
            type: "cpu",
            name: "cpu",
            metricType: "Utilization",
            metadata: { value: String(bounds.cpuUtilization), containerName: component },
          },
          ...cronTriggers,
        ],
      },
    }),
  );
}

function horizontalPodAutoscaler(config: Target, component: ScaledComponent, bounds: Bounds) {
  const n = names(config);
  return toKubeObject(
    new HorizontalPodAutoscaler({
      metadata: { name: n.component(component), namespace: n.namespace, labels: labels(config, component) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: n.component(component) },
        minReplicas: bounds.min,
        maxReplicas: bounds.max,
        metrics: [
          {
            type: "ContainerResource",
            containerResource: {
              name: "cpu",
              container: component,
              target: { type: "Utilization", averageUtilization: bounds.cpuUtilization },
            },
          },
        ],
        behavior: behavior(config.environment!.autoscaling!),
      },
    }),
  );
}

/** Up by at most two pods a minute, down by one every two minutes, each after its stabilization window. */
function behavior(settings: AutoscalingConfig): IHorizontalPodAutoscalerBehavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: settings.behavior.scaleUpStabilizationSeconds,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 2, periodSeconds: 60 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: settings.behavior.scaleDownStabilizationSeconds,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
    },
  };
}
