/**
 * Monitoring with the Prometheus operator: a ServiceMonitor on the statsd exporter and a PrometheusRule
 * with the alerts a team needs on day one. The Airflow expressions read the names the exporter gives
 * Airflow's metrics (`STATSD_MAPPINGS`, and for unmapped names the dotted name with `_`); the others read
 * kube-state-metrics, the External Secrets Operator and KEDA, each scoped to this environment's namespace.
 */
import type { IPrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { PrometheusRule, ServiceMonitor } from "../kinds.js";
import { labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import type { Target } from "../target.js";
import type { Manifest } from "./types.js";

type Rule = NonNullable<NonNullable<IPrometheusRule["spec"]["groups"]>[number]["rules"]>[number];

export interface Alert {
  alert: string;
  expr: string;
  for: string;
  severity: "critical" | "warning";
  summary: string;
}

export function monitoring(config: Target): Manifest[] {
  if (!config.monitoring.prometheusOperator) return [];
  const n = names(config);
  const extra = config.monitoring.labels;
  const serviceMonitor = new ServiceMonitor({
    metadata: { name: n.statsdService, namespace: n.namespace, labels: { ...labels(config, "statsd"), ...extra } },
    spec: {
      selector: { matchLabels: selectorLabels(config, "statsd") },
      endpoints: [{ port: "statsd-scrape", path: "/metrics", interval: config.monitoring.scrapeInterval }],
    },
  });
  const rule = new PrometheusRule({
    metadata: { name: n.alertRule, namespace: n.namespace, labels: { ...labels(config, "airflow"), ...extra } },
    spec: { groups: [{ name: `${config.name}.${n.namespace}`, rules: alerts(config).map((a) => toRule(a, n.namespace)) }] },
  });
  return [
    { component: "statsd", object: toKubeObject(serviceMonitor) },
    { component: "airflow", object: toKubeObject(rule) },
  ];
}

/** `namespace` on every alert, for Alertmanager to route each environment's alerts (the expressions aggregate it away). */
function toRule(alert: Alert, namespace: string): Rule {
  return {
    alert: alert.alert,
    expr: alert.expr,
    for: alert.for,
    labels: { severity: alert.severity, namespace },
    annotations: { summary: alert.summary },
  };
}

/** The alerts of one build, in the order the rule file lists them. */
export function alerts(config: Target): Alert[] {
  const n = names(config);
  const ns = n.namespace;
  const statsd = `namespace="${ns}", job="${n.statsdService}"`;
  const heartbeat = (metric: string) => `(sum(rate(${metric}{${statsd}}[5m])) or vector(0)) == 0`;
  const { taskFailurePercent, queuedMinutes } = config.monitoring.alerts;
  const finished = (metric: string) => `sum(rate(${metric}{${statsd}}[30m]))`;
  const list: Alert[] = [
    {
      alert: "AirflowSchedulerHeartbeatMissing",
      expr: heartbeat("airflow_scheduler_heartbeat"),
      for: "5m",
      severity: "critical",
      summary: `No scheduler of ${ns} has sent a heartbeat for 10 minutes: no task is being scheduled.`,
    },
    {
      alert: "AirflowTriggererHeartbeatMissing",
      expr: heartbeat("airflow_triggerer_heartbeat"),
      for: "5m",
      severity: "critical",
      summary: `No triggerer of ${ns} has sent a heartbeat for 10 minutes: deferred tasks do not resume.`,
    },
    {
      alert: "AirflowDagImportErrors",
      expr: `max(airflow_dag_processing_import_errors{${statsd}}) > 0`,
      for: "10m",
      severity: "warning",
      summary: `The dag-processor of ${ns} reports {{ $value }} DAG files that fail to import (Browse > DAG import errors).`,
    },
    {
      alert: "AirflowExecutorSlotsExhausted",
      expr: `max(airflow_executor_open_slots{${statsd}}) == 0`,
      for: "10m",
      severity: "warning",
      summary: `The executor of ${ns} has had no open slot for 10 minutes: [core] parallelism is reached and tasks wait.`,
    },
    {
      alert: "AirflowPoolStarving",
      expr: `max by (pool) (airflow_pool_starving_tasks{${statsd}}) > 0`,
      for: "15m",
      severity: "warning",
      summary: `Pool {{ $labels.pool }} of ${ns} has had tasks waiting for a slot for 15 minutes.`,
    },
    {
      alert: "AirflowTaskFailureRateHigh",
      expr:
        // A counter exists from its first increment: with no success yet, every finished task failed.
        `${finished("airflow_ti_failures")} / (${finished("airflow_ti_failures")} + (${finished("airflow_ti_successes")} or vector(0))) * 100 ` +
        `> ${taskFailurePercent}`,
      for: "15m",
      severity: "warning",
      summary: `{{ $value | humanize }}% of the tasks that finished in ${ns} in the last 30 minutes failed (threshold ${taskFailurePercent}%).`,
    },
    {
      alert: "AirflowTasksStuckQueued",
      expr: `min(min_over_time(airflow_executor_queued_tasks{${statsd}}[${queuedMinutes}m])) > 0`,
      for: "5m",
      severity: "warning",
      summary: `The executor queue of ${ns} has not been empty for ${queuedMinutes} minutes: task pods are not starting.`,
    },
    {
      alert: "AirflowMigrationJobFailed",
      expr: `max(kube_job_status_failed{namespace="${ns}", job_name="${n.component("migrations")}"}) > 0`,
      for: "0m",
      severity: "critical",
      summary: `The database migration Job of ${ns} failed: the Airflow components wait for it (kubectl -n ${ns} logs job/${n.component("migrations")}).`,
    },
    {
      alert: "AirflowExternalSecretNotSynced",
      expr: `max by (name) (externalsecret_status_condition{namespace="${ns}", condition="Ready", status="False"}) == 1`,
      for: "10m",
      severity: "warning",
      summary: `ExternalSecret {{ $labels.name }} of ${ns} has not synced from Parameter Store for 10 minutes (kubectl -n ${ns} describe externalsecret {{ $labels.name }}).`,
    },
  ];
  if (config.environment?.autoscaling?.engine === "keda") {
    list.push({
      alert: "AirflowKedaScalerErrors",
      expr: `sum by (scaledObject) (increase(keda_scaled_object_errors_total{namespace="${ns}", scaledObject=~"${config.name}-.*"}[5m])) > 0`,
      for: "5m",
      severity: "warning",
      summary: `KEDA reports errors for ScaledObject {{ $labels.scaledObject }} of ${ns}: its replicas may not follow the peak hours.`,
    });
  }
  return list;
}
