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

/** What an environment claims on its cluster (a namespace, a NodePool name), at which field. */
interface Claim {
  env: string;
  what: string;
  path: string;
}

/** Every claim whose cluster and value an earlier environment already claimed, with that first claim. */
function secondClaims(config: Config, claims: readonly Claim[]): { first: Claim; second: Claim; cluster: string }[] {
  const seen = new Map<string, Claim>();
  const found: { first: Claim; second: Claim; cluster: string }[] = [];
  for (const claim of claims) {
    const cluster = clusterOf(config, claim.env);
    const key = `${cluster.key}\0${claim.what}`;
    const first = seen.get(key);
    if (first) found.push({ first, second: claim, cluster: cluster.words });
    else seen.set(key, claim);
  }
  return found;
}

export const environmentsHaveTheirOwnNamespace = (config: Config, lineOf: LineOf = () => ""): ConfigIssue[] => {
  const claims = Object.entries(config.environments).map(([env, settings]) => ({
    env,
    what: settings.namespace ?? config.namespace,
    path: settings.namespace !== undefined ? joinPath(["environments", env, "namespace"]) : joinPath(["environments", env]),
  }));
  const inherited = (c: Claim) => (c.path.endsWith(".namespace") ? "" : ` (inherited from namespace${lineOf("namespace")})`);
  return secondClaims(config, claims).map(({ first, second, cluster }) => ({
    path: second.path,
    message:
      `environments ${first.env}${lineOf(first.path)} and ${second.env}${lineOf(second.path)} both deploy to namespace "${second.what}"` +
      `${inherited(second) || inherited(first)} on ${cluster}: two Argo CD Applications would own the same objects; ` +
      `give each environment a namespace of its own (environments.<env>.namespace) or a different cluster (argocd.environments.<env>)`,
  }));
};

const POOL_LABEL = "karpenter.sh/nodepool";

/** Each NodePool the environments of one cluster make is written by exactly one of them. */
export const environmentsOwnTheirNodePools = (config: Config, lineOf: LineOf = () => ""): ConfigIssue[] => {
  const claims = Object.entries(config.environments).flatMap(([env, settings]) => {
    const pool = settings.peakHours?.nodePool;
    if (!pool?.karpenter) return [];
    const labelled = pool.labels[POOL_LABEL];
    return [
      {
        env,
        what: labelled ?? names({ ...config, environment: { name: env } }).peakNodePool,
        path: joinPath(["environments", env, "peakHours", "nodePool", ...(labelled ? ["labels", POOL_LABEL] : ["karpenter"])]),
      },
    ];
  });
  return secondClaims(config, claims).map(({ first, second, cluster }) => ({
    path: second.path,
    message:
      `environments ${first.env}${lineOf(first.path)} and ${second.env}${lineOf(second.path)} both write the Karpenter NodePool "${second.what}" on ${cluster}: ` +
      `two Argo CD Applications would own it and undo each other's changes; give each environment's pool a name of its own ` +
      `(${POOL_LABEL} in peakHours.nodePool.labels) or let one environment use the other's pool without writing it (drop its peakHours.nodePool.karpenter)`,
  }));
};
