/** One ServiceAccount per component; only those that call the Kubernetes API get a token mounted. */
import { ServiceAccount } from "kubernetes-models/v1";
import type { Config } from "../../config/schema.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { COMPONENTS, names, type Component } from "../names.js";
import type { Manifest } from "./types.js";

/** Components that talk to the Kubernetes API: launching pods, reading pod logs, or tasks that use it. */
const NEEDS_API_TOKEN: ReadonlySet<Component> = new Set(["scheduler", "api-server", "triggerer", "worker"]);

export function serviceAccounts(config: Config): Manifest[] {
  const n = names(config);
  return COMPONENTS.map((component) => ({
    component,
    object: toKubeObject(
      new ServiceAccount({
        metadata: { name: n.serviceAccount(component), namespace: n.namespace, labels: labels(config, component) },
        automountServiceAccountToken: NEEDS_API_TOKEN.has(component),
      }),
    ),
  }));
}
