/** Every object name the generator writes, derived in one place from the config's `name`. */
import type { Config } from "../config/schema.js";

export const COMPONENTS = [
  "api-server",
  "scheduler",
  "dag-processor",
  "triggerer",
  "statsd",
  "dag-sync",
  "worker",
  "migrations",
  "failed-pod-cleanup",
] as const;
export type Component = (typeof COMPONENTS)[number];

/** Components whose pods run Airflow itself and therefore read airflow.cfg and the Airflow secrets. */
export const AIRFLOW_COMPONENTS = ["api-server", "scheduler", "dag-processor", "triggerer", "worker", "migrations"] as const;

/** Parts that are not Airflow components but still get labels and files of their own. */
export type Part = Component | "admin-user" | "db-clean" | "state-store-clean" | "log-retention" | "task-pod-launcher" | "airflow" | "control-plane" | "peak-placeholder" | "peak-pool" | "external-secrets" | "argocd";

/**
 * Names of namespaced objects depend only on `name` (the namespace keeps environments apart);
 * cluster-scoped ones also carry the environment, so environments can share a cluster.
 */
export function names(config: Pick<Config, "name" | "namespace"> & { environment?: { name: string } }) {
  const n = config.name;
  const clusterWide = config.environment ? `${n}-${config.environment.name}` : n;
  return {
    namespace: config.namespace,
    component: (c: Component) => `${n}-${c}`,
    serviceAccount: (c: Component) => `${n}-${c}`,
    airflowConfigMap: `${n}-config`,
    statsdConfigMap: `${n}-statsd-mappings`,
    dagBuilderConfigMap: `${n}-dag-builder`,
    apiServerService: `${n}-api-server`,
    statsdService: `${n}-statsd`,
    alertRule: `${n}-alerts`,
    ingress: `${n}-api-server`,
    adminUserJob: `${n}-create-admin-user`,
    podLauncherRole: `${n}-pod-launcher`,
    podLogReaderRole: `${n}-pod-log-reader`,
    podCleanerRole: `${n}-pod-cleaner`,
    dagsClaim: `${n}-dags`,
    logsClaim: `${n}-logs`,
    storageClass: `${clusterWide}-efs`,
    controlPlanePriorityClass: `${clusterWide}-control-plane`,
    placeholderPriorityClass: `${clusterWide}-placeholder`,
    placeholder: `${n}-peak-placeholder`,
    peakNodePool: `${clusterWide}-peak`,
    secretStore: `${n}-parameter-store`,
    clusterSecretStore: `${clusterWide}-parameter-store`,
    externalSecretsServiceAccount: `${n}-external-secrets`,
    networkPolicy: (what: string) => `${n}-${what}`,
    cronJob: (what: string) => `${n}-${what}`,
    taskPodLauncherRole: `${n}-task-pod-launcher`,
    podAdmissionPolicy: `${clusterWide}-task-pods`,
  };
}
export type Names = ReturnType<typeof names>;
