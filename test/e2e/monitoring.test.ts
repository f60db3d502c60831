/**
 * The PrometheusRule of each overlay, as `kustomize build` renders it, checked by the real promtool: its
 * rules parse and lint clean (`promtool check rules`), and unit tests (`promtool test rules`) fire every
 * alert from the series that should raise it, with its labels and its summary as Alertmanager would get
 * them, and keep every alert quiet on a healthy installation's series.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { committedBuild } from "../helpers.js";
import { ensurePromtool, promtool } from "../prometheus/promtool.js";
import { tempDir } from "../temp-dirs.js";

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Series {
  series: string;
  values: string;
}

interface Case {
  /** The alert this case raises. */
  alert: string;
  /** Series that replace the healthy ones of the same metric. */
  series: Series[];
  evalTime: string;
  labels?: Record<string, string>;
  /** What the summary's template placeholders render to, in order. */
  rendered?: string[];
}

let binary: string;
beforeAll(async () => {
  binary = await ensurePromtool((line) => process.stderr.write(`[build] ${line}\n`));
}, 1_800_000);

const ENVIRONMENTS = [
  { env: "dev", namespace: "airflow-dev", failurePercent: 20 },
  { env: "prod", namespace: "airflow", failurePercent: 10 },
] as const;

function rulesOf(env: string): { groups: { name: string; rules: Rule[] }[] } {
  const rule = committedBuild(`overlays/${env}`).find((o) => o.kind === "PrometheusRule") as unknown as { spec: { groups: { name: string; rules: Rule[] }[] } };
  return rule.spec;
}

/** A healthy installation over `minutes`: heartbeats rising, nothing failing, slots open, the queue emptying. */
function healthy(namespace: string, minutes: number): Series[] {
  const statsd = `namespace="${namespace}", job="airflow-statsd"`;
  const alternating = Array.from({ length: minutes + 1 }, (_, i) => (i % 2 ? "0" : "3")).join(" ");
  return [
    { series: `airflow_scheduler_heartbeat{${statsd}}`, values: `0+12x${minutes}` },
    { series: `airflow_triggerer_heartbeat{${statsd}}`, values: `0+12x${minutes}` },
    { series: `airflow_dag_processing_import_errors{${statsd}}`, values: `0x${minutes}` },
    { series: `airflow_executor_open_slots{${statsd}}`, values: `60x${minutes}` },
    { series: `airflow_executor_queued_tasks{${statsd}}`, values: alternating },
    { series: `airflow_pool_starving_tasks{${statsd}, pool="default_pool"}`, values: `0x${minutes}` },
    { series: `airflow_ti_failures{${statsd}}`, values: `0+1x${minutes}` },
    { series: `airflow_ti_successes{${statsd}}`, values: `0+49x${minutes}` },
    { series: `kube_job_status_failed{namespace="${namespace}", job_name="airflow-migrations"}`, values: `0x${minutes}` },
    // Another installation's failed migration is not this one's.
    { series: `kube_job_status_failed{namespace="elsewhere", job_name="airflow-migrations"}`, values: `1x${minutes}` },
    { series: `externalsecret_status_condition{namespace="${namespace}", name="airflow-airflow", condition="Ready", status="True"}`, values: `1x${minutes}` },
    { series: `externalsecret_status_condition{namespace="${namespace}", name="airflow-airflow", condition="Ready", status="False"}`, values: `0x${minutes}` },
    { series: `keda_scaled_object_errors_total{namespace="${namespace}", scaledObject="airflow-scheduler"}`, values: `0x${minutes}` },
  ];
}

const MINUTES = 60;

function cases(namespace: string): Case[] {
  const statsd = `namespace="${namespace}", job="airflow-statsd"`;
  const stopsAt10 = `0+12x10 120x${MINUTES - 11}`;
  return [
    { alert: "AirflowSchedulerHeartbeatMissing", series: [{ series: `airflow_scheduler_heartbeat{${statsd}}`, values: stopsAt10 }], evalTime: "25m" },
    // An exporter restarted after the scheduler died has no series at all.
    { alert: "AirflowSchedulerHeartbeatMissing", series: [{ series: `airflow_scheduler_heartbeat{${statsd}}`, values: `_x${MINUTES}` }], evalTime: "10m" },
    { alert: "AirflowTriggererHeartbeatMissing", series: [{ series: `airflow_triggerer_heartbeat{${statsd}}`, values: stopsAt10 }], evalTime: "25m" },
    { alert: "AirflowDagImportErrors", series: [{ series: `airflow_dag_processing_import_errors{${statsd}}`, values: `2x${MINUTES}` }], evalTime: "15m", rendered: ["2"] },
    { alert: "AirflowExecutorSlotsExhausted", series: [{ series: `airflow_executor_open_slots{${statsd}}`, values: `0x${MINUTES}` }], evalTime: "15m" },
    {
      alert: "AirflowPoolStarving",
      series: [{ series: `airflow_pool_starving_tasks{${statsd}, pool="default_pool"}`, values: `4x${MINUTES}` }],
      evalTime: "20m",
      labels: { pool: "default_pool" },
      rendered: ["default_pool"],
    },
    {
      // 3 of every 10 tasks fail: 30%, above both environments' thresholds.
      alert: "AirflowTaskFailureRateHigh",
      series: [
        { series: `airflow_ti_failures{${statsd}}`, values: `0+3x${MINUTES}` },
        { series: `airflow_ti_successes{${statsd}}`, values: `0+7x${MINUTES}` },
      ],
      evalTime: "50m",
      rendered: ["30"],
    },
    {
      // Every task fails from the exporter's start: the success counter never appears.
      alert: "AirflowTaskFailureRateHigh",
      series: [
        { series: `airflow_ti_failures{${statsd}}`, values: `0+2x${MINUTES}` },
        { series: `airflow_ti_successes{${statsd}}`, values: `_x${MINUTES}` },
      ],
      evalTime: "30m",
      rendered: ["100"],
    },
    { alert: "AirflowTasksStuckQueued", series: [{ series: `airflow_executor_queued_tasks{${statsd}}`, values: `5x${MINUTES}` }], evalTime: "25m" },
    {
      alert: "AirflowMigrationJobFailed",
      series: [{ series: `kube_job_status_failed{namespace="${namespace}", job_name="airflow-migrations"}`, values: `0 0 1x${MINUTES - 2}` }],
      evalTime: "3m",
    },
    {
      alert: "AirflowExternalSecretNotSynced",
      series: [
        { series: `externalsecret_status_condition{namespace="${namespace}", name="airflow-airflow", condition="Ready", status="True"}`, values: `0x${MINUTES}` },
        { series: `externalsecret_status_condition{namespace="${namespace}", name="airflow-airflow", condition="Ready", status="False"}`, values: `1x${MINUTES}` },
      ],
      evalTime: "15m",
      labels: { name: "airflow-airflow" },
      rendered: ["airflow-airflow", "airflow-airflow"],
    },
    {
      alert: "AirflowKedaScalerErrors",
      series: [{ series: `keda_scaled_object_errors_total{namespace="${namespace}", scaledObject="airflow-scheduler"}`, values: `0+2x${MINUTES}` }],
      evalTime: "15m",
      labels: { scaledObject: "airflow-scheduler" },
      rendered: ["airflow-scheduler"],
    },
  ];
}

