/**
 * Rules that JSON Schema cannot express: each is a small named function from a schema-valid config
 * to the issues it finds.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { allowedValues, judgeOption } from "./airflow-options.js";
import { closest } from "./schema-check.js";
import { MANAGED_AIRFLOW_OPTIONS, SECRET_AIRFLOW_OPTIONS } from "../core/airflow-cfg.js";

export type Rule = (config: Config) => ConfigIssue[];

export const airflowConfigOptionsExist: Rule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [section, entries] of Object.entries(config.airflow.config)) {
    for (const [option, value] of Object.entries(entries)) {
      const path = joinPath(["airflow", "config", section, option]);
      const verdict = judgeOption(section, option);
      switch (verdict.kind) {
        case "removed-section":
          issues.push({ path, message: `section [${section}] is not read by Airflow 3; use [${verdict.to}]` });
          break;
        case "renamed":
          issues.push({ path, message: `[${section}] ${option} was renamed in Airflow 3; use ${fmt(verdict.to)}` });
          break;
        case "removed":
          issues.push({
            path,
            message: `[${section}] ${option} was removed in Airflow 3${verdict.suggestion ? ` (${verdict.suggestion})` : ""}`,
          });
          break;
        case "unknown-option": {
          const guess = closest(option, verdict.known);
          issues.push({
            path,
            message: `[${section}] has no option "${option}" in Airflow 3${guess ? `; did you mean "${guess}"?` : ""}`,
          });
          break;
        }
        case "known": {
          const allowed = allowedValues(section, option);
          if (allowed && !allowed.includes(String(value))) {
            issues.push({ path, message: `must be one of ${allowed.join(", ")}, found ${JSON.stringify(value)}` });
          }
          break;
        }
        case "unlisted-section":
          break;
      }
    }
  }
  return issues;
};

export const airflowConfigLeavesSecretsAndManagedOptionsAlone: Rule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [section, entries] of Object.entries(config.airflow.config)) {
    for (const option of Object.keys(entries)) {
      const key = `${section}.${option}`;
      const path = joinPath(["airflow", "config", section, option]);
      if (SECRET_AIRFLOW_OPTIONS.has(key)) {
        issues.push({ path, message: `is a secret: it comes from AWS Parameter Store through an ExternalSecret, never from this file` });
      } else if (MANAGED_AIRFLOW_OPTIONS.has(key)) {
        issues.push({ path, message: `is set by the generator (${MANAGED_AIRFLOW_OPTIONS.get(key)}) and cannot be overridden` });
      }
    }
  }
  return issues;
};

export const gitSyncAuthMatchesRepositoryUrl: Rule = (config) => {
  const { repository, auth } = config.dags.gitSync;
  const isSsh = repository.startsWith("git@") || repository.startsWith("ssh://");
  if (auth === "ssh" && !isSsh) {
    return [{ path: "dags.gitSync.auth", message: `is "ssh" but the repository URL ${repository} is not an SSH URL; use auth "https" or "none"` }];
  }
  if (auth !== "ssh" && isSsh) {
    return [{ path: "dags.gitSync.auth", message: `is "${auth}" but the repository URL ${repository} is an SSH URL; use auth "ssh"` }];
  }
  return [];
};

export const airflowImageIsAirflow3: Rule = (config) => {
  const major = /^v?(\d+)\.\d+/.exec(config.airflow.image.tag)?.[1];
  if (major !== undefined && major !== "3") {
    return [{ path: "airflow.image.tag", message: `Airflow ${config.airflow.image.tag} is not Airflow 3; this generator writes Airflow 3 deployments` }];
  }
  return [];
};

export const RULES: readonly Rule[] = [
  airflowConfigOptionsExist,
  airflowConfigLeavesSecretsAndManagedOptionsAlone,
  gitSyncAuthMatchesRepositoryUrl,
  airflowImageIsAirflow3,
];

function fmt(dotted: string): string {
  const [section, ...rest] = dotted.split(".");
  return `[${section}] ${rest.join(".")}`;
}
