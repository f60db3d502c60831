/**
 * The metadata database connections an environment's Airflow processes can hold at once, at the most
 * replicas each may run (fixed, autoscaled or raised for peak hours). Each process has one SQLAlchemy pool
 * of up to `[database] sql_alchemy_pool_size + sql_alchemy_max_overflow` connections (one at a time
 * with the pool off); the api-server runs `[api] workers` processes. Task pods hold none: in Airflow 3
 * they reach the metadata through the api-server's Execution API. The one-off Jobs (migrations, admin
 * user, db clean) are left out: they run beside the others only briefly.
 */
import type { Config, EnvironmentConfig } from "../config/schema.js";

/** Airflow 3's defaults for the options the budget reads (airflow/config_templates/config.yml). */
const DEFAULTS = { pool_enabled: true, pool_size: 5, max_overflow: 10, api_workers: 1, parallelism: 32 };

export interface ConnectionBudget {
  total: number;
  /** `scheduler 4 × 15`, one per component, in a fixed order. */
  parts: string[];
  /** `[core] parallelism` × the most schedulers: the task pods the environment may run at once. */
  taskConcurrency: { parallelism: number; schedulers: number };
}

type Option = string | number | boolean | undefined;

function option(config: Config, env: EnvironmentConfig, section: string, key: string): Option {
  const own = (env.airflow?.config as Record<string, Record<string, Option>> | undefined)?.[section]?.[key];
  return own ?? (config.airflow.config as Record<string, Record<string, Option>>)[section]?.[key];
}

const integer = (value: Option, fallback: number) => (value === undefined || !/^\d+$/.test(String(value)) ? fallback : Number(value));
const boolean = (value: Option, fallback: boolean) => (value === undefined ? fallback : /^true$/i.test(String(value)));

export function connectionBudget(config: Config, name: string): ConnectionBudget {
  const env = config.environments[name]!;
  const perProcess = boolean(option(config, env, "database", "sql_alchemy_pool_enabled"), DEFAULTS.pool_enabled)
    ? integer(option(config, env, "database", "sql_alchemy_pool_size"), DEFAULTS.pool_size) +
      integer(option(config, env, "database", "sql_alchemy_max_overflow"), DEFAULTS.max_overflow)
    : 1;
  const apiWorkers = integer(option(config, env, "api", "workers"), DEFAULTS.api_workers);
  const most = (key: "apiServer" | "scheduler" | "dagProcessor" | "triggerer") => {
    if (key === "apiServer" || key === "scheduler") {
      const scaled = env.autoscaling?.[key];
      if (scaled) return Math.max(scaled.max, env.peakHours?.replicas[key] ?? 0);
    }
    return env.components?.[key]?.replicas ?? config.components[key].replicas;
  };
  const rows = [
    { label: "scheduler", replicas: most("scheduler"), processes: 1 },
    { label: "api-server", replicas: most("apiServer"), processes: apiWorkers },
    { label: "dag-processor", replicas: most("dagProcessor"), processes: 1 },
    { label: "triggerer", replicas: most("triggerer"), processes: 1 },
  ];
  return {
    total: rows.reduce((sum, r) => sum + r.replicas * r.processes * perProcess, 0),
    parts: rows.map((r) => `${r.label} ${r.replicas}${r.processes > 1 ? ` × ${r.processes} workers` : ""} × ${perProcess}`),
    taskConcurrency: { parallelism: integer(option(config, env, "core", "parallelism"), DEFAULTS.parallelism), schedulers: most("scheduler") },
  };
}
