/**
 * Rules over each environment that JSON Schema cannot express: autoscaling bounds, peak windows
 * and the settings they depend on, and AWS identities.
 */
import type { Config, EnvironmentConfig } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { describeWindow, leadTimeMinutes, minutesOfDay, overlappingWindows, parseDays } from "../shared/peak-windows.js";
import { clockChanges, inChange } from "../shared/clock-changes.js";
import { PATTERNS } from "./schema-kit.js";

type EnvironmentRule = (env: EnvironmentConfig, at: (...path: (string | number)[]) => string) => ConfigIssue[];

const SCALED = ["apiServer", "scheduler"] as const;

const autoscalingBoundsAreOrdered: EnvironmentRule = (env, at) =>
  SCALED.flatMap((component) => {
    const bounds = env.autoscaling?.[component];
    return bounds && bounds.min > bounds.max
      ? [{ path: at("autoscaling", component, "min"), message: `is ${bounds.min}, more than max ${bounds.max}` }]
      : [];
  });

const autoscaledComponentsHaveNoFixedReplicas: EnvironmentRule = (env, at) =>
  SCALED.flatMap((component) => {
    const replicas = env.components?.[component]?.replicas;
    return env.autoscaling?.[component] && replicas !== undefined
      ? [{ path: at("components", component, "replicas"), message: `conflicts with autoscaling.${component}: the autoscaler owns the replica count; remove one of them` }]
      : [];
  });

const peakReplicasFitTheAutoscaler: EnvironmentRule = (env, at) => {
  const peak = env.peakHours;
  if (!peak) return [];
  return SCALED.flatMap((component) => {
    const replicas = peak.replicas[component];
    if (replicas === undefined) return [];
    const path = at("peakHours", "replicas", component);
    const bounds = env.autoscaling?.[component];
    if (!bounds) return [{ path, message: `needs autoscaling.${component} (min and max) in this environment: peak replicas are a KEDA cron trigger` }];
    if (env.autoscaling?.engine === "hpa") {
      return [{ path, message: `needs autoscaling.engine "keda": a plain HPA has no time windows` }];
    }
    if (replicas > bounds.max) return [{ path, message: `is ${replicas}, above autoscaling.${component}.max ${bounds.max}` }];
    if (replicas < bounds.min) return [{ path, message: `is ${replicas}, below autoscaling.${component}.min ${bounds.min}, so the window would change nothing` }];
    return [];
  });
};

const peakTimezoneExists: EnvironmentRule = (env, at) => {
  const timezone = env.peakHours?.timezone;
  if (timezone === undefined || isTimeZone(timezone)) return [];
  return [{ path: at("peakHours", "timezone"), message: `"${timezone}" is not a known IANA time zone (like America/Sao_Paulo, Europe/Berlin or UTC)` }];
};

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const peakWindowsAreValid: EnvironmentRule = (env, at) => {
  const windows = env.peakHours?.windows ?? [];
  const issues: ConfigIssue[] = windows.flatMap((window, i) =>
    minutesOfDay(window.start) === minutesOfDay(window.end)
      ? [{ path: at("peakHours", "windows", i, "end"), message: `equals the start ${window.start}: the window is empty` }]
      : [],
  );
  // A window already reported (empty, or a field the schema refused) is not reported again as overlapping.
  const valid = windows.filter((w) => w.start !== w.end && isWindow(w));
  for (const [a, b] of overlappingWindows(valid)) {
    const [i, j] = [windows.indexOf(valid[a]!), windows.indexOf(valid[b]!)];
    issues.push({
      path: at("peakHours", "windows", j),
      message: `${describeWindow(windows[j]!)} overlaps windows[${i}] (${describeWindow(windows[i]!)}); merge them into one window`,
    });
  }
  return issues;
};

const matches = (pattern: keyof typeof PATTERNS, value: unknown) => typeof value === "string" && new RegExp(PATTERNS[pattern][0]).test(value);

