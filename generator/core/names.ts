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
] as const;
export type Component = (typeof COMPONENTS)[number];

/** Components whose pods run Airflow itself and therefore read airflow.cfg and the Airflow secrets. */
export const AIRFLOW_COMPONENTS = ["api-server", "scheduler", "dag-processor", "triggerer", "worker", "migrations"] as const;

export function names(config: Pick<Config, "name" | "namespace">) {
  const n = config.name;
  return {
    namespace: config.namespace,
    component: (c: Component) => `${n}-${c}`,
    serviceAccount: (c: Component) => `${n}-${c}`,
    airflowConfigMap: `${n}-config`,
    statsdConfigMap: `${n}-statsd-mappings`,
    apiServerService: `${n}-api-server`,
    statsdService: `${n}-statsd`,
    ingress: `${n}-api-server`,
    podLauncherRole: `${n}-pod-launcher`,
    podLogReaderRole: `${n}-pod-log-reader`,
    dagsClaim: `${n}-dags`,
    logsClaim: `${n}-logs`,
    storageClass: `${n}-efs`,
    controlPlanePriorityClass: `${n}-control-plane`,
    networkPolicy: (what: string) => `${n}-${what}`,
  };
}
export type Names = ReturnType<typeof names>;
