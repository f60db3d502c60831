/**
 * Rules that JSON Schema cannot express: each is a small named function from a schema-valid config
 * to the issues it finds.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { allowedValues, judgeOption, OPTION_TABLE_SERIES } from "./airflow-options.js";
import { majorMinor, tagVersion } from "./image-tag.js";
import { closest } from "./schema-check.js";
import { MANAGED_AIRFLOW_OPTIONS, SECRET_AIRFLOW_OPTIONS } from "../core/airflow-cfg.js";
import { ENVIRONMENT_RULES } from "./environment-rules.js";
import { environmentsHaveTheirOwnNamespace, type LineOf } from "./namespace-rules.js";
import { requestsFitUnderLimits } from "./resource-rules.js";

/** A rule gets the config and, to name other places in its message, a way to find a field's line. */
export type Rule = (config: Config, lineOf?: LineOf) => ConfigIssue[];

interface AirflowOption {
  path: string;
  section: string;
  option: string;
  value: unknown;
}

/** Every airflow.cfg entry of the file, at the top level and in each environment, with its path. */
function airflowOptions(config: Config): AirflowOption[] {
  const blocks: { at: string[]; sections: Record<string, Record<string, unknown>> }[] = [
    { at: ["airflow", "config"], sections: config.airflow.config },
    ...Object.entries(config.environments).flatMap(([name, env]) =>
      env.airflow?.config ? [{ at: ["environments", name, "airflow", "config"], sections: env.airflow.config as Record<string, Record<string, unknown>> }] : [],
    ),
  ];
  return blocks.flatMap(({ at, sections }) =>
    Object.entries(sections).flatMap(([section, entries]) =>
      Object.entries(entries).map(([option, value]) => ({ path: joinPath([...at, section, option]), section, option, value })),
    ),
  );
}

export const airflowConfigOptionsExist: Rule = (config) =>
  airflowOptions(config).flatMap(({ path, section, option, value }): ConfigIssue[] => {
    const verdict = judgeOption(section, option);
    switch (verdict.kind) {
      case "removed-section":
        return [{ path, message: `section [${section}] is not read by Airflow 3; use [${verdict.to}]` }];
      case "renamed":
        return [{ path, message: `[${section}] ${option} was renamed in Airflow 3; use ${fmt(verdict.to)}` }];
      case "removed":
        return [{ path, message: `[${section}] ${option} was removed in Airflow 3${verdict.suggestion ? ` (${verdict.suggestion})` : ""}` }];
      case "unknown-option": {
        const guess = closest(option, verdict.known);
        return [{ path, message: `[${section}] has no option "${option}" in Airflow 3${guess ? `; did you mean "${guess}"?` : ""}` }];
      }
      case "known": {
        const allowed = allowedValues(section, option);
        return allowed && !allowed.includes(String(value))
          ? [{ path, message: `must be one of ${allowed.join(", ")}, found ${JSON.stringify(value)}` }]
          : [];
      }
      case "unlisted-section":
        return [];
    }
  });

export const airflowConfigLeavesSecretsAndManagedOptionsAlone: Rule = (config) =>
  airflowOptions(config).flatMap(({ path, section, option }): ConfigIssue[] => {
    const key = `${section}.${option}`;
    if (SECRET_AIRFLOW_OPTIONS.has(key)) {
      return [{ path, message: `is a secret: it comes from AWS Parameter Store through an ExternalSecret, never from this file` }];
    }
    if (MANAGED_AIRFLOW_OPTIONS.has(key)) {
      return [{ path, message: `is set by the generator (${MANAGED_AIRFLOW_OPTIONS.get(key)}) and cannot be overridden` }];
    }
    return [];
  });

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
  const tags = airflowTags(config);
  return tags.flatMap(({ path, tag }) => {
    const major = majorMinor(tag)?.[0];
    return major !== undefined && major !== 3
      ? [{ path, message: `Airflow ${tag} is not Airflow 3; this generator writes Airflow 3 deployments` }]
      : [];
  });
};

/**
 * Warnings: an Airflow newer than the option table may have renamed or removed options the table
 * still accepts, so the option check cannot be trusted blindly there.
 */
export const airflowNewerThanOptionTable: Rule = (config) => {
  const [tableMajor, tableMinor] = OPTION_TABLE_SERIES.split(".").map(Number) as [number, number];
  return airflowTags(config).flatMap(({ path, tag }) => {
    const version = majorMinor(tag);
    if (!version || version[0] !== tableMajor || version[1] <= tableMinor) return [];
    return [
      {
        path,
        message:
          `Airflow ${tagVersion(tag)} is newer than the airflow.cfg option table (Airflow ${OPTION_TABLE_SERIES}): ` +
          "options renamed or removed since then are not caught; check the release notes",
      },
    ];
  });
};

function airflowTags(config: Config): { path: string; tag: string }[] {
  return [
    { path: "airflow.image.tag", tag: config.airflow.image.tag },
    ...Object.entries(config.environments).flatMap(([name, env]) =>
      env.airflow?.image?.tag ? [{ path: joinPath(["environments", name, "airflow", "image", "tag"]), tag: env.airflow.image.tag }] : [],
    ),
  ];
}

export const argocdNamesKnownEnvironments: Rule = (config) => {
  const known = Object.keys(config.environments);
  return Object.keys(config.argocd.environments)
    .filter((name) => !known.includes(name))
    .map((name) => {
      const guess = closest(name, known);
      return {
        path: joinPath(["argocd", "environments", name]),
        message: `is not an environment${guess ? `; did you mean "${guess}"?` : ""} Known: ${known.join(", ")}`,
      };
    });
};

export const argocdDestinationIsServerOrName: Rule = (config) =>
  Object.entries(config.argocd.environments)
    .filter(([, env]) => env.server !== undefined && env.name !== undefined)
    .map(([name]) => ({
      path: joinPath(["argocd", "environments", name, "name"]),
      message: "cannot be set together with server: Argo CD takes the destination cluster by server URL or by name, not both",
    }));

/** Rules whose findings do not stop generation: printed as warnings. */
export const WARNING_RULES: readonly Rule[] = [airflowNewerThanOptionTable];

export const RULES: readonly Rule[] = [
  airflowConfigOptionsExist,
  airflowConfigLeavesSecretsAndManagedOptionsAlone,
  gitSyncAuthMatchesRepositoryUrl,
  airflowImageIsAirflow3,
  argocdNamesKnownEnvironments,
  argocdDestinationIsServerOrName,
  environmentsHaveTheirOwnNamespace,
  requestsFitUnderLimits,
  ...ENVIRONMENT_RULES,
];

function fmt(dotted: string): string {
  const [section, ...rest] = dotted.split(".");
  return `[${section}] ${rest.join(".")}`;
}
