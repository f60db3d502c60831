/**
 * `monitoring`: the ServiceMonitor and the PrometheusRule of each build, the statsd mappings they read,
 * and bad input. The rules themselves are checked and unit-tested by the real promtool in
 * `test/e2e/monitoring.test.ts`.
 */
import { describe, expect, it } from "vitest";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { STATSD_MAPPINGS } from "../generator/core/components/statsd.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { committedBuild, exampleProblems, exampleText, exampleWith, loadForCore } from "./helpers.js";

const config = loadForCore(exampleText());
const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const ruleOf = (objects: any[]) => objects.find((o) => o.kind === "PrometheusRule");
const alertNames = (rule: any) => rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));

describe("with the Prometheus operator", () => {
  it("the ServiceMonitor scrapes the statsd Service's named port, labelled for the stack's selector", () => {
    const objects = committedBuild("overlays/prod");
    const monitor: any = objects.find((o) => o.kind === "ServiceMonitor");
    const service: any = objects.find((o) => o.kind === "Service" && o.metadata.name === "airflow-statsd");
    expect(monitor.metadata).toMatchObject({ name: "airflow-statsd", namespace: "airflow", labels: { release: "kube-prometheus-stack" } });
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[key]).toBe(value);
    expect(service.spec.ports.map((p: any) => p.name)).toContain(monitor.spec.endpoints[0].port);
    expect(monitor.spec.endpoints).toEqual([{ port: "statsd-scrape", path: "/metrics", interval: "30s" }]);
    expect(monitor.metadata.annotations["argocd.argoproj.io/sync-wave"]).toBe("1");
  });

  it("each overlay's rules read its own namespace and thresholds; the KEDA alert only where KEDA scales", () => {
    const dev = ruleOf(committedBuild("overlays/dev"));
    const prod = ruleOf(committedBuild("overlays/prod"));
    expect(dev.metadata).toMatchObject({ name: "airflow-alerts", namespace: "airflow-dev", labels: { release: "kube-prometheus-stack" } });
    const exprs = (rule: any) => rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr)).join("\n");
    expect(exprs(dev)).toContain('namespace="airflow-dev", job="airflow-statsd"');
    expect(exprs(dev)).not.toMatch(/namespace="airflow"[,}]/);
    expect(exprs(prod)).toMatch(/namespace="airflow"[,}]/);
    expect(exprs(dev)).toMatch(/\* 100 > 20$/m);
    expect(exprs(prod)).toMatch(/\* 100 > 10$/m);
    expect(alertNames(dev)).toEqual([
      "AirflowSchedulerHeartbeatMissing",
      "AirflowTriggererHeartbeatMissing",
      "AirflowDagImportErrors",
      "AirflowExecutorSlotsExhausted",
      "AirflowPoolStarving",
      "AirflowTaskFailureRateHigh",
      "AirflowTasksStuckQueued",
      "AirflowMigrationJobFailed",
      "AirflowExternalSecretNotSynced",
    ]);
    expect(resolveEnvironment(config, "prod").environment?.autoscaling?.engine).toBe("keda");
    expect(alertNames(prod)).toEqual([...alertNames(dev), "AirflowKedaScalerErrors"]);
    for (const rule of prod.spec.groups[0].rules) {
      expect(["critical", "warning"]).toContain(rule.labels.severity);
      expect(rule.labels.namespace).toBe("airflow");
      expect(rule.annotations.summary).toMatch(/\S/);
    }
  });

  it("off, no monitoring object is written, in the base or in an environment that turns it off", () => {
    const off = exampleWith((d) => delete d.monitoring);
    expect(objectsOf(off, "prod").filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/"))).toEqual([]);
    const devOff = exampleWith((d) => (d.environments.dev.monitoring = { prometheusOperator: false }));
    expect(objectsOf(devOff, "dev").filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/"))).toEqual([]);
    expect(objectsOf(devOff, "prod").filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/"))).toHaveLength(2);
  });
});

describe("the statsd mappings", () => {
  it("drop each registry name before the legacy pattern that takes its Prometheus name", () => {
    const mappings = STATSD_MAPPINGS.mappings as { match: string; name: string; action?: string }[];
    const drops = mappings.filter((m) => m.action === "drop").map((m) => m.match);
    expect(drops).toContain("airflow.pool.open_slots");
    expect(drops).toContain("airflow.task.duration");
    const firstMapping = mappings.findIndex((m) => m.action !== "drop");
    expect(mappings.slice(firstMapping).every((m) => m.action !== "drop")).toBe(true);
    // Every dropped name is exact (no glob), so no legacy name it shares a prefix with is lost.
    for (const drop of drops) expect(drop).not.toContain("*");
  });
});

describe("bad monitoring input", () => {
  it("names the file, the line and the field", () => {
    expect(exampleProblems((d) => (d.monitoring.alerts = { taskFailurePercent: 0 }))).toEqual([
      "airflow-gitops.yaml:93:25 monitoring.alerts.taskFailurePercent: must be >= 1, found 0",
    ]);
    expect(exampleProblems((d) => (d.monitoring.labels = { "bad key!": "x" }))).toEqual([
      'airflow-gitops.yaml:91:5 monitoring.labels["bad key!"]: invalid name "bad key!": must be a Kubernetes label key such as karpenter.sh/nodepool or node-type',
    ]);
    expect(exampleProblems((d) => (d.monitoring.prometheusOperater = true))).toEqual([
      'airflow-gitops.yaml:92:3 monitoring.prometheusOperater: unknown field "prometheusOperater"; did you mean "prometheusOperator"? Allowed: prometheusOperator, labels, scrapeInterval, alerts',
    ]);
    expect(exampleProblems((d) => (d.environments.prod.monitoring.alerts.queuedMinutes = "soon"))[0]).toMatch(
      /^airflow-gitops\.yaml:\d+:\d+ environments\.prod\.monitoring\.alerts\.queuedMinutes: must be integer, found string "soon"$/,
    );
    expect(exampleProblems((d) => (d.monitoring.scrapeInterval = "30 seconds"))[0]).toMatch(/monitoring\.scrapeInterval: must be a duration/);
  });
});
