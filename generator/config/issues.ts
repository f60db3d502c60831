/** A problem found in the user's config, located by field path and, where known, line and column. */
import { byCodeUnit } from "../shared/order.js";

export interface ConfigIssue {
  /** Field path in dotted form, e.g. `components.scheduler.replicas` (empty for the whole document). */
  path: string;
  message: string;
  line?: number;
  col?: number;
}

/** Thrown when the config cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem(s) in the configuration`);
    this.name = "ConfigError";
  }
}

/** `airflow-gitops.yaml:14:7 environments.prod.scheduler.replicas: must be integer >= 1` */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.col ?? 1}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

/** `airflow-gitops.yaml:24:8 airflow.image.tag: warning: ...` */
export function formatWarning(file: string, issue: ConfigIssue): string {
  return formatIssue(file, { ...issue, message: `warning: ${issue.message}` });
}

export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0) || byCodeUnit(a.path, b.path),
  );
}

export function joinPath(segments: readonly (string | number)[]): string {
  return segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : /^[A-Za-z_$][\w$-]*$/.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`))
    .join("");
}
