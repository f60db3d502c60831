/**
 * Rules that JSON Schema cannot express: each is a small named function from a schema-valid config
 * to the issues it finds.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { allowedValues, judgeOption, OPTION_TABLE_SERIES } from "./airflow-options.js";
import { majorMinor, tagVersion } from "./image-tag.js";
import { closest } from "./schema-check.js";
import { FAB_AUTH_MANAGER, MANAGED_AIRFLOW_OPTIONS, SECRET_AIRFLOW_OPTIONS } from "../shared/airflow-settings.js";
import { ENVIRONMENT_RULES, ENVIRONMENT_WARNING_RULES } from "./environment-rules.js";
import { connectionBudget } from "../shared/connection-budget.js";
import { environmentsHaveTheirOwnNamespace, type LineOf } from "./namespace-rules.js";
import { requestsFitUnderLimits } from "./resource-rules.js";
import { namespacesAreNotReserved, noControlCharacters } from "./injection-rules.js";
import { POD_RULES } from "./pod-rules.js";
import { AUTH_RULES } from "./auth-rules.js";
import { adminUserEnabled } from "../shared/sign-in.js";
import { mergeOverrides } from "../shared/overrides.js";

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

/** The admin user Job runs FAB's `airflow users create`, which another auth manager does not have. */
export const adminUserNeedsFab: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  for (const [name, env] of Object.entries(config.environments)) {
    const enabled = adminUserEnabled(mergeOverrides(config.airflow, env.airflow));
    const own = env.airflow?.config?.core?.auth_manager;
    const manager = String(own ?? config.airflow.config.core?.auth_manager ?? FAB_AUTH_MANAGER);
    if (!enabled || manager === FAB_AUTH_MANAGER) continue;
    const path = joinPath([...(own !== undefined ? ["environments", name] : []), "airflow", "config", "core", "auth_manager"]);
    issues.set(path, {
      path,
      message: `is ${manager}, but airflow.adminUser creates the first user with FAB's \`airflow users create\`; set airflow.adminUser.enabled: false`,
    });
  }
  return [...issues.values()];
};

/** Never an empty `from` in the api-server NetworkPolicy: that would admit every source. */
export const vpcCidrsAreSet: Rule = (config) =>
  config.ingress.vpcCidrs
    ? []
    : Object.entries(config.environments)
        .filter(([, env]) => !env.ingress?.vpcCidrs)
        .map(([name]) => ({
          path: joinPath(["environments", name, "ingress", "vpcCidrs"]),
          message:
            "is required (here or as ingress.vpcCidrs): the load balancer reaches the api-server pods from its addresses in the VPC, " +
            'which the NetworkPolicy must admit, e.g. ["10.0.0.0/16"]',
        }));

/** Without the shared volume, logs survive a deleted task pod only in S3. */
export const logVolumeOffNeedsS3: Rule = (config) =>
  Object.keys(config.environments).flatMap((name) => {
    const env = config.environments[name]!;
    const volume = env.storage?.logs?.volume ?? config.storage.logs.volume;
    const s3 = env.storage?.logs?.s3BaseFolder ?? config.storage.logs.s3BaseFolder;
    if (volume || s3) return [];
    const own = env.storage?.logs?.volume !== undefined;
    return [
      {
        path: joinPath([...(own ? ["environments", name] : []), "storage", "logs", "volume"]),
        message: `is false without storage.logs.s3BaseFolder${own ? "" : ` (environment ${name})`}: task logs would vanish with their pods`,
      },
    ];
  });

/**
 * The log volume is part of the base (the claim, every pod's mount): an environment's overlay cannot take
 * it away or add it, so the setting holds for every environment.
 */