function isWindow(window: { days: string; start: string; end: string }): boolean {
  return matches("weekDays", window.days) && matches("timeOfDay", window.start) && matches("timeOfDay", window.end);
}

const hhmm = (minute: number) => `${String(Math.floor(minute / 60) % 24).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;

/**
 * A start or end on a day the clocks change, at a local time that does not exist or happens twice. What
 * KEDA's cron scaler then does (it is active while its next end comes before its next start, with
 * robfig/cron's Next) was measured with its cron library on Europe/Berlin's 2026 changes.
 */
const peakWindowsAvoidClockChanges: EnvironmentRule = (env, at) => {
  const peak = env.peakHours;
  if (!peak || !isTimeZone(peak.timezone)) return [];
  const changes = clockChanges(peak.timezone);
  if (changes.length === 0) return [];
  const lead = peak.warmCapacity ? leadTimeMinutes(peak.warmCapacity.leadTime) : 0;
  return peak.windows.flatMap((window, i): ConfigIssue[] => {
    if (window.start === window.end || !isWindow(window)) return [];
    const days = parseDays(window.days);
    const start = minutesOfDay(window.start);
    const end = minutesOfDay(window.end);
    const edges = [
      { field: "start", what: `starts at ${window.start}`, minute: start, days, edge: "start" as const },
      ...(lead > 0
        ? [{ field: "start", what: `starts its placeholders at ${hhmm((start - lead + 1440) % 1440)} (leadTime ${peak.warmCapacity!.leadTime} before ${window.start})`, minute: (start - lead + 1440) % 1440, days: start - lead < 0 ? days.map((d) => (d + 6) % 7) : days, edge: "start" as const }]
        : []),
      { field: "end", what: `ends at ${window.end}`, minute: end, days: end < start ? days.map((d) => (d + 1) % 7) : days, edge: "end" as const },
    ];
    return edges.flatMap(({ field, what, minute, days: on, edge }) => {
      const change = changes.find((c) => on.includes(c.weekday) && inChange(c, minute));
      if (!change) return [];
      const clocks =
        change.kind === "gap"
          ? `${hhmm(minute)} does not exist in ${peak.timezone} on ${change.date} (the clocks jump from ${hhmm(change.from)} to ${hhmm(change.to)})`
          : `${hhmm(minute)} happens twice in ${peak.timezone} on ${change.date} (the clocks go back from ${hhmm(change.to)} to ${hhmm(change.from)})`;
      const effect =
        change.kind === "fold"
          ? `KEDA's cron scaler ${edge === "start" ? "starts" : "ends"} it at the second ${hhmm(minute)}, ${change.to - change.from} minutes late`
          : edge === "start"
            ? "KEDA's cron scaler skips that start and holds the peak from the window's previous end to this one"
            : "KEDA's cron scaler skips that end, and the window does not happen that day";
      return [{ path: at("peakHours", "windows", i, field), message: `the window ${what}: ${clocks}; ${effect}; move it out of ${hhmm(change.from)}-${hhmm(change.to)}` }];
    });
  });
};

const MAX_LEAD_MINUTES = 12 * 60;

const warmCapacityHasAPool: EnvironmentRule = (env, at) => {
  const peak = env.peakHours;
  const warm = peak?.warmCapacity;
  if (!peak || !warm) return [];
  const issues: ConfigIssue[] = [];
  if (!peak.nodePool) {
    issues.push({ path: at("peakHours", "warmCapacity"), message: "needs peakHours.nodePool: placeholders hold nodes of the peak pool, so they must know its labels" });
  }
  if (env.autoscaling?.engine === "hpa") {
    issues.push({ path: at("peakHours", "warmCapacity"), message: `needs autoscaling.engine "keda": placeholders are started by a KEDA cron trigger` });
  }
  if (leadTimeMinutes(warm.leadTime) > MAX_LEAD_MINUTES) {
    issues.push({ path: at("peakHours", "warmCapacity", "leadTime"), message: `is ${warm.leadTime}; at most 12h` });
  }
  return issues;
};

