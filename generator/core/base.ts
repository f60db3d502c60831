/**
 * Every object of one build of the Airflow deployment. Given the shared config it is the Kustomize
 * base; given an environment's resolved config it is what that environment's overlay must build.
 */
import type { Config } from "../config/schema.js";
import type { Target } from "./target.js";
import { adminUser } from "./components/admin-user.js";
import { airflowConfigMap } from "./components/airflow-config.js";
import { airflowJobs } from "./components/airflow-jobs.js";
import { apiServer } from "./components/api-server.js";
import { autoscaling } from "./components/autoscaling.js";
import { disruptionBudgets } from "./components/disruption-budgets.js";
import { peakNodePool } from "./components/peak-node-pool.js";
import { warmCapacity } from "./components/warm-capacity.js";
import { clusterObjects } from "./components/cluster.js";
import { dagSync } from "./components/dag-sync.js";
import { maintenance } from "./components/maintenance.js";
import { migrations } from "./components/migrations.js";
import { monitoring } from "./components/monitoring.js";
import { networkPolicies } from "./components/network-policies.js";
import { rbac } from "./components/rbac.js";
import { serviceAccounts } from "./components/service-accounts.js";
import { statsd } from "./components/statsd.js";
import { storage } from "./components/storage.js";
import type { BaseContext, Manifest } from "./components/types.js";
import { checksum } from "./hash.js";
import { memoizedByObject } from "./memo.js";
import { adminUserSecret, gitCredentials } from "./secret-refs.js";
import { secretsManifests } from "./secrets.js";
import { withSyncWaves } from "./sync-waves.js";
import { layerFiles } from "./layer.js";
import type { GeneratedFile } from "./manifest.js";

import { withKubeletText } from "./kubelet-text.js";
import { podAdmission } from "./components/pod-admission.js";
import { withPodHatches } from "./pod-hatches.js";

export const BASE_DIR = "base";

export const buildManifests = memoizedByObject(function buildManifests(config: Target): Manifest[] {
  const configMap = airflowConfigMap(config);
  const secrets = secretChecksums(config);
  const ctx: BaseContext = {
    airflowPodAnnotations: {
      "checksum/airflow-config": checksum(configMap.object.data),
      ...(secrets ? { "checksum/airflow-secrets": secrets.airflow } : {}),
    },
    dagSyncPodAnnotations: secrets?.git ? { "checksum/git-credentials": secrets.git } : {},
  };
  const manifests = withSyncWaves([
    ...clusterObjects(config),
    ...serviceAccounts(config),
    ...rbac(config),
    ...podAdmission(config),
    configMap,
    ...storage(config),
    ...apiServer(config, ctx),
    ...airflowJobs(config, ctx),
    ...statsd(config),
    ...monitoring(config),
    ...dagSync(config, ctx),
    ...migrations(config, ctx),
    ...adminUser(config, ctx),
    ...maintenance(config, ctx),
    ...networkPolicies(config),
    ...disruptionBudgets(config),
    ...autoscaling(config),
    ...warmCapacity(config),
    ...peakNodePool(config),
  ]);
  // The hatches go on last and as written: a `$(NAME)` in them is the kubelet's to expand, as the user meant.
  return manifests.map((m) => ({ ...m, object: withPodHatches(config.pods, withKubeletText(m.object)) }));
});

export function baseLayer(config: Config): GeneratedFile[] {
  return layerFiles(BASE_DIR, buildManifests(config));
}

/**
 * Checksums of the ExternalSecret specs an environment's pods read, so changing a parameter name
 * rolls them. The base belongs to no environment and has none.
 */
function secretChecksums(config: Target): { airflow: string; git?: string } | undefined {
  if (!config.environment) return undefined;
  const specs = secretsManifests(config).filter(({ object }) => object.kind === "ExternalSecret");
  const git = gitCredentials(config).secretName;
  // The admin password is read once, by the user Job; a change must not roll the long-running pods.
  const notRead = new Set([git, adminUserSecret(config).secretName]);
  const airflow = specs.filter(({ object }) => !notRead.has(object.metadata.name ?? "")).map(({ object }) => object.spec);
  const gitSpec = specs.find(({ object }) => object.metadata.name === git)?.object.spec;
  return { airflow: checksum(airflow), ...(gitSpec ? { git: checksum(gitSpec) } : {}) };
}
