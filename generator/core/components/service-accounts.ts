/** One ServiceAccount per component; only those that call the Kubernetes API get a token mounted. */
import { ServiceAccount } from "../kinds.js";
import type { IamConfig } from "../../config/schema.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { COMPONENTS, names, type Component } from "../names.js";
import type { Manifest } from "./types.js";

/** Components that talk to the Kubernetes API: launching, reading and cleaning up pods; task pods only when they launch pods. */
function needsApiToken(config: Target, component: Component): boolean {
  if (component === "worker") return config.components.worker.podLauncher.enabled;
  return component === "scheduler" || component === "api-server" || component === "triggerer" || component === "failed-pod-cleanup";
}

/** The `iam.roles` entry that gives each component its AWS identity under IRSA. */
const IAM_ROLE_OF: Partial<Record<Component, keyof IamConfig["roles"]>> = {
  "api-server": "apiServer",
  scheduler: "scheduler",
  "dag-processor": "dagProcessor",
  triggerer: "triggerer",
  worker: "worker",
  "dag-sync": "dagSync",
};

export function serviceAccounts(config: Target): Manifest[] {
  const n = names(config);
  return COMPONENTS.map((component) => ({
    component,
    object: toKubeObject(
      new ServiceAccount({
        metadata: {
          name: n.serviceAccount(component),
          namespace: n.namespace,
          labels: labels(config, component),
          ...irsaAnnotations(config, component),
        },
        automountServiceAccountToken: needsApiToken(config, component),
      }),
    ),
  }));
}

/** Under IRSA, the role ARN on the ServiceAccount; under Pod Identity the association lives in the EKS API instead. */
function irsaAnnotations(config: Target, component: Component): { annotations?: Record<string, string> } {
  const iam = config.environment?.iam;
  const roleKey = IAM_ROLE_OF[component];
  const role = iam?.mode === "irsa" && roleKey ? iam.roles[roleKey] : undefined;
  if (!role) return {};
  return { annotations: { "eks.amazonaws.com/role-arn": role, "eks.amazonaws.com/sts-regional-endpoints": "true" } };
}
