/**
 * The CustomResourceDefinitions the generated objects use, read from the projects' own Go modules at
 * pinned versions (`go mod download`), so the local API server enforces their real schemas and CEL rules.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { externalSecretsVersion } from "./binaries.js";
import { ARGOCD } from "./argocd-pin.js";
import { KARPENTER, KEDA } from "./controller-pins.js";

interface CrdSource {
  module: string;
  /**
   * The newest release whose go.mod the Go 1.26 toolchain accepts, unless `toolchain` names a newer one; for the
   * operators the suite runs (ESO, Argo CD), the release that runs.
   */
  version: string;
  /** The Go toolchain (`GOTOOLCHAIN`) the module's go.mod asks for, when newer than the one on PATH. */
  toolchain?: string;
  files: readonly string[];
}

export const CRD_SOURCES: readonly CrdSource[] = [
  {
    // The version of the operator built from external-secrets/go.mod, so the schemas are the ones it reads;
    // it serves external-secrets.io/v1, the version the generator writes. GeneratorState: the operator
    // watches it whatever the ExternalSecrets use.
    module: "github.com/external-secrets/external-secrets",
    version: externalSecretsVersion(),
    files: [
      "config/crds/bases/external-secrets.io_externalsecrets.yaml",
      "config/crds/bases/external-secrets.io_secretstores.yaml",
      "config/crds/bases/external-secrets.io_clustersecretstores.yaml",
      "config/crds/bases/generators.external-secrets.io_generatorstates.yaml",
    ],
  },
  {
    // The release the suite runs (keda.ts): every kind its operator watches.
    ...KEDA,
    files: [
      "keda.sh_scaledobjects.yaml",
      "keda.sh_scaledjobs.yaml",
      "keda.sh_triggerauthentications.yaml",
      "keda.sh_clustertriggerauthentications.yaml",
      "eventing.keda.sh_cloudeventsources.yaml",
      "eventing.keda.sh_clustercloudeventsources.yaml",
    ].map((file) => `config/crd/bases/${file}`),
  },
  {
    // The release the suite runs (argocd-pin.ts).
    module: ARGOCD.module,
    version: ARGOCD.version,
    toolchain: ARGOCD.toolchain,
    files: ["manifests/crds/application-crd.yaml", "manifests/crds/appproject-crd.yaml", "manifests/crds/applicationset-crd.yaml"],
  },
  {
    // The release the suite runs with its kwok provider (karpenter.ts): its core kinds and the provider's node
    // class. The generated NodePool names an EC2NodeClass, the AWS provider's, which no test creates.
    ...KARPENTER,
    files: [
      "pkg/apis/crds/karpenter.sh_nodepools.yaml",
      "pkg/apis/crds/karpenter.sh_nodeclaims.yaml",
      "pkg/apis/crds/karpenter.sh_nodeoverlays.yaml",
      "pkg/apis/crds/autoscaling.x-k8s.io_capacitybuffers.yaml",
      "kwok/apis/crds/karpenter.kwok.sh_kwoknodeclasses.yaml",
    ],
  },
  {
    // The kinds `monitoring.prometheusOperator` writes. No operator runs here: the API server checks them
    // against the operator's schemas, and Argo CD treats them as it does in a cluster with the operator.
    module: "github.com/prometheus-operator/prometheus-operator",
    version: "v0.89.0",
    files: ["monitoring.coreos.com_servicemonitors.yaml", "monitoring.coreos.com_prometheusrules.yaml"].map((file) => `example/prometheus-operator-crd/${file}`),
  },
];

export interface Crd {
  apiVersion: string;
  kind: "CustomResourceDefinition";
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** Where `go mod download` unpacked each module (downloading it once into the module cache). */
export function moduleDirs(modules: readonly { module: string; version: string; toolchain?: string }[]): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const toolchain of new Set(modules.map((m) => m.toolchain))) {
    for (const [path, dir] of download(modules.filter((m) => m.toolchain === toolchain), toolchain)) dirs.set(path, dir);
  }
  return dirs;
}

function download(modules: readonly { module: string; version: string }[], toolchain: string | undefined): Map<string, string> {
  const args = modules.map(({ module, version }) => `${module}@${version}`);
  const env = toolchain ? { ...process.env, GOTOOLCHAIN: toolchain } : process.env;
  let out: string;
  try {
    out = execFileSync("go", ["mod", "download", "-json", ...args], { cwd: tmpdir(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
  } catch (error) {
    out = String((error as { stdout?: unknown }).stdout ?? "");
    if (!out.includes("{")) throw new Error(`go mod download ${args.join(" ")}: ${String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim()}`);
  }
  const dirs = new Map<string, string>();
  for (const chunk of out.split(/\n(?=\{)/)) {
    const info = JSON.parse(chunk) as { Path: string; Version: string; Dir?: string; Error?: string };
    if (info.Error || !info.Dir) throw new Error(`go mod download ${info.Path}@${info.Version}: ${info.Error ?? "no directory reported"}`);
    dirs.set(info.Path, info.Dir);
  }
  return dirs;
}

export function moduleDir(module: string, version: string, toolchain?: string): string {
  return moduleDirs([{ module, version, toolchain }]).get(module)!;
}

export function pinnedCrds(): Crd[] {
  const dirs = moduleDirs(CRD_SOURCES);
  return CRD_SOURCES.flatMap(({ module, files }) => {
    const dir = dirs.get(module)!;
    return files.flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8"))
        .map((d) => d.toJS() as Crd | null)
        .filter((d): d is Crd => d?.kind === "CustomResourceDefinition"),
    );
  });
}
