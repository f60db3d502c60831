/**
 * Environments that share a cluster: two deployed to the same namespace of the same cluster would have two
 * Argo CD Applications owning the same objects, and so would two naming the same cluster-scoped object. The
 * generator qualifies every cluster-scoped name with the environment; the one name a user picks is the
 * Karpenter NodePool's (the `karpenter.sh/nodepool` label of the peak pool). Different clusters are fine.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { names } from "../core/names.js";

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

const POOL_LABEL = "karpenter.sh/nodepool";

/** Each NodePool the environments of one cluster make is written by exactly one of them. */
export const environmentsOwnTheirNodePools = (config: Config, lineOf: LineOf = () => ""): ConfigIssue[] => {
  const seen = new Map<string, { env: string; path: string }>();
  const issues: ConfigIssue[] = [];
  for (const [env, settings] of Object.entries(config.environments)) {
    const pool = settings.peakHours?.nodePool;
    if (!pool?.karpenter) continue;
    const labelled = pool.labels[POOL_LABEL];
    const name = labelled ?? names({ ...config, environment: { name: env } }).peakNodePool;
    const path = joinPath(["environments", env, "peakHours", "nodePool", ...(labelled ? ["labels", POOL_LABEL] : ["karpenter"])]);
    const cluster = clusterOf(config, env);
    const key = `${cluster.key}\0${name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { env, path });
      continue;
    }
    issues.push({
      path,
      message:
        `environments ${first.env}${lineOf(first.path)} and ${env}${lineOf(path)} both write the Karpenter NodePool "${name}" on ${cluster.words}: ` +
        `two Argo CD Applications would own it and undo each other's changes; give each environment's pool a name of its own ` +
        `(${POOL_LABEL} in peakHours.nodePool.labels) or let one environment use the other's pool without writing it (drop its peakHours.nodePool.karpenter)`,
    });
  }
  return issues;
};
