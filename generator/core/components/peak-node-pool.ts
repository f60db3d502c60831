/**
 * The Karpenter NodePool (karpenter.sh/v1) of the peak pool, when asked for: nodes carry the pool's
 * labels and taint, so exactly the pods that prefer or require the pool land there.
 */
import { NodePool } from "../kinds.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import type { Target } from "../target.js";
import type { Manifest } from "./types.js";

/** Karpenter sets this label to the NodePool's name itself and refuses it in the template. */
export const KARPENTER_POOL_LABEL = "karpenter.sh/nodepool";

export function peakNodePool(config: Target): Manifest[] {
  const pool = config.environment?.peakHours?.nodePool;
  const karpenter = pool?.karpenter;
  if (!pool || !karpenter) return [];
  const { [KARPENTER_POOL_LABEL]: poolName, ...nodeLabels } = pool.labels;
  const nodePool = new NodePool({
    metadata: { name: poolName ?? names(config).peakNodePool, labels: labels(config, "peak-pool") },
    spec: {
      template: {
        ...(Object.keys(nodeLabels).length > 0 ? { metadata: { labels: nodeLabels } } : {}),
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: karpenter.nodeClassName },
          ...(pool.taint ? { taints: [{ key: pool.taint.key, value: pool.taint.value, effect: pool.taint.effect }] } : {}),
          requirements: [
            { key: "karpenter.sh/capacity-type", operator: "In", values: [...karpenter.capacityTypes] },
            { key: "karpenter.k8s.aws/instance-category", operator: "In", values: [...karpenter.instanceCategories] },
            { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
          ],
          expireAfter: karpenter.expireAfter,
        },
      },
      disruption: { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: karpenter.consolidateAfter },
      ...(karpenter.limits ? { limits: { cpu: karpenter.limits.cpu, memory: karpenter.limits.memory } } : {}),
    },
  });
  return [{ component: "peak-pool", object: toKubeObject(nodePool) }];
}
