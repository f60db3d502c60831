/**
 * PodDisruptionBudgets: a node drain or consolidation takes down at most one pod of a component that
 * may run several, so the UI, the scheduler and the task API stay up while nodes come and go.
 */
import { PodDisruptionBudget } from "../kinds.js";
import { selectorLabels, labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names, type Component } from "../names.js";
import { mayRunSeveral, type Target } from "../target.js";
import type { Manifest } from "./types.js";

/** The components that can run more than one replica, with their configured count. */
function replicated(config: Target): { component: Component; replicas: number }[] {
  const c = config.components;
  return [
    { component: "api-server", replicas: c.apiServer.replicas },
    { component: "scheduler", replicas: c.scheduler.replicas },
    { component: "dag-processor", replicas: c.dagProcessor.replicas },
    { component: "triggerer", replicas: c.triggerer.replicas },
  ];
}

export function disruptionBudgets(config: Target): Manifest[] {
  const n = names(config);
  return replicated(config)
    .filter(({ component, replicas }) => mayRunSeveral(config, component, replicas))
    .map(({ component }) => ({
      component,
      object: toKubeObject(
        new PodDisruptionBudget({
          metadata: { name: n.component(component), namespace: n.namespace, labels: labels(config, component) },
          spec: {
            maxUnavailable: 1,
            selector: { matchLabels: selectorLabels(config, component) },
            // A crash-looping pod must not block a node drain forever.
            unhealthyPodEvictionPolicy: "AlwaysAllow",
          },
        }),
      ),
    }));
}
