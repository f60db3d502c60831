/**
 * Rules that JSON Schema cannot express: each is a small named function from a schema-valid config
 * to the issues it finds.
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { allowedValues, hasStateStore, isSupportedLine, judgeOption, lineOf, SUPPORTED_LINES } from "./airflow-options.js";
import { majorMinor, tagVersion } from "./image-tag.js";
import { closest } from "./schema-check.js";
import { FAB_AUTH_MANAGER, MANAGED_AIRFLOW_OPTIONS, SECRET_AIRFLOW_OPTIONS } from "../shared/airflow-settings.js";
import { ENVIRONMENT_RULES, ENVIRONMENT_WARNING_RULES } from "./environment-rules.js";
import { connectionBudget } from "../shared/connection-budget.js";
import { environmentsHaveTheirOwnNamespace, environmentsOwnTheirNodePools, type LineOf } from "./namespace-rules.js";
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

/** Each entry with every Airflow line that reads it: a top-level entry is read by the base and every environment. */
function airflowOptionsByLine(config: Config): (AirflowOption & { lines: string[] })[] {
  const topLine = lineOf(config.airflow.image.tag);
  const envLine = (name: string) => lineOf(config.environments[name]!.airflow?.image?.tag ?? config.airflow.image.tag);
  const supported = (lines: (string | undefined)[]) => [...new Set(lines.filter((l): l is string => l !== undefined && isSupportedLine(l)))];
  return airflowOptions(config).map((entry) => {
    const env = /^environments\.([^.]+)\./.exec(entry.path)?.[1];
    const lines = env !== undefined ? [envLine(env)] : [topLine, ...Object.keys(config.environments).map(envLine)];
    return { ...entry, lines: supported(lines) };
  });
}

/** Airflow `line` of one release, for messages: `3.2 (3.2.2 here)`. */
function onLine(config: Config, line: string): string {
  const releases = [config.airflow.image.tag, ...Object.values(config.environments).map((e) => e.airflow?.image?.tag)]
    .filter((t): t is string => t !== undefined && lineOf(t) === line)
    .map(tagVersion);
  return `Airflow ${[...new Set(releases)].join(", ") || line}`;
}

export const airflowConfigOptionsExist: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  for (const { path, section, option, value, lines } of airflowOptionsByLine(config)) {
    for (const line of lines) {
      const issue = optionIssue(config, line, section, option, value);
      if (issue && !issues.has(path)) issues.set(path, { path, message: issue });
    }
  }
  return [...issues.values()];
};

function optionIssue(config: Config, line: string, section: string, option: string, value: unknown): string | undefined {
  const verdict = judgeOption(line, section, option);
  const on = onLine(config, line);
  switch (verdict.kind) {
    case "removed-section":
      return `section [${section}] is not read by ${on}; use [${verdict.to}]`;
    case "renamed":
      return verdict.stillRead ? undefined : `[${section}] ${option} is no longer read by ${on}; use ${fmt(verdict.to)}`;
    case "removed":
      return `[${section}] ${option} was removed in Airflow 3${verdict.suggestion ? ` (${verdict.suggestion})` : ""}`;
    case "unknown-section": {
      if (verdict.elsewhere) return `section [${section}] is new in Airflow ${verdict.elsewhere.line}; ${on} does not read it`;
      const guess = closest(section, verdict.known) ?? verdict.known.find((known) => known.startsWith(`${section}_`));
      return `[${section}] is not a section of ${on} or of a provider its image ships${guess ? `; did you mean [${guess}]?` : ""}`;
    }
    case "unknown-option": {
      const other = verdict.elsewhere;
      if (other) {
        const newer = Number(other.line.split(".")[1]) > Number(line.split(".")[1]);
        return newer
          ? `[${section}] ${option} is new in Airflow ${other.line}${other.since ? ` (added in ${other.provider ? `${other.provider} ` : ""}${other.since})` : ""}; ${on} does not read it`
          : `[${section}] ${option} is read by Airflow ${other.line} but no longer by ${on}`;
      }
      const guess = closest(option, verdict.known);
      return `[${section}] has no option "${option}" in ${on}${guess ? `; did you mean "${guess}"?` : ""}`;
    }
    case "known": {
      const allowed = allowedValues(line, section, option);
      return allowed && !allowed.includes(String(value)) ? `must be one of ${allowed.join(", ")}, found ${JSON.stringify(value)}` : undefined;
    }
  }
}

