/**
 * The pod of a one-off Airflow command (the migrations, the admin user, housekeeping): the Airflow image
 * with airflow.cfg and the Secrets the command reads, under the restricted security context.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { Target } from "../target.js";
import { names, type Component } from "../names.js";
import { AIRFLOW_CFG_PATH, AIRFLOW_UID } from "../paths.js";
import {
  SECRETS_READ_BY,
  VOLUME,
  airflowEnv,
  airflowImage,
  configVolume,
  containerSecurityContext,
  podSecurityContext,
  resources,
  waitForMigrations,
  type SecretReader,
} from "../pod.js";

export interface AirflowCommand {
  container: string;
  args: string[];
  readsSecretsOf: SecretReader;
  extraEnv?: IEnvVar[];
  serviceAccountOf: Component;
  restartPolicy: "OnFailure" | "Never";
  /** Wait for the schema first: every command but the migration itself. */
  waitsForMigrations: boolean;
}

export function airflowCommandPodSpec(config: Target, command: AirflowCommand): IPodSpec {
  const container: IContainer = {
    name: command.container,
    image: airflowImage(config),
    imagePullPolicy: "IfNotPresent",
    args: command.args,
    env: [{ name: "PYTHONUNBUFFERED", value: "1" }, ...airflowEnv(config, SECRETS_READ_BY[command.readsSecretsOf]), ...(command.extraEnv ?? [])],
    resources: resources(config.components.migrations.resources),
    securityContext: containerSecurityContext(),
    volumeMounts: [{ name: VOLUME.config, mountPath: AIRFLOW_CFG_PATH, subPath: "airflow.cfg", readOnly: true }],
  };
  return {
    serviceAccountName: names(config).serviceAccount(command.serviceAccountOf),
    restartPolicy: command.restartPolicy,
    securityContext: podSecurityContext(AIRFLOW_UID),
    ...(command.waitsForMigrations ? { initContainers: [waitForMigrations(config)] } : {}),
    containers: [container],
    volumes: [configVolume(config)],
  };
}
