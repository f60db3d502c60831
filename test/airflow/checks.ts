/** The checks of the Airflow suite, each failing with a message that names the cause. */
import { readFileSync } from "node:fs";
import type { AirflowHost } from "./harness.js";
import { describeProbe, probeBudgetMs } from "./probes.js";
import type { Started } from "./processes.js";
import type { Container, PodSpec } from "./rendered.js";

/** `section.option` -> value of an ini text (the first definition, as configparser with strict=False keeps the last: forbid duplicates instead). */
export function iniOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = "";
  for (const line of text.split("\n")) {
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1]!.toLowerCase();
    const option = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (option && section) {
      const key = `${section}.${option[1]!.toLowerCase()}`;
      if (out.has(key)) throw new Error(`airflow.cfg sets ${key} twice`);
      out.set(key, option[2]!.trim());
    }
  }
  return out;
}

/**
 * Airflow loads the configuration `container` sees with no unknown option, no deprecated option and no
 * warning, and reads every option of its airflow.cfg and AIRFLOW__* environment back as written.
 */
export async function checkConfiguration(host: AirflowHost, spec: PodSpec, container: Container, label: string): Promise<void> {
  const report = await host.configReport(spec, container);
  const expected = new Map<string, string>();
  const cfgMount = container.volumeMounts?.find((m) => m.mountPath.endsWith("/airflow.cfg"));
  if (!cfgMount) throw new Error(`${label}: no airflow.cfg is mounted`);
  for (const [k, v] of iniOptions(readFileSync(host.layout.hostPath(cfgMount.mountPath), "utf8"))) expected.set(k, v);
  for (const [name, value] of Object.entries(host.env(container))) {
    const m = /^AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)$/.exec(name);
    if (m) expected.set(`${m[1]!.toLowerCase()}.${m[2]!.toLowerCase()}`, value);
  }
  const problems = [
    ...report.unknown.map((o) => `unknown option ${o}: Airflow and its providers define no such option`),
    ...report.deprecated.map((o) => `deprecated option ${o}`),
    ...report.warnings.map((w) => `warning while loading the configuration: ${w}`),
  ];
  for (const [key, value] of expected) {
    const read = report.values[key];
    if (read !== value && !(read !== undefined && read !== null && read.trim() === value)) problems.push(`${key}: rendered ${JSON.stringify(value)}, Airflow reads ${JSON.stringify(read)}`);
  }
  if (problems.length) throw new Error(`${label}: Airflow rejects its configuration:\n  - ${problems.join("\n  - ")}`);
}

export interface ProbeTimes {
  startupMs?: number;
  readinessMs?: number;
  livenessMs?: number;
}

/** startup (within its budget), then readiness and liveness, as the kubelet would run them. */
export async function checkProbes(host: AirflowHost, container: Container, process: Started, label: string): Promise<ProbeTimes> {
  const times: ProbeTimes = {};
  if (!container.startupProbe && !container.readinessProbe && !container.livenessProbe) throw new Error(`${label}: the container has no probe`);
  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
    const probe = container[kind];
    if (!probe) continue;
    const result = await host.probe(kind, container, process);
    if (!result) continue;
    if (!result.passed) {
      throw new Error(
        `${label}: ${kind} (${describeProbe(probe)}) failed after ${result.attempts} attempt(s) in ${(result.elapsedMs / 1000).toFixed(1)} s ` +
          `(budget ${probeBudgetMs(probe) / 1000} s): ${result.lastFailure}\n${host.logOf(process)}`,
      );
    }
    times[kind.replace("Probe", "Ms") as keyof ProbeTimes] = result.elapsedMs;
  }
  return times;
}
