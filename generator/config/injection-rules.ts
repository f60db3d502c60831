/**
 * Rules that keep a config value from becoming something other than a value: a control character would
 * start a new line in airflow.cfg or a manifest, and a namespace the cluster or Argo CD owns would be
 * labelled, owned and, on deletion, pruned by an environment's Application.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import type { LineOf } from "./namespace-rules.js";
import { applicationsNamespace } from "../shared/argocd-namespaces.js";

// C0 controls (newline and tab included), DEL, C1 controls and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

function describe(char: string): string {
  const names: Record<string, string> = { "\n": "a newline", "\r": "a carriage return", "\t": "a tab" };
  return names[char] ?? `the control character U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

export const noControlCharacters = (config: Config): ConfigIssue[] => {
  const issues: ConfigIssue[] = [];
  const visit = (value: unknown, at: (string | number)[]): void => {
    if (typeof value === "string") {
      const found = CONTROL.exec(value);
      if (found) issues.push({ path: joinPath(at), message: `contains ${describe(found[0])}; every value must be one line of printable text` });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...at, i]));
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const found = CONTROL.exec(key);
        if (found) issues.push({ path: joinPath(at), message: `has a key with ${describe(found[0])}: ${JSON.stringify(key)}` });
        else visit(item, [...at, key]);
      }
    }
  };
  visit(config, []);
  return issues;
};

/** Namespaces Airflow must never be deployed into, with why; the Argo CD namespace comes from the config. */
function reservedNamespace(config: Config, namespace: string): string | undefined {
  if (namespace === "default") return "the cluster's default namespace";
  if (namespace.startsWith("kube-")) return "a namespace of the Kubernetes system (kube-*)";
  if (namespace === config.argocd.namespace) return `the Argo CD namespace (argocd.namespace): objects there can act as Argo CD`;
  if (namespace === applicationsNamespace(config)) return "the namespace of the environments' Argo CD Applications (argocd.applicationsNamespace)";
  if (namespace === "external-secrets") return "the External Secrets Operator's namespace";
  if (namespace === "keda") return "KEDA's namespace";
  if (namespace === "karpenter") return "Karpenter's namespace";
  return undefined;
}

export const namespacesAreNotReserved = (config: Config, lineOf: LineOf = () => ""): ConfigIssue[] => {
  const places: { path: string; namespace: string; inherited: boolean }[] = [
    { path: "namespace", namespace: config.namespace, inherited: false },
    ...Object.entries(config.environments).map(([env, settings]) =>
      settings.namespace !== undefined
        ? { path: joinPath(["environments", env, "namespace"]), namespace: settings.namespace, inherited: false }
        : { path: joinPath(["environments", env]), namespace: config.namespace, inherited: true },
    ),
  ];
  const taskPods = config.dags.taskSpecs?.pod?.namespace;
  if (taskPods !== undefined) places.push({ path: "dags.taskSpecs.pod.namespace", namespace: taskPods, inherited: false });
  const issues: ConfigIssue[] = [];
  for (const { path, namespace, inherited } of places) {
    const why = reservedNamespace(config, namespace);
    if (!why || (inherited && reservedNamespace(config, config.namespace))) continue;
    issues.push({
      path,
      message:
        `namespace "${namespace}"${inherited ? ` (inherited from namespace${lineOf("namespace")})` : ""} is ${why}; ` +
        `the environment's Application would own, label and on deletion prune it: choose a namespace of Airflow's own`,
    });
  }
  return issues;
};
