/** Paths inside Airflow containers, shared by airflow.cfg and the pod specs that must agree with it. */
export const AIRFLOW_HOME = "/opt/airflow";
export const AIRFLOW_CFG_PATH = `${AIRFLOW_HOME}/airflow.cfg`;
export const POD_TEMPLATE_DIR = `${AIRFLOW_HOME}/pod_templates`;
export const POD_TEMPLATE_KEY = "pod_template_file.yaml";
export const POD_TEMPLATE_PATH = `${POD_TEMPLATE_DIR}/${POD_TEMPLATE_KEY}`;
export const DAGS_MOUNT = `${AIRFLOW_HOME}/dags`;
export const LOGS_MOUNT = `${AIRFLOW_HOME}/logs`;
/** Where git-sync keeps its checkout; `repo` is the symlink to the current revision. */
export const GIT_ROOT = "/git";
export const GIT_LINK = "repo";
export const API_SERVER_PORT = 8080;
export const TRIGGERER_LOG_PORT = 8794;
export const STATSD_INGEST_PORT = 9125;
export const STATSD_SCRAPE_PORT = 9102;
export const STATSD_MAPPINGS_KEY = "mappings.yml";
export const AIRFLOW_UID = 50000;
export const GIT_SYNC_UID = 65533;
export const STATSD_UID = 65534;
