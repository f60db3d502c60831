/**
 * Karpenter beside the local control plane: the core controllers with the kwok cloud provider (the one
 * upstream ships for running without a cloud), built from the pinned module (`controller-pins.ts`) and run
 * out of cluster. It provisions a Node for pods that do not fit, labelled and tainted from the NodePool,
 * annotated so that the suite's kwok controller plays its kubelet, and consolidates empty nodes away.
 *
 * The provider knows only its own node class (`KWOKNodeClass`, group `karpenter.kwok.sh`): a NodePool that
 * names an EC2NodeClass is ignored, so the test variant rewrites the generated NodePool's `nodeClassRef` and
 * nothing else (`forKwok`). Its instance types come from the module's own catalogue of EC2 types
 * (`kwok/examples/aws_instance_types.json`), moved into the config's region and given the
 * `karpenter.k8s.aws/instance-category` and `-family` values the AWS provider derives from a type's name, so
 * the generated requirements select what they would on EC2.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject, RawApi } from "./api.js";
import type { ClusterState } from "./cluster.js";
import { KARPENTER } from "./controller-pins.js";
import { moduleDir } from "./crds.js";
import { ensureSourceBuild, type SourceBuild } from "./module-build.js";
import { clientCertificate, kubeconfigFor } from "./pki.js";
import { freePort, probe, readyOrStopped, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

/**
 * The metrics and health servers listen on every interface (`":%d"` in `pkg/operator/operator.go`, no flag
 * for the address); the build binds them to 127.0.0.1 instead.
 */
const BUILD: SourceBuild = {
  name: "karpenter-kwok",
  module: KARPENTER.module,
  version: KARPENTER.version,
  packages: ["./kwok"],
  rename: { kwok: "karpenter-kwok" },
  ldflags: `-s -w -X ${KARPENTER.module}/pkg/operator.Version=${KARPENTER.version}`,
  patches: [
    { file: "pkg/operator/operator.go", from: 'BindAddress: fmt.Sprintf(":%d", options.FromContext(ctx).MetricsPort)', to: 'BindAddress: fmt.Sprintf("127.0.0.1:%d", options.FromContext(ctx).MetricsPort)' },
    { file: "pkg/operator/operator.go", from: 'HealthProbeBindAddress: fmt.Sprintf(":%d", options.FromContext(ctx).HealthProbePort)', to: 'HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", options.FromContext(ctx).HealthProbePort)' },
  ],
};

export async function ensureKarpenter(log: (line: string) => void = () => {}): Promise<string> {
  return join(await ensureSourceBuild(BUILD, log), "karpenter-kwok");
}

/** The node class the kwok provider serves; its status defaults to Ready. */
export const KWOK_NODE_CLASS = { group: "karpenter.kwok.sh", kind: "KWOKNodeClass", name: "default" } as const;

/** The generated NodePool as the kwok provider takes it: its node class rewritten, nothing else. */
export function forKwok(nodePool: KubeObject): KubeObject {
  const copy = structuredClone(nodePool) as KubeObject & { spec: { template: { spec: { nodeClassRef: unknown } } } };
  copy.spec.template.spec.nodeClassRef = { ...KWOK_NODE_CLASS };
  return copy;
}

/**
 * The catalogue names architectures as EC2 does; nodes carry the Kubernetes names (`kubernetes.io/arch`).
 * Its 32-bit types (i386) have no Kubernetes architecture.
 */
const ARCHITECTURES: Readonly<Record<string, string>> = { x86_64: "amd64", arm64: "arm64" };

interface Offering {
  Price: number;
  Available: boolean;
  Requirements: { key: string; operator: string; values: string[] }[];
}

/**
 * The module's EC2 catalogue in `region`, its Linux entries (it lists each type once for Linux, once for Windows):
 * its four zones (us-west-2a to d) become the region's a to c (the fourth is dropped, the suite's fleet has
 * three), and each offering carries the category and family labels.
 */
export function instanceTypes(region: string): unknown[] {
  const file = join(moduleDir(KARPENTER.module, KARPENTER.version), "kwok", "examples", "aws_instance_types.json");
  const catalogue = JSON.parse(readFileSync(file, "utf8")) as { name: string; architecture: string; operatingSystems: string[]; offerings: Offering[] }[];
  return catalogue.filter((type) => type.operatingSystems.includes("linux") && ARCHITECTURES[type.architecture]).map((type) => {
    const family = type.name.split(".")[0]!;
    const category = /^[a-z]+/.exec(family)?.[0] ?? family;
    const offerings = type.offerings.flatMap((offering) => {
      const zone = offering.Requirements.find((r) => r.key === "topology.kubernetes.io/zone")?.values[0] ?? "";
      const suffix = /[a-c]$/.exec(zone)?.[0];
      if (!suffix) return [];
      const requirements = offering.Requirements.map((r) => (r.key === "topology.kubernetes.io/zone" ? { ...r, values: [`${region}${suffix}`] } : r));
      requirements.push(
        { key: "karpenter.k8s.aws/instance-category", operator: "In", values: [category] },
        { key: "karpenter.k8s.aws/instance-family", operator: "In", values: [family] },
      );
      return [{ ...offering, Requirements: requirements }];
    });
    return { ...type, architecture: ARCHITECTURES[type.architecture], offerings };
  });
}

export interface KarpenterOptions {
  cluster: ClusterState;
  api: RawApi;
  region: string;
  logsDir: string;
  dir: string;
  log?: (line: string) => void;
}

/** The controller's user name, as the API server sees it. */
export const KARPENTER_USER = "karpenter";

export class Karpenter {
  private constructor(readonly component: Component) {}

  /** Creates the node class, then starts the controller; returns once it reports ready. */
  static async start(options: KarpenterOptions): Promise<Karpenter> {
    const binary = await ensureKarpenter(options.log);
    mkdirSync(options.dir, { recursive: true });
    await options.api.apply({ apiVersion: `${KWOK_NODE_CLASS.group}/v1alpha1`, kind: KWOK_NODE_CLASS.kind, metadata: { name: KWOK_NODE_CLASS.name } }, { fieldManager: "e2e" });
    const types = join(options.dir, "instance-types.json");
    writeFileSync(types, JSON.stringify(instanceTypes(options.region)));
    const ca = { caCert: join(options.cluster.dir, "ca.crt"), caKey: join(options.cluster.dir, "ca.key") };
    // In system:masters: the module ships its ClusterRoles only as Helm templates (kwok/charts/templates/).
    const identity = clientCertificate(options.dir, ca, KARPENTER_USER, `/O=system:masters/CN=${KARPENTER_USER}`);
    const kubeconfig = join(options.dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigFor(options.cluster.server, ca.caCert, KARPENTER_USER, identity));
    const [metrics, health] = [await freePort(), await freePort()];
    const component = startComponent("karpenter", binary, [], options.logsDir, {
      PATH: process.env.PATH,
      HOME: options.dir,
      // The operator has no --kubeconfig flag; controller-runtime reads this variable.
      KUBECONFIG: kubeconfig,
      DISABLE_LEADER_ELECTION: "true",
      METRICS_PORT: String(metrics),
      HEALTH_PROBE_PORT: String(health),
      INSTANCE_TYPES_FILE_PATH: types,
      LOG_LEVEL: "debug",
    });
    const ready = `http://127.0.0.1:${health}/readyz`;
    await readyOrStopped(component, () => waitReady(component, ready, async () => (await probe(ready))?.status === 200, 120_000));
    return new Karpenter(component);
  }

  stop(): Promise<void> {
    return stopComponent(this.component);
  }
}