/** The healthy series with the case's own in place of those of the same name and labels. */
function seriesFor(namespace: string, replaced: Series[]): Series[] {
  const key = (s: Series) => s.series;
  const own = new Set(replaced.map(key));
  return [...healthy(namespace, MINUTES).filter((s) => !own.has(key(s))), ...replaced.filter((s) => !s.values.startsWith("_"))];
}

function render(summary: string, values: readonly string[] = []): string {
  let i = 0;
  return summary.replace(/\{\{[^}]*\}\}/g, () => values[i++] ?? "");
}

function writeTests(dir: string, rules: Rule[], namespace: string, extra: object[] = []): string {
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const quiet = {
    interval: "1m",
    input_series: healthy(namespace, MINUTES),
    alert_rule_test: rules.flatMap((r) => ["10m", "30m", "59m"].map((eval_time) => ({ eval_time, alertname: r.alert, exp_alerts: [] }))),
  };
  const firing = cases(namespace)
    .filter((c) => byName.has(c.alert))
    .map((c) => {
      const rule = byName.get(c.alert)!;
      return {
        name: `${c.alert} fires`,
        interval: "1m",
        input_series: seriesFor(namespace, c.series),
        alert_rule_test: [
          {
            eval_time: c.evalTime,
            alertname: c.alert,
            exp_alerts: [{ exp_labels: { severity: rule.labels.severity, namespace, ...(c.labels ?? {}) }, exp_annotations: { summary: render(rule.annotations.summary!, c.rendered) } }],
          },
        ],
      };
    });
  const file = join(dir, "rules.test.yaml");
  writeFileSync(file, stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: [quiet, ...firing, ...extra] }, { lineWidth: 0 }));
  return file;
}

describe.each(ENVIRONMENTS)("the $env overlay's PrometheusRule, with the real promtool", ({ env, namespace, failurePercent }) => {
  let dir: string;
  let rules: Rule[];
  beforeAll(() => {
    dir = tempDir(`airflow-gitops-rules-${env}-`);
    const spec = rulesOf(env);
    rules = spec.groups.flatMap((g) => g.rules);
    writeFileSync(join(dir, "rules.yaml"), stringify(spec));
  });

  it("passes promtool check rules, lint included", () => {
    const result = promtool(binary, ["check", "rules", "--lint=all", "--lint-fatal", "rules.yaml"], dir);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code).toBe(0);
  });

  it("every alert fires from its series with its labels and summary, and none fires on a healthy installation", () => {
    const covered = new Set(cases(namespace).map((c) => c.alert));
    expect(rules.map((r) => r.alert).filter((a) => !covered.has(a))).toEqual([]);
    expect(rules.some((r) => r.expr.includes(`> ${failurePercent}`))).toBe(true);
    writeTests(dir, rules, namespace);
    const result = promtool(binary, ["test", "rules", "rules.test.yaml"], dir);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("the tests can fail: a failure rate under the threshold raises nothing, and promtool says so", () => {
    const statsd = `namespace="${namespace}", job="airflow-statsd"`;
    const rule = rules.find((r) => r.alert === "AirflowTaskFailureRateHigh")!;
    // failurePercent - 1 of every 100 tasks fail: just under this environment's threshold.
    const under = {
      name: "under the threshold",
      interval: "1m",
      input_series: seriesFor(namespace, [
        { series: `airflow_ti_failures{${statsd}}`, values: `0+${failurePercent - 1}x${MINUTES}` },
        { series: `airflow_ti_successes{${statsd}}`, values: `0+${101 - failurePercent}x${MINUTES}` },
      ]),
      alert_rule_test: [{ eval_time: "50m", alertname: rule.alert, exp_alerts: [{ exp_labels: rule.labels }] }],
    };
    writeTests(dir, rules, namespace, [under]);
    const result = promtool(binary, ["test", "rules", "rules.test.yaml"], dir);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/alertname: AirflowTaskFailureRateHigh, time: 50m,[\s\S]*?got:\s*\[\]/);
  });
});
