/** The Prometheus statsd exporter: Airflow sends statsd metrics, Prometheus scrapes them here. */
import { ConfigMap, Service } from "../kinds.js";
import type { IHTTPGetAction } from "kubernetes-models/v1/HTTPGetAction";
import type { Target } from "../target.js";
import { yamlText } from "../yaml-text.js";
import { checksum } from "../hash.js";
import { labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { STATSD_INGEST_PORT, STATSD_MAPPINGS_KEY, STATSD_SCRAPE_PORT, STATSD_UID } from "../paths.js";
import { containerSecurityContext, podSecurityContext, resources } from "../pod.js";
import { componentDeployment } from "../workload.js";
import type { Manifest } from "./types.js";

const MAPPINGS_DIR = "/etc/statsd-exporter";

/** Turns Airflow's dotted metric names into Prometheus metrics with labels. */
export const STATSD_MAPPINGS = {
  mappings: [
    { match: "airflow.dag.*.*.duration", name: "airflow_task_duration", labels: { dag_id: "$1", task_id: "$2" } },
    { match: "airflow.dagrun.duration.success.*", name: "airflow_dagrun_duration", labels: { dag_id: "$1", state: "success" } },
    { match: "airflow.dagrun.duration.failed.*", name: "airflow_dagrun_duration", labels: { dag_id: "$1", state: "failed" } },
    { match: "airflow.dagrun.schedule_delay.*", name: "airflow_dagrun_schedule_delay", labels: { dag_id: "$1" } },
    { match: "airflow.dag_processing.last_duration.*", name: "airflow_dag_processing_last_duration", labels: { dag_file: "$1" } },
    { match: "airflow.dag_processing.last_run.seconds_ago.*", name: "airflow_dag_processing_last_run_seconds_ago", labels: { dag_file: "$1" } },
    { match: "airflow.pool.open_slots.*", name: "airflow_pool_open_slots", labels: { pool: "$1" } },
    { match: "airflow.pool.queued_slots.*", name: "airflow_pool_queued_slots", labels: { pool: "$1" } },
    { match: "airflow.pool.running_slots.*", name: "airflow_pool_running_slots", labels: { pool: "$1" } },
    { match: "airflow.pool.starving_tasks.*", name: "airflow_pool_starving_tasks", labels: { pool: "$1" } },
    { match: "airflow.ti.start.*.*", name: "airflow_ti_start", labels: { dag_id: "$1", task_id: "$2" } },
    { match: "airflow.ti.finish.*.*.*", name: "airflow_ti_finish", labels: { dag_id: "$1", task_id: "$2", state: "$3" } },
  ],
};

export function statsd(config: Target): Manifest[] {
  const n = names(config);
  const mappingsText = yamlText(STATSD_MAPPINGS);
  const configMap = new ConfigMap({
    metadata: { name: n.statsdConfigMap, namespace: n.namespace, labels: labels(config, "statsd") },
    data: { [STATSD_MAPPINGS_KEY]: mappingsText },
  });
  const httpGet: IHTTPGetAction = { path: "/metrics", port: "statsd-scrape", scheme: "HTTP" };
  const deployment = componentDeployment(config, "statsd", {
    replicas: 1,
    podAnnotations: { "checksum/statsd-mappings": checksum(mappingsText) },
    pod: {
          securityContext: podSecurityContext(STATSD_UID, STATSD_UID),
          containers: [
            {
              name: "statsd-exporter",
              image: config.components.statsd.image,
              imagePullPolicy: "IfNotPresent",
              args: [
                `--statsd.mapping-config=${MAPPINGS_DIR}/${STATSD_MAPPINGS_KEY}`,
                `--statsd.listen-udp=:${STATSD_INGEST_PORT}`,
                `--web.listen-address=:${STATSD_SCRAPE_PORT}`,
              ],
              ports: [
                { name: "statsd-ingest", containerPort: STATSD_INGEST_PORT, protocol: "UDP" },
                { name: "statsd-scrape", containerPort: STATSD_SCRAPE_PORT, protocol: "TCP" },
              ],
              livenessProbe: { httpGet, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5 },
              readinessProbe: { httpGet, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5 },
              resources: resources(config.components.statsd.resources),
              securityContext: containerSecurityContext({ readOnlyRootFilesystem: true }),
              volumeMounts: [{ name: "mappings", mountPath: MAPPINGS_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: "mappings", configMap: { name: n.statsdConfigMap } }],
    },
  });
  const service = new Service({
    metadata: {
      name: n.statsdService,
      namespace: n.namespace,
      labels: labels(config, "statsd"),
      annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(STATSD_SCRAPE_PORT) },
    },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(config, "statsd"),
      ports: [
        { name: "statsd-ingest", port: STATSD_INGEST_PORT, targetPort: "statsd-ingest", protocol: "UDP" },
        { name: "statsd-scrape", port: STATSD_SCRAPE_PORT, targetPort: "statsd-scrape", protocol: "TCP" },
      ],
    },
  });
  return [
    { component: "statsd", object: toKubeObject(configMap) },
    { component: "statsd", object: toKubeObject(deployment) },
    { component: "statsd", object: toKubeObject(service) },
  ];
}
