/**
 * Rules over each environment that JSON Schema cannot express: autoscaling bounds, peak windows
 * and the settings they depend on, and AWS identities.
 */
import type { Config, EnvironmentConfig } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { describeWindow, leadTimeMinutes, minutesOfDay, overlappingWindows } from "../shared/peak-windows.js";

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
  const nonEmpty = windows.filter((w) => w.start !== w.end);
  for (const [a, b] of overlappingWindows(nonEmpty)) {
    const [i, j] = [windows.indexOf(nonEmpty[a]!), windows.indexOf(nonEmpty[b]!)];
    issues.push({
      path: at("peakHours", "windows", j),
      message: `${describeWindow(windows[j]!)} overlaps window ${i + 1} (${describeWindow(windows[i]!)}); merge them into one window`,
    });
  }
  return issues;
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

export const ENVIRONMENT_RULES: readonly ((config: Config) => ConfigIssue[])[] = [
  ...RULES.map(
    (rule) => (config: Config) =>
      Object.entries(config.environments).flatMap(([name, env]) => rule(env, (...path) => joinPath(["environments", name, ...path]))),
  ),
  s3LogsHaveRoles,
];
