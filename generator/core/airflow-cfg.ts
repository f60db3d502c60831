/**
 * airflow.cfg: what the generator must set for the deployment to work (managed, not overridable),
 * sensible production defaults (overridable), and the user's entries, rendered as INI text.
 */
import type { Target } from "./target.js";
import { names } from "./names.js";
import { usesDagBuilder } from "./components/dag-builder.js";
import {
  API_SERVER_PORT,
  DAGS_MOUNT,
  GIT_LINK,
  LOGS_MOUNT,
  POD_TEMPLATE_PATH,
  STATSD_INGEST_PORT,
  TRIGGERER_LOG_PORT,
} from "./paths.js";
import { FAB_AUTH_MANAGER } from "../shared/airflow-settings.js";
import { isSupportedLine, judgeOption, lineOf } from "../config/airflow-options.js";

function launchRetriesKnown(config: Target): boolean {
  const line = lineOf(config.airflow.image.tag);
  return line !== undefined && isSupportedLine(line) && judgeOption(line, "kubernetes_executor", "pod_launch_failure_retries").kind === "known";
}

type Sections = Record<string, Record<string, string | number | boolean>>;

export function dagsFolder(config: Target): string {
  if (usesDagBuilder(config)) return DAGS_MOUNT;
  const sub = config.dags.gitSync.subPath;
  return sub ? `${DAGS_MOUNT}/${GIT_LINK}/${sub}` : `${DAGS_MOUNT}/${GIT_LINK}`;
}

/** The URL users reach the UI at, from the ingress host: https when the load balancer has a certificate. */
export function apiBaseUrl(config: Target): string | undefined {
  const { host } = config.ingress;
  return host ? `${servesHttps(config) ? "https" : "http"}://${host}/` : undefined;
}

/** The load balancer has a certificate: the one configured, or the one ACM holds for the host (the controller discovers it). */
export function servesHttps(config: Target): boolean {
  return Boolean(config.ingress.certificateArn || config.ingress.host);
}

/** The Execution API address task pods call: the api-server Service (`[api] base_url` never has a path here). */
export function executionApiServerUrl(config: Target): string {
  const n = names(config);
  return `http://${n.apiServerService}.${n.namespace}.svc.cluster.local:${API_SERVER_PORT}/execution/`;
}

function managedOptions(config: Target): Sections {
  const n = names(config);
  return {
    core: {
      executor: "KubernetesExecutor",
      dags_folder: dagsFolder(config),
      execution_api_server_url: executionApiServerUrl(config),
    },
    kubernetes_executor: {
      pod_template_file: POD_TEMPLATE_PATH,
      namespace: n.namespace,
      multi_namespace_mode: false,
    },
    logging: {
      ...remoteLogging(config),
      base_log_folder: LOGS_MOUNT,
      trigger_log_server_port: TRIGGERER_LOG_PORT,
    },
    metrics: { statsd_on: true, statsd_host: n.statsdService, statsd_port: STATSD_INGEST_PORT },
    api: { host: "0.0.0.0", port: API_SERVER_PORT, ...(apiBaseUrl(config) ? { base_url: apiBaseUrl(config)! } : {}) },
  };
}

/** The S3 folder of this build's task logs, when they go to S3. */
export function s3LogFolder(config: Target): string | undefined {
  const folder = config.storage.logs.s3BaseFolder;
  if (!folder) return undefined;
  // The base belongs to no environment: a per-environment folder is set by each overlay.
  if (!config.environment) return folder.includes("{env}") ? undefined : folder;
  return folder.replaceAll("{env}", config.environment.name);
}

/**
 * Remote logging to S3 with the pod's own IAM identity: `remote_log_conn_id` stays at its empty default,
 * so the Amazon provider uses the default AWS credential chain (IRSA or Pod Identity) and no key is stored.
 */
function remoteLogging(config: Target): Sections[string] {
  const folder = s3LogFolder(config);
  if (!folder) return { remote_logging: false };
  return {
    remote_logging: true,
    remote_base_log_folder: folder,
    // Without the shared volume the local copy is scratch space; with it, keep it for the api-server.
    delete_local_logs: !config.storage.logs.volume,
  };
}

/** Production defaults that depend on the build: token claims per environment, parsing order for several processors. */
function computedDefaults(config: Target): Sections {
  const n = names(config);
  const issuer = `urn:airflow-gitops:${config.name}:${config.environment?.name ?? n.namespace}`;
  return {
    // Tokens of one environment are refused by another, even if a JWT secret is ever shared: the issuer is
    // signed and checked. The audience stays at its default (see api_auth.jwt_audience in airflow-settings).
    api_auth: { jwt_issuer: issuer },
    ...(config.components.dagProcessor.replicas > 1
      ? { dag_processor: { file_parsing_sort_mode: "random_seeded_by_host" } }
      : {}),
    // cncf.kubernetes 10.20+ requeues a task whose pod died before its container started, costing no task retry
    // (default once). Peak nodes come and go every day: a pending pod may lose its node and then meet the next
    // node's boot race. Twice covers that; a pod failing more often has a real fault (an image that never pulls),
    // which -1 would requeue forever.
    ...(launchRetriesKnown(config) ? { kubernetes_executor: { pod_launch_failure_retries: 2 } } : {}),
  };
}

/** Production defaults a user may override in `airflow.config`. */
const DEFAULT_OPTIONS: Sections = {
  core: {
    load_examples: false,
    auth_manager: FAB_AUTH_MANAGER,
    // DAG files live on EFS (NFS): imports are slower than on local disk.
    dagbag_import_timeout: 120,
  },
  dag_processor: { dag_file_processor_timeout: 180 },
  // Failed pods stay for debugging until the failed-pod-cleanup CronJob removes them.
  kubernetes_executor: { delete_worker_pods: true, delete_worker_pods_on_failure: false, worker_pods_creation_batch_size: 16 },
  logging: { colored_console_log: false },
  metrics: { statsd_prefix: "airflow" },
  api: { expose_config: false },
  fab: { enable_proxy_fix: true },
};

export function airflowCfgSections(config: Target): Sections {
  const merged: Sections = {};
  for (const layer of [DEFAULT_OPTIONS, computedDefaults(config), config.airflow.config, managedOptions(config)]) {
    for (const [section, entries] of Object.entries(layer)) merged[section] = { ...merged[section], ...entries };
  }
  return merged;
}

export function renderAirflowCfg(sections: Sections): string {
  return Object.keys(sections)
    .sort()
    .map((section) => {
      const entries = sections[section]!;
      const lines = Object.keys(entries)
        .sort()
        .map((key) => `${key} = ${iniValue(entries[key]!)}`);
      return `[${section}]\n${lines.join("\n")}\n`;
    })
    .join("\n");
}

function iniValue(value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  // Airflow reads airflow.cfg with configparser interpolation, where a literal % is written %%.
  return String(value).replace(/%/g, "%%");
}
