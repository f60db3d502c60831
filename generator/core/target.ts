/**
 * What one build is generated for: the shared config alone (the base), or the shared config with one
 * environment's overrides merged in and its environment-only settings attached (an overlay).
 */
import type { AutoscalingConfig, Config, IamConfig, PeakHoursConfig } from "../config/schema.js";
import type { OverlayPatchConfig } from "../config/pods-schema.js";
import { mergePodHatches } from "./pod-hatches.js";
import { mergeOverrides } from "../shared/overrides.js";
import { resolveSignIn } from "../shared/sign-in.js";
import type { SsoConfig } from "../config/auth-schema.js";

export interface EnvironmentTarget {
  name: string;
  iam?: IamConfig;
  autoscaling?: AutoscalingConfig;
  peakHours?: PeakHoursConfig;
  /** Raw Kustomize patches of the overlay, applied after the generated ones. */
  patches?: OverlayPatchConfig[];
}

/** The built-in DAG builder's Python files (file name -> text), read by the caller: the core reads no files. */
export type BuilderSource = Readonly<Record<string, string>>;

export type Target = Config & { environment?: EnvironmentTarget; builderSource?: BuilderSource };

const resolved = new WeakMap<Config, Map<string, Target>>();

/** The config as environment `name` sees it: its overrides merged over the shared values (one object per environment). */
export function resolveEnvironment(config: Config, name: string): Target {
  let byName = resolved.get(config);
  if (!byName) resolved.set(config, (byName = new Map()));
  if (!byName.has(name)) byName.set(name, resolveUncached(config, name));
  return byName.get(name)!;
}

function resolveUncached(config: Config, name: string): Target {
  const env = config.environments[name];
  if (!env) throw new Error(`unknown environment ${name}`);
  return {
    ...config,
    namespace: env.namespace ?? config.namespace,
    airflow: resolveSignIn(mergeOverrides(config.airflow, env.airflow), config.airflow.auth.sso, env.airflow?.auth?.sso as Partial<SsoConfig> | undefined),
    ingress: mergeOverrides(config.ingress, env.ingress),
    storage: mergeOverrides(config.storage, env.storage),
    secrets: mergeOverrides(config.secrets, env.secrets),
    components: mergeOverrides(config.components, env.components),
    monitoring: mergeOverrides(config.monitoring, env.monitoring),
    pods: mergePodHatches(config.pods, env.pods),
    environment: {
      name,
      ...(env.iam ? { iam: env.iam } : {}),
      ...(env.autoscaling ? { autoscaling: env.autoscaling } : {}),
      ...(env.peakHours ? { peakHours: env.peakHours } : {}),
      ...(env.patches?.length ? { patches: env.patches } : {}),
    },
  };
}

export type ScaledComponent = "api-server" | "scheduler";

/** The autoscaling bounds of a component, when this build autoscales it. */
export function autoscalingOf(target: Target, component: string) {
  const autoscaling = target.environment?.autoscaling;
  if (component === "api-server") return autoscaling?.apiServer;
  if (component === "scheduler") return autoscaling?.scheduler;
  return undefined;
}

/** Whether a component may run more than one pod: it then needs a disruption budget and zone spread. */
export function mayRunSeveral(target: Target, component: string, replicas: number): boolean {
  return (autoscalingOf(target, component)?.max ?? replicas) > 1;
}
