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

/**
 * Airflow names a metric two ways: a legacy name with its variables in it (`pool.open_slots.<pool>`) and
 * the registry name with them as tags (`pool.open_slots`, `airflow/_shared/observability/metrics/
 * metrics_template.yaml`). Plain statsd carries no tags, so the registry name arrives as one series that
 * every pool overwrites in turn, and under the name the legacy one is mapped to: it is dropped (`tagless`),
 * or the exporter would refuse one of the two for their different label sets.
 */
const FAMILIES: readonly { match: string; name: string; labels: Record<string, string>; tagless?: string }[] = [
  { match: "airflow.dag.*.*.duration", name: "airflow_task_duration", labels: { dag_id: "$1", task_id: "$2" }, tagless: "airflow.task.duration" },
  { match: "airflow.dagrun.duration.success.*", name: "airflow_dagrun_duration", labels: { dag_id: "$1", state: "success" }, tagless: "airflow.dagrun.duration.success" },
  { match: "airflow.dagrun.duration.failed.*", name: "airflow_dagrun_duration", labels: { dag_id: "$1", state: "failed" }, tagless: "airflow.dagrun.duration.failed" },
  { match: "airflow.dagrun.schedule_delay.*", name: "airflow_dagrun_schedule_delay", labels: { dag_id: "$1" }, tagless: "airflow.dagrun.schedule_delay" },
  // Both lines send `<bundle>.<file>` (3.2's registry documents the file alone).
  { match: "airflow.dag_processing.last_duration.*.*", name: "airflow_dag_processing_last_duration", labels: { bundle: "$1", dag_file: "$2" }, tagless: "airflow.dag_processing.last_duration" },
  // 3.3 sends the registry name too, untagged; 3.2 only the legacy one.
  { match: "airflow.dag_processing.last_run.seconds_ago.*", name: "airflow_dag_processing_last_run_seconds_ago", labels: { dag_file: "$1" }, tagless: "airflow.dag_processing.last_run.seconds_ago" },
  { match: "airflow.pool.open_slots.*", name: "airflow_pool_open_slots", labels: { pool: "$1" }, tagless: "airflow.pool.open_slots" },
  { match: "airflow.pool.queued_slots.*", name: "airflow_pool_queued_slots", labels: { pool: "$1" }, tagless: "airflow.pool.queued_slots" },
  { match: "airflow.pool.running_slots.*", name: "airflow_pool_running_slots", labels: { pool: "$1" }, tagless: "airflow.pool.running_slots" },
  { match: "airflow.pool.deferred_slots.*", name: "airflow_pool_deferred_slots", labels: { pool: "$1" }, tagless: "airflow.pool.deferred_slots" },
  { match: "airflow.pool.scheduled_slots.*", name: "airflow_pool_scheduled_slots", labels: { pool: "$1" }, tagless: "airflow.pool.scheduled_slots" },
  { match: "airflow.pool.starving_tasks.*", name: "airflow_pool_starving_tasks", labels: { pool: "$1" }, tagless: "airflow.pool.starving_tasks" },
  { match: "airflow.ti.start.*.*", name: "airflow_ti_start", labels: { dag_id: "$1", task_id: "$2" }, tagless: "airflow.ti.start" },
  { match: "airflow.ti.finish.*.*.*", name: "airflow_ti_finish", labels: { dag_id: "$1", task_id: "$2", state: "$3" }, tagless: "airflow.ti.finish" },
  { match: "airflow.triggers.running.*", name: "airflow_triggers_running", labels: { hostname: "$1" }, tagless: "airflow.triggers.running" },
];

/** Turns Airflow's dotted metric names into Prometheus metrics with labels; other names keep theirs with `_` for `.`. */
export const STATSD_MAPPINGS = {
  mappings: [
    ...FAMILIES.flatMap(({ tagless }) => (tagless ? [{ match: tagless, name: "dropped", action: "drop" }] : [])),
    ...FAMILIES.map(({ match, name, labels }) => ({ match, name, labels })),
  ],
};

/** Each legacy pattern with the registry name whose untagged twin is dropped, for the test that reads Airflow's registry. */
export const STATSD_FAMILIES = FAMILIES;

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
                // Airflow sends over UDP; the exporter's default TCP listener would be one more open port.
                "--statsd.listen-tcp=",
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
