/**
 * Two environments deployed to the same namespace of the same cluster would have two Argo CD
 * Applications owning the same objects. The same namespace on different clusters is fine.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";

/** Where a field is in the file, as ` (line N)`, or "" when unknown. */
export type LineOf = (path: string) => string;

/** Argo CD's name for the cluster it runs in, also the destination when none is given. */
const IN_CLUSTER = "https://kubernetes.default.svc";

function clusterOf(config: Config, env: string): { key: string; words: string } {
  const argo = config.argocd.environments[env];
  if (argo?.name) return { key: `name:${argo.name}`, words: `cluster "${argo.name}"` };
  const server = argo?.server ?? IN_CLUSTER;
  return { key: `server:${server}`, words: server === IN_CLUSTER ? "the cluster Argo CD runs in" : `cluster ${server}` };
}

export const environmentsHaveTheirOwnNamespace = (config: Config, lineOf: LineOf = () => ""): ConfigIssue[] => {
  const seen = new Map<string, { env: string; path: string }>();
  const issues: ConfigIssue[] = [];
  for (const [env, settings] of Object.entries(config.environments)) {
    const namespace = settings.namespace ?? config.namespace;
    const path = settings.namespace !== undefined ? joinPath(["environments", env, "namespace"]) : joinPath(["environments", env]);
    const cluster = clusterOf(config, env);
    const key = `${cluster.key}\0${namespace}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { env, path });
      continue;
    }
    const inherited = (e: string, p: string) => (p.endsWith(".namespace") ? "" : ` (inherited from namespace${lineOf("namespace")})`);
    issues.push({
      path,
      message:
        `environments ${first.env}${lineOf(first.path)} and ${env}${lineOf(path)} both deploy to namespace "${namespace}"` +
        `${inherited(env, path) || inherited(first.env, first.path)} on ${cluster.words}: two Argo CD Applications would own the same objects; ` +
        `give each environment a namespace of its own (environments.<env>.namespace) or a different cluster (argocd.environments.<env>)`,
    });
  }
  return issues;
};
