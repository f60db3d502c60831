/**
 * Facts about airflow.cfg that both the config rules and the core need: the auth manager the
 * admin-user Job requires, and the options users may not set (secret ones, and those the manifests depend on).
 */

export const FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager";

/** `[fab] config_file` at its default: where single sign-on's settings are mounted. */
export const WEBSERVER_CONFIG_PATH = "/opt/airflow/webserver_config.py";

/** Options that carry secrets: only ever read from Secrets in the environment. */
export const SECRET_AIRFLOW_OPTIONS: ReadonlySet<string> = new Set([
  "core.fernet_key",
  "database.sql_alchemy_conn",
  "database.sql_alchemy_conn_async",
  "api.secret_key",
  "api_auth.jwt_secret",
]);

/** Options the manifests depend on, with the reason shown when a user tries to override one. */
export const MANAGED_AIRFLOW_OPTIONS: ReadonlyMap<string, string> = new Map([
  ["core.executor", "the deployment is built for the KubernetesExecutor"],
  ["core.dags_folder", "it must match where the DAG volume is mounted"],
  ["core.execution_api_server_url", "task pods reach the api-server Service at its in-cluster address"],
  ["kubernetes_executor.pod_template_file", "the pod template is mounted from the airflow ConfigMap"],
  ["kubernetes_executor.namespace", "task pods run in the configured namespace"],
  ["kubernetes_executor.multi_namespace_mode", "the RBAC is namespaced"],
  ["logging.base_log_folder", "it must match where the log volume is mounted"],
  ["logging.trigger_log_server_port", "the NetworkPolicies open this port"],
  ["logging.remote_logging", "it follows storage.logs.s3BaseFolder"],
  ["logging.remote_base_log_folder", "it is storage.logs.s3BaseFolder"],
  ["logging.remote_log_conn_id", "logs reach S3 with the pods' IAM roles, through no stored connection"],
  ["metrics.statsd_on", "metrics go to the bundled statsd exporter"],
  ["metrics.statsd_host", "metrics go to the bundled statsd exporter"],
  ["metrics.statsd_port", "metrics go to the bundled statsd exporter"],
  ["api.port", "the Service, probes and NetworkPolicies use this port"],
  ["api.host", "the api-server must listen on all interfaces inside its pod"],
  ["api.base_url", "it is the ingress URL (ingress.host, https with ingress.certificateArn)"],
  [
    "api_auth.jwt_audience",
    "Airflow 3.2 signs API tokens with the audience of [api] jwt_audience and checks them against [api_auth] jwt_audience, " +
      "so any value but the default refuses every login; tokens are bound to the environment by [api_auth] jwt_issuer instead",
  ],
]);