/** Label domains Karpenter sets itself and refuses in a NodePool template. */
const KARPENTER_RESERVED = /^(karpenter\.sh|karpenter\.k8s\.aws|([a-z0-9-]+\.)*kubernetes\.io|k8s\.io)\//;

const karpenterPoolLabelsAreSettable: EnvironmentRule = (env, at) => {
  const pool = env.peakHours?.nodePool;
  if (!pool?.karpenter) return [];
  return Object.keys(pool.labels)
    .filter((key) => key !== "karpenter.sh/nodepool" && KARPENTER_RESERVED.test(key))
    .map((key) => ({
      path: at("peakHours", "nodePool", "labels", key),
      message: "is a label Karpenter reserves; use karpenter.sh/nodepool or a label of your own domain",
    }));
};

const podIdentityNamesNoRoles: EnvironmentRule = (env, at) => {
  const iam = env.iam;
  if (iam?.mode !== "podIdentity" || Object.keys(iam.roles).length === 0) return [];
  return [
    {
      path: at("iam", "roles"),
      message:
        "must be empty with podIdentity: the manifests then carry no role and no serviceAccountRef; " +
        "associate the roles with the ServiceAccounts through the EKS API instead",
    },
  ];
};

const irsaHasASecretsRole: EnvironmentRule = (env, at) => {
  if ((env.iam?.mode ?? "irsa") !== "irsa" || env.iam?.roles.secrets) return [];
  return [
    {
      path: env.iam ? at("iam", "roles") : at(),
      message:
        "needs iam.roles.secrets: with IRSA the External Secrets Operator reads Parameter Store as that role " +
        '(or set iam.mode: podIdentity and associate the role with the operator through the EKS API)',
    },
  ];
};

const RULES: readonly EnvironmentRule[] = [
  autoscalingBoundsAreOrdered,
  autoscaledComponentsHaveNoFixedReplicas,
  peakReplicasFitTheAutoscaler,
  peakTimezoneExists,
  peakWindowsAreValid,
  warmCapacityHasAPool,
  karpenterPoolLabelsAreSettable,
  podIdentityNamesNoRoles,
  irsaHasASecretsRole,
];

/** Every environment rule, run over every environment. */
/** The components that write or read task logs in S3, by their `iam.roles` key. */
export const S3_LOG_ROLES = ["worker", "triggerer", "apiServer"] as const;

/** With IRSA, a pod without a role has no AWS credentials: task pods and the triggerer could not upload, the api-server not read. */
const s3LogsHaveRoles = (config: Config): ConfigIssue[] =>
  Object.entries(config.environments).flatMap(([name, env]) => {
    const folder = env.storage?.logs?.s3BaseFolder ?? config.storage.logs.s3BaseFolder;
    if (!folder || (env.iam?.mode ?? "irsa") !== "irsa") return [];
    const missing = S3_LOG_ROLES.filter((key) => !env.iam?.roles[key]);
    if (missing.length === 0) return [];
    return [
      {
        path: joinPath(["environments", name, ...(env.iam ? ["iam", "roles"] : [])]),
        message:
          `needs ${missing.map((key) => `iam.roles.${key}`).join(", ")}: task logs go to ${folder} and with IRSA a pod ` +
          "without a role has no AWS credentials (task pods and the triggerer upload logs, the api-server reads them)",
      },
    ];
  });

const perEnvironment =
  (rule: EnvironmentRule) =>
  (config: Config): ConfigIssue[] =>
    Object.entries(config.environments).flatMap(([name, env]) => rule(env, (...path) => joinPath(["environments", name, ...path])));

/** Findings that do not stop generation. */
export const ENVIRONMENT_WARNING_RULES: readonly ((config: Config) => ConfigIssue[])[] = [perEnvironment(peakWindowsAvoidClockChanges)];

export const ENVIRONMENT_RULES: readonly ((config: Config) => ConfigIssue[])[] = [
  ...RULES.map(perEnvironment),
  s3LogsHaveRoles,
];
