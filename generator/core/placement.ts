/**
 * Where pods may run: the control plane on on-demand nodes and spread over zones, task pods preferring
 * the peak pool, placeholders only on it. Everything here follows from the build's peak hours and
 * replica counts; without peak hours nothing is constrained.
 */
import type { IAffinity } from "kubernetes-models/v1/Affinity";
import type { IToleration } from "kubernetes-models/v1/Toleration";
import type { ITopologySpreadConstraint } from "kubernetes-models/v1/TopologySpreadConstraint";
import type { INodeSelectorRequirement } from "kubernetes-models/v1/NodeSelectorRequirement";
import { selectorLabels } from "./labels.js";
import type { Part } from "./names.js";
import type { Target } from "./target.js";

export interface Placement {
  affinity?: IAffinity;
  tolerations?: IToleration[];
  topologySpreadConstraints?: ITopologySpreadConstraint[];
}

/** Control-plane pods require the on-demand capacity type named in peak hours, and spread when there are several. */
export function controlPlanePlacement(target: Target, component: Part, severalReplicas: boolean): Placement {
  const nodes = target.environment?.peakHours?.controlPlaneNodes;
  return {
    ...(nodes
      ? {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: nodes.key, operator: "In", values: [...nodes.values] }] }],
              },
            },
          },
        }
      : {}),
    ...(severalReplicas ? { topologySpreadConstraints: zoneAndNodeSpread(target, component) } : {}),
  };
}

/**
 * Spread over zones and nodes, as a preference: a hard rule would block scaling when a zone has no
 * room. `pod-template-hash` keeps a rollout's new pods from counting the old ones.
 */
function zoneAndNodeSpread(target: Target, component: Part): ITopologySpreadConstraint[] {
  return ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selectorLabels(target, component) },
    matchLabelKeys: ["pod-template-hash"],
  }));
}

/** Task pods prefer the peak pool and tolerate its taint, so they use it when it exists and run elsewhere when not. */
export function workerPlacement(target: Target): Placement {
  const pool = target.environment?.peakHours?.nodePool;
  if (!pool) return {};
  return {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: poolRequirements(pool.labels) } }],
      },
    },
    ...tolerationsOf(pool.taint),
  };
}

/** Placeholders exist only to hold peak-pool nodes, so they require the pool. */
export function placeholderPlacement(target: Target): Placement {
  const pool = target.environment?.peakHours?.nodePool;
  if (!pool) throw new Error("placeholders need the peak node pool");
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: poolRequirements(pool.labels) }] },
      },
    },
    ...tolerationsOf(pool.taint),
  };
}

function poolRequirements(poolLabels: Record<string, string>): INodeSelectorRequirement[] {
  return Object.keys(poolLabels)
    .sort()
    .map((key) => ({ key, operator: "In", values: [poolLabels[key]!] }));
}

function tolerationsOf(taint: { key: string; value: string; effect: NonNullable<IToleration["effect"]> } | undefined): Pick<Placement, "tolerations"> {
  if (!taint) return {};
  return {
    tolerations: [
      taint.value === ""
        ? { key: taint.key, operator: "Exists", effect: taint.effect }
        : { key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect },
    ],
  };
}
