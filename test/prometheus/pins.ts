/**
 * The Prometheus programs the monitoring suite builds from their Go modules: promtool, which checks and
 * unit-tests the generated PrometheusRule, and the statsd exporter at the release the generated
 * Deployment runs (`components.statsd.image`), which turns real Airflow's statsd lines into metrics.
 */
import type { SourceBuild } from "../cluster/module-build.js";

export const PROMETHEUS = { module: "github.com/prometheus/prometheus", version: "v0.316.0" } as const;

/**
 * Only promtool; `remove_all_sd` leaves out the service-discovery plugins (every cloud's SDK), which
 * rule checks never use. Prometheus's module versions are v0.<major><minor>.<patch>: v0.316.0 is 3.16.0.
 */
export const PROMTOOL_BUILD: SourceBuild = {
  name: "promtool",
  ...PROMETHEUS,
  packages: ["./cmd/promtool"],
  tags: ["remove_all_sd"],
  ldflags: "-s -w -X github.com/prometheus/common/version.Version=3.16.0",
};

/** The statsd exporter's module at the tag of the generated Deployment's default image. */
export function statsdExporterBuild(image: string): SourceBuild {
  const version = /:(v\d+\.\d+\.\d+)$/.exec(image)?.[1];
  if (!version) throw new Error(`the statsd exporter image ${image} has no vX.Y.Z tag to build the module at`);
  return {
    name: "statsd-exporter",
    module: "github.com/prometheus/statsd_exporter",
    version,
    packages: ["."],
    ldflags: `-s -w -X github.com/prometheus/common/version.Version=${version.slice(1)}`,
  };
}