/** Warnings: an old name still read, or an option its line deprecates. */
export const airflowConfigOptionsDeprecated: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  for (const { path, section, option, lines } of airflowOptionsByLine(config)) {
    for (const line of lines) {
      const verdict = judgeOption(line, section, option);
      const on = onLine(config, line);
      const message =
        verdict.kind === "renamed" && verdict.stillRead
          ? `[${section}] ${option} was renamed ${fmt(verdict.to)}${verdict.since ? ` in Airflow ${verdict.since}` : ""}; ${on} still reads the old name, a later release will not`
          : verdict.kind === "known" && verdict.deprecated !== undefined
            ? `[${section}] ${option} is deprecated in ${on}${verdict.deprecated ? `: ${verdict.deprecated}` : ""}`
            : undefined;
      if (message && !issues.has(path)) issues.set(path, { path, message });
    }
  }
  return [...issues.values()];
};

export const airflowConfigLeavesSecretsAndManagedOptionsAlone: Rule = (config) =>
  airflowOptionsByLine(config).flatMap(({ path, section, option, lines }): ConfigIssue[] => {
    const key = `${section}.${option}`;
    // An old name Airflow still reads stands for its new one: the generator's value under the new name wins.
    const renamedTo = lines.map((line) => judgeOption(line, section, option)).find((v) => v.kind === "renamed" && v.stillRead);
    const target = renamedTo?.kind === "renamed" ? renamedTo.to : key;
    const is = target !== key ? `is the old name of ${fmt(target)}, which is` : "is";
    if (SECRET_AIRFLOW_OPTIONS.has(target)) {
      return [{ path, message: `${is} a secret: it comes from AWS Parameter Store through an ExternalSecret, never from this file` }];
    }
    if (MANAGED_AIRFLOW_OPTIONS.has(target)) {
      return [{ path, message: `${is} set by the generator (${MANAGED_AIRFLOW_OPTIONS.get(target)}) and cannot be overridden` }];
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

/** The generator knows the options, commands and probes of its supported lines only. */
export const airflowLineIsSupported: Rule = (config) => {
  const supported = SUPPORTED_LINES.map((l) => `${l.line} (${l.release})`).join(" and ");
  return airflowTags(config).flatMap(({ path, tag }) => {
    const line = lineOf(tag);
    if (line === undefined) {
      return [{ path, message: `"${tagVersion(tag)}" does not start with the Airflow version the image holds (like ${SUPPORTED_LINES[0]!.release} or ${SUPPORTED_LINES[0]!.release}-acme.1): the version decides which options, commands and probes apply` }];
    }
    if (majorMinor(tag)![0] !== 3 || isSupportedLine(line)) return [];
    return [{ path, message: `Airflow ${tagVersion(tag)} is not a supported line; supported: ${supported}` }];
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

/** `airflow state-store clean` exists from the line that brought the task state store. */
export const stateStoreCleanNeedsItsLine: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  const targets = [
    { at: [] as string[], airflow: config.airflow },
    ...Object.entries(config.environments).map(([name, env]) => ({ at: ["environments", name], airflow: mergeOverrides(config.airflow, env.airflow) })),
  ];
  for (const { at, airflow } of targets) {
    if (airflow.stateStoreClean.enabled !== true || hasStateStore(lineOf(airflow.image.tag))) continue;
    const own = at.length > 0 && config.environments[at[1]!]!.airflow?.stateStoreClean?.enabled !== undefined;
    const path = joinPath([...(own ? at : []), "airflow", "stateStoreClean", "enabled"]);
    issues.set(path, { path, message: `needs Airflow 3.3 or later (the task state store and \`airflow state-store clean\` came with it); ${at.length ? at[1] : "the base"} runs ${tagVersion(airflow.image.tag)}` });
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
export const WARNING_RULES: readonly Rule[] = [airflowConfigOptionsDeprecated, connectionsFitTheDatabase, ...ENVIRONMENT_WARNING_RULES];

export const RULES: readonly Rule[] = [
  noControlCharacters,
  namespacesAreNotReserved,
  airflowConfigOptionsExist,
  airflowConfigLeavesSecretsAndManagedOptionsAlone,
  gitSyncAuthMatchesRepositoryUrl,
  airflowImageIsAirflow3,
  airflowLineIsSupported,
  argocdNamesKnownEnvironments,
  argocdDestinationIsServerOrName,
  adminUserNeedsFab,
  stateStoreCleanNeedsItsLine,
  vpcCidrsAreSet,
  logVolumeOffNeedsS3,
  logVolumeSameEverywhere,
  oneDagBuilder,
  podOperatorHasPod,
  podArgumentsUseKnownPlaceholders,
  environmentsHaveTheirOwnNamespace,
  environmentsOwnTheirNodePools,
  requestsFitUnderLimits,
  ...ENVIRONMENT_RULES,
  ...POD_RULES,
  ...AUTH_RULES,
];

function fmt(dotted: string): string {
  const [section, ...rest] = dotted.split(".");
  return `[${section}] ${rest.join(".")}`;
}
