/**
 * Autoscaling of the api-server and the scheduler: a KEDA ScaledObject with a CPU trigger and one cron
 * trigger per peak window, or, for clusters without KEDA, a plain autoscaling/v2 HPA on CPU.
 */
import { HorizontalPodAutoscaler, ScaledObject } from "../kinds.js";
import type { IHorizontalPodAutoscalerBehavior } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior";
import type { AutoscalingConfig, PeakHoursConfig } from "../../config/schema.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { cronWindow } from "../../shared/peak-windows.js";
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

/** One KEDA cron trigger per peak window, holding `replicas` from `leadMinutes` before the window to its end. */
export function peakTriggers(peak: PeakHoursConfig, replicas: number, leadMinutes = 0) {
  return peak.windows.map((window, i) => ({
    type: "cron",
    name: `peak-${i + 1}`,
    metadata: { timezone: peak.timezone, ...cronWindow(window, leadMinutes), desiredReplicas: String(replicas) },
  }));
}

function scaledObject(config: Target, component: ScaledComponent, bounds: Bounds, peakReplicas: number | undefined) {
  const n = names(config);
  const peak = config.environment?.peakHours;
  const cronTriggers = peak && peakReplicas !== undefined ? peakTriggers(peak, peakReplicas) : [];
  return toKubeObject(
    new ScaledObject({
      metadata: scalerMetadata(config, component),
      spec: {
        scaleTargetRef: deploymentOf(config, component),
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
  return toKubeObject(
    new HorizontalPodAutoscaler({
      metadata: scalerMetadata(config, component),
      spec: {
        scaleTargetRef: deploymentOf(config, component),
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

/** A scaler is named after the Deployment it scales. */
function scalerMetadata(config: Target, component: ScaledComponent) {
  const n = names(config);
  return { name: n.component(component), namespace: n.namespace, labels: labels(config, component) };
}

function deploymentOf(config: Target, component: ScaledComponent) {
  return { apiVersion: "apps/v1", kind: "Deployment", name: names(config).component(component) };
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
