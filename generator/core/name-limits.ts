/**
 * Names the controllers accept: every generated object's name (and each name a controller derives from
 * it) against the shortest limit of whatever reads it. The config's `name` (40) and an environment's
 * name (20) each fit their own limits, yet a name built from both can break a controller's, which only
 * the cluster would report, after the sync.
 */
import type { ConfigIssue } from "../config/issues.js";
import type { GeneratedFile } from "./manifest.js";

interface Limit {
  kind: string;
  limit: number;
  /** The name that is limited: the object's own unless a controller derives another from it. */
  derived?: (object: NamedObject) => string;
  why: string;
}

interface NamedObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { advanced?: { horizontalPodAutoscalerConfig?: { name?: string } }; template?: { metadata?: { labels?: Record<string, string> } } };
}

const LIMITS: readonly Limit[] = [
  { kind: "Service", limit: 63, why: "a Service name is a DNS label" },
  { kind: "Namespace", limit: 63, why: "a namespace name is a DNS label" },
  { kind: "Job", limit: 63, why: "the Job controller labels its pods job-name=<name>, and a label value has at most 63 characters" },
  { kind: "CronJob", limit: 52, why: "the API server refuses longer CronJob names: each Job is named <name>-<11 digits>" },
  { kind: "ScaledObject", limit: 63, why: "KEDA's admission webhook refuses it: the name is the scaledobject.keda.sh/name label value" },
  {
    kind: "ScaledObject",
    limit: 63,
    derived: (o) => o.spec?.advanced?.horizontalPodAutoscalerConfig?.name || `keda-hpa-${o.metadata.name}`,
    why: "KEDA's admission webhook refuses it: the HorizontalPodAutoscaler it names is a label value",
  },
  { kind: "NodePool", limit: 63, why: "Karpenter labels every node it starts karpenter.sh/nodepool=<name>" },
  { kind: "*", limit: 253, why: "an object name is a DNS subdomain" },
];

const LABEL_VALUE_LIMIT = 63;

/**
 * Every name over its limit, as an issue on the config field it is built from: the environment (its name
 * is in the generated name) or the top-level `name`.
 */
export function nameLimitIssues(files: readonly GeneratedFile[], config: { name: string }): ConfigIssue[] {
  const issues = new Map<string, ConfigIssue>();
  for (const file of files) {
    if (file.format !== "yaml") continue;
    const object = file.content as Partial<NamedObject>;
    if (typeof object.kind !== "string" || typeof object.metadata?.name !== "string") continue;
    const named = object as NamedObject;
    const environment = /^(?:overlays|secrets)\/([^/]+)\//.exec(file.path)?.[1];
    const field = (generated: string) =>
      environment && generated.includes(`${config.name}-${environment}`) ? `environments.${environment}` : "name";
    const report = (generated: string, what: string, limit: number, why: string) => {
      const path = field(generated);
      const built = path === "name" ? `name (${config.name.length} characters)` : `name (${config.name.length}) or the environment's name (${environment!.length})`;
      issues.set(`${path} ${what} ${generated}`, {
        path,
        message: `${what} "${generated}" is ${generated.length} characters, above ${limit}: ${why}; shorten ${built}`,
      });
    };
    for (const rule of LIMITS) {
      if (rule.kind !== "*" && rule.kind !== named.kind) continue;
      const generated = rule.derived ? rule.derived(named) : named.metadata.name;
      if (generated.length <= rule.limit) continue;
      report(generated, rule.derived ? `the HorizontalPodAutoscaler name of ScaledObject ${named.metadata.name}` : `the ${named.kind} name`, rule.limit, rule.why);
    }
    for (const labels of [named.metadata.labels, named.spec?.template?.metadata?.labels]) {
      for (const [key, value] of Object.entries(labels ?? {})) {
        if (value.length > LABEL_VALUE_LIMIT) report(value, `the label ${key} of ${named.kind} ${named.metadata.name}`, LABEL_VALUE_LIMIT, "a label value has at most 63 characters");
      }
    }
  }
  return [...issues.values()];
}