export const logVolumeSameEverywhere: Rule = (config) =>
  Object.entries(config.environments).flatMap(([name, env]) => {
    const own = env.storage?.logs?.volume;
    if (own === undefined || own === config.storage.logs.volume) return [];
    return [
      {
        path: joinPath(["environments", name, "storage", "logs", "volume"]),
        message:
          `cannot differ from storage.logs.volume (${config.storage.logs.volume}): the log volume belongs to the base that every ` +
          "environment shares; set storage.logs.volume (and storage.logs.s3BaseFolder) at the top level instead",
      },
    ];
  });

export const oneDagBuilder: Rule = (config) =>
  config.dags.taskSpecs && config.dags.builder
    ? [{ path: "dags.builder", message: "use either the built-in builder (dags.taskSpecs) or a builder image (dags.builder), not both" }]
    : [];

export const podOperatorHasPod: Rule = (config) =>
  config.dags.taskSpecs?.operator === "pod" && !config.dags.taskSpecs.pod
    ? [{ path: "dags.taskSpecs.operator", message: 'operator "pod" needs dags.taskSpecs.pod with the image each task runs in' }]
    : [];

const POD_PLACEHOLDERS = ["sql_file", "task_id", "dag_id", "table", "conn_id"];

export const podArgumentsUseKnownPlaceholders: Rule = (config) => {
  const pod = config.dags.taskSpecs?.pod;
  if (!pod) return [];
  return (["command", "arguments"] as const).flatMap((key) =>
    pod[key].flatMap((value, index): ConfigIssue[] =>
      [...value.matchAll(/\{([^{}]*)\}/g)]
        .filter(([, name]) => !POD_PLACEHOLDERS.includes(name!))
        .map(([, name]) => ({
          path: `dags.taskSpecs.pod.${key}[${index}]`,
          message: `unknown placeholder {${name}}; known: ${POD_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
        })),
    ),
  );
};
/** The Airflow processes at their most replicas could open more database connections than the database takes. */
export const connectionsFitTheDatabase: Rule = (config) =>
  Object.keys(config.environments).flatMap((name): ConfigIssue[] => {
    const own = (config.environments[name]!.airflow as { database?: { maxConnections?: number } } | undefined)?.database?.maxConnections;
    const limit = own ?? config.airflow.database.maxConnections;
    if (limit === undefined) return [];
    const budget = connectionBudget(config, name);
    if (budget.total <= limit) return [];
    return [
      {
        path: own !== undefined ? `environments.${name}.airflow.database.maxConnections` : "airflow.database.maxConnections",
        message:
          `${name} can open ${budget.total} connections at its most replicas (replicas × pool: ${budget.parts.join(" + ")}), above maxConnections ${limit}: ` +
          "lower [database] sql_alchemy_pool_size or sql_alchemy_max_overflow, or the replica maxima, or raise the database's limit",
      },
    ];
  });

/** Rules whose findings do not stop generation: printed as warnings. */
export const WARNING_RULES: readonly Rule[] = [airflowNewerThanOptionTable, connectionsFitTheDatabase, ...ENVIRONMENT_WARNING_RULES];

export const RULES: readonly Rule[] = [
  noControlCharacters,
  namespacesAreNotReserved,
  airflowConfigOptionsExist,
  airflowConfigLeavesSecretsAndManagedOptionsAlone,
  gitSyncAuthMatchesRepositoryUrl,
  airflowImageIsAirflow3,
  argocdNamesKnownEnvironments,
  argocdDestinationIsServerOrName,
  adminUserNeedsFab,
  vpcCidrsAreSet,
  logVolumeOffNeedsS3,
  logVolumeSameEverywhere,
  oneDagBuilder,
  podOperatorHasPod,
  podArgumentsUseKnownPlaceholders,
  environmentsHaveTheirOwnNamespace,
  requestsFitUnderLimits,
  ...ENVIRONMENT_RULES,
  ...POD_RULES,
  ...AUTH_RULES,
];

function fmt(dotted: string): string {
  const [section, ...rest] = dotted.split(".");
  return `[${section}] ${rest.join(".")}`;
}
