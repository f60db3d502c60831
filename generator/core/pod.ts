/** Pieces every pod spec shares: security contexts, resources, Airflow env, volumes and mounts. */
import type { Target } from "./target.js";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext";
import type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type { ComponentResources } from "../config/schema.js";
import { names } from "./names.js";
import { AIRFLOW_CFG_PATH, AIRFLOW_HOME, AIRFLOW_UID, DAGS_MOUNT, LOGS_MOUNT } from "./paths.js";
import { airflowSecrets, type SecretKeyRef } from "./secret-refs.js";

export const VOLUME = { config: "config", dags: "dags", logs: "logs" } as const;

/** Pod Security Standards "restricted": non-root, RuntimeDefault seccomp. */
export function podSecurityContext(uid: number, gid = 0): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod Security Standards "restricted" for a container: no privilege escalation, every capability dropped. */
export function containerSecurityContext(extra: Partial<ISecurityContext> = {}): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    ...extra,
  };
}

export function resources(r: ComponentResources): IResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { ...(r.limits.cpu ? { cpu: r.limits.cpu } : {}), memory: r.limits.memory },
  };
}

export function airflowImage(config: Target): string {
  return `${config.airflow.image.repository}:${config.airflow.image.tag}`;
}

export type SecretUse = SecretKeyRef["id"];

/**
 * Which secrets each Airflow process reads, and nothing more. Task pods talk only to the Execution API
 * with the token the scheduler put in their workload, so they get none. The scheduler signs those
 * tokens and the api-server verifies them (JWT secret); the dag-processor and triggerer reach the
 * Execution API in-process, where no token is checked. The api-server signs sessions and log-fetch
 * tokens with the API secret key, which the triggerer's log server verifies.
 */
export const SECRETS_READ_BY = {
  "api-server": ["fernetKey", "databaseUrl", "apiSecretKey", "jwtSecret"],
  scheduler: ["fernetKey", "databaseUrl", "jwtSecret"],
  "dag-processor": ["fernetKey", "databaseUrl"],
  triggerer: ["fernetKey", "databaseUrl", "apiSecretKey"],
  worker: [],
  migrations: ["fernetKey", "databaseUrl"],
  "wait-for-migrations": ["databaseUrl"],
  "admin-user": ["databaseUrl"],
  "failed-pod-cleanup": ["databaseUrl"],
  "db-clean": ["databaseUrl"],
  "state-store-clean": ["databaseUrl"],
} as const satisfies Record<string, readonly SecretUse[]>;

export type SecretReader = keyof typeof SECRETS_READ_BY;

export function airflowEnv(config: Target, secrets: readonly SecretUse[]): IEnvVar[] {
  const refs = airflowSecrets(config);
  return [
    { name: "AIRFLOW_HOME", value: AIRFLOW_HOME },
    // The S3 client of remote logging finds the region here; credentials come from the pod's IAM role.
    ...(config.storage.logs.s3BaseFolder ? [{ name: "AWS_DEFAULT_REGION", value: config.aws.region }] : []),
    ...secrets.map((id) => ({
      name: refs[id].env,
      valueFrom: { secretKeyRef: { name: refs[id].secretName, key: refs[id].key } },
    })),
  ];
}

export function configVolume(config: Target): IVolume {
  return { name: VOLUME.config, configMap: { name: names(config).airflowConfigMap } };
}

export function claimVolume(name: string, claimName: string, readOnly = false): IVolume {
  return { name, persistentVolumeClaim: { claimName, ...(readOnly ? { readOnly } : {}) } };
}

/** Config and logs always; the DAG volume only for processes that import DAG files. */
export function airflowVolumes(config: Target, withDags: boolean): IVolume[] {
  const n = names(config);
  return [
    configVolume(config),
    ...(withDags ? [claimVolume(VOLUME.dags, n.dagsClaim, true)] : []),
    config.storage.logs.volume ? claimVolume(VOLUME.logs, n.logsClaim) : { name: VOLUME.logs, emptyDir: { sizeLimit: "2Gi" } },
  ];
}

export function airflowMounts(withDags: boolean): IVolumeMount[] {
  return [
    { name: VOLUME.config, mountPath: AIRFLOW_CFG_PATH, subPath: "airflow.cfg", readOnly: true },
    ...(withDags ? [{ name: VOLUME.dags, mountPath: DAGS_MOUNT, readOnly: true }] : []),
    { name: VOLUME.logs, mountPath: LOGS_MOUNT },
  ];
}

/** A container running Airflow: the configured image, airflow.cfg, the given secrets, hardened. */
export function airflowContainer(
  config: Target,
  spec: { name: string; secrets: readonly SecretUse[]; resources: ComponentResources; mountsDags: boolean; ports?: IContainerPort[] },
): IContainer {
  return {
    name: spec.name,
    image: airflowImage(config),
    imagePullPolicy: "IfNotPresent",
    env: airflowEnv(config, spec.secrets),
    ...(spec.ports ? { ports: spec.ports } : {}),
    resources: resources(spec.resources),
    securityContext: containerSecurityContext(),
    volumeMounts: airflowMounts(spec.mountsDags),
  };
}

/** Holds a long-running Airflow pod until `airflow db migrate` has brought the schema up to date. */
export function waitForMigrations(config: Target): IContainer {
  return {
    name: "wait-for-migrations",
    image: airflowImage(config),
    imagePullPolicy: "IfNotPresent",
    args: ["airflow", "db", "check-migrations", `--migration-wait-timeout=${config.airflow.migrationWaitTimeoutSeconds}`],
    env: airflowEnv(config, SECRETS_READ_BY["wait-for-migrations"]),
    volumeMounts: [{ name: VOLUME.config, mountPath: AIRFLOW_CFG_PATH, subPath: "airflow.cfg", readOnly: true }],
    resources: resources(config.components.migrations.resources),
    securityContext: containerSecurityContext(),
  };
}

/** `airflow jobs check` for the given job type, as the liveness test of a long-running component. */
export function jobCheckProbeCommand(jobType: "SchedulerJob" | "DagProcessorJob" | "TriggererJob"): string[] {
  return [
    "sh",
    "-c",
    `CONNECTION_CHECK_MAX_COUNT=0 AIRFLOW__LOGGING__LOGGING_LEVEL=ERROR exec /entrypoint airflow jobs check --job-type ${jobType} --local`,
  ];
}

export const AIRFLOW_POD_UID = AIRFLOW_UID;
