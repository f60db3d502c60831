/**
 * The simulated nodes kwok plays: on-demand nodes in three zones of the config's region, and nodes of each
 * peak-hour node pool the config declares, with that pool's labels and taint (read from the config).
 */
import { existsSync, readFileSync } from "node:fs";
import type { V1Node, V1Taint } from "@kubernetes/client-node";
import { parse } from "yaml";

/** The annotation the kwok controller is told to manage nodes by. */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const FLEET_LABEL = "airflow-gitops.test/fleet";

/** Where metrics-server finds a node's resource metrics on its kubelet port: kwok serves every node's under its name. */
export const RESOURCE_METRICS_PATH = "metrics.k8s.io/resource-metrics-path";
export const resourceMetricsPath = (node: string) => `/metrics/nodes/${node}/metrics/resource`;

interface Shape {
  instanceType: string;
  cpu: string;
  memory: string;
  pods: string;
  allocatableCpu: string;
  allocatableMemory: string;
}

/** EC2 sizes with EKS's usual reservations (kube-reserved, eviction threshold). */
const M6I_2XLARGE: Shape = { instanceType: "m6i.2xlarge", cpu: "8", memory: "32386084Ki", pods: "58", allocatableCpu: "7910m", allocatableMemory: "31369252Ki" };
const M6I_4XLARGE: Shape = { instanceType: "m6i.4xlarge", cpu: "16", memory: "64881188Ki", pods: "234", allocatableCpu: "15890m", allocatableMemory: "63064100Ki" };

export interface PeakPool {
  environment: string;
  labels: Record<string, string>;
  taint?: { key: string; value?: string; effect: string };
  capacityType: string;
}

export interface FleetOptions {
  region: string;
  onDemandPerZone: number;
  peakNodesPerPool: number;
  peakPools: PeakPool[];
}

/** The region and every environment's `peakHours.nodePool` of a config file. */
export function fleetFromConfig(configPath: string, sizes: { onDemandPerZone?: number; peakNodesPerPool?: number } = {}): FleetOptions {
  if (!existsSync(configPath)) throw new Error(`${configPath}: no such config file (the fleet's region and peak-hour node pools come from it)`);
  const config = parse(readFileSync(configPath, "utf8")) as {
    aws?: { region?: string };
    environments?: Record<string, { peakHours?: { nodePool?: { labels?: Record<string, string>; taint?: PeakPool["taint"]; karpenter?: { capacityTypes?: string[] } } } }>;
  };
  const peakPools: PeakPool[] = [];
  for (const [environment, env] of Object.entries(config.environments ?? {})) {
    const pool = env?.peakHours?.nodePool;
    if (!pool) continue;
    peakPools.push({ environment, labels: pool.labels ?? {}, taint: pool.taint, capacityType: pool.karpenter?.capacityTypes?.[0] ?? "on-demand" });
  }
  return { region: config.aws?.region ?? "us-east-1", onDemandPerZone: sizes.onDemandPerZone ?? 2, peakNodesPerPool: sizes.peakNodesPerPool ?? 2, peakPools };
}

function node(name: string, zone: string, region: string, shape: Shape, labels: Record<string, string>, taints: V1Taint[] | undefined): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0", [RESOURCE_METRICS_PATH]: resourceMetricsPath(name) },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": shape.instanceType,
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        type: "kwok",
        [FLEET_LABEL]: "true",
        ...labels,
      },
    },
    spec: { taints },
    status: {
      capacity: { cpu: shape.cpu, memory: shape.memory, pods: shape.pods, "ephemeral-storage": "83873772Ki" },
      allocatable: { cpu: shape.allocatableCpu, memory: shape.allocatableMemory, pods: shape.pods, "ephemeral-storage": "76224326324" },
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        bootID: "",
        containerRuntimeVersion: "kwok",
        kernelVersion: "",
        kubeProxyVersion: "",
        kubeletVersion: "kwok",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
}

export function fleetNodes(options: FleetOptions): V1Node[] {
  const zones = ["a", "b", "c"].map((suffix) => `${options.region}${suffix}`);
  const nodes: V1Node[] = [];
  for (const zone of zones) {
    for (let i = 0; i < options.onDemandPerZone; i++) {
      nodes.push(node(`on-demand-${zone}-${i}`, zone, options.region, M6I_2XLARGE, { "karpenter.sh/capacity-type": "on-demand" }, undefined));
    }
  }
  for (const pool of options.peakPools) {
    for (let i = 0; i < options.peakNodesPerPool; i++) {
      const taints = pool.taint ? [{ key: pool.taint.key, value: pool.taint.value, effect: pool.taint.effect }] : undefined;
      nodes.push(node(`peak-${pool.environment}-${i}`, zones[i % zones.length]!, options.region, M6I_4XLARGE, { "karpenter.sh/capacity-type": pool.capacityType, ...pool.labels }, taints));
    }
  }
  return nodes;
}
