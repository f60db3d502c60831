/** The shape shared by the long-running Airflow Deployments: one container, config, secrets, probes. */
import { Deployment } from "./kinds.js";
import type { IDeployment, IDeploymentStrategy } from "kubernetes-models/apps/v1";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type { ComponentResources } from "../config/schema.js";
import type { Target } from "./target.js";
import { labels, selectorLabels } from "./labels.js";
import { names, type Component } from "./names.js";
import { controlPlanePlacement } from "./placement.js";
import { autoscalingOf, mayRunSeveral } from "./target.js";
import { airflowSecrets } from "./secret-refs.js";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { AIRFLOW_POD_UID, SECRETS_READ_BY, type SecretReader, airflowContainer, airflowVolumes, podSecurityContext, waitForMigrations } from "./pod.js";

/** An Airflow component with a secrets entry of its own. */
export type AirflowProcess = Extract<Component, SecretReader>;

export interface AirflowDeploymentSpec {
  component: AirflowProcess;
  /** The `airflow` sub-command, e.g. `scheduler`. */
  command: string;
  replicas: number;
  resources: ComponentResources;
  ports?: IContainerPort[];
  probes: { liveness: IProbe; readiness?: IProbe; startup?: IProbe };
  strategy?: IDeploymentStrategy;
  terminationGracePeriodSeconds: number;
  /** cluster-autoscaler may move this pod to empty a node. */
  safeToEvict: boolean;
  podAnnotations: Record<string, string>;
  /** Whether the process imports DAG files (dag-processor, triggerer) and so mounts the DAG volume. */
  mountsDags: boolean;
  extraMounts?: IVolumeMount[];
  extraEnv?: IEnvVar[];
  /** Secrets the extra env reads, beside the component's own. */
  extraSecrets?: readonly string[];
}

/** Stakater Reloader restarts a Deployment when one of the Secrets listed here changes. */
export const RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload";

/**
 * A Deployment of one control-plane component: its name, labels, selector, ServiceAccount and
 * PriorityClass all follow from the component; the caller gives the pod's contents.
 */
export function componentDeployment(
  config: Target,
  component: Component,
  spec: {
    replicas: number;
    /** Secrets whose new values should restart the pods (with secrets.reloadOnChange). */
    reloadSecrets?: readonly string[];
    strategy?: IDeploymentStrategy;
    podAnnotations?: Record<string, string>;
    pod: Omit<IPodSpec, "serviceAccountName" | "priorityClassName" | "affinity" | "topologySpreadConstraints">;
  },
): IDeployment {
  const n = names(config);
  // An autoscaler owns the replica count; a value here would fight it on every sync.
  const autoscaled = autoscalingOf(config, component) !== undefined;
  const placement = controlPlanePlacement(config, component, mayRunSeveral(config, component, spec.replicas));
  return new Deployment({
    metadata: {
      name: n.component(component),
      namespace: n.namespace,
      labels: labels(config, component),
      ...(config.secrets.reloadOnChange && spec.reloadSecrets?.length
        ? { annotations: { [RELOADER_ANNOTATION]: [...spec.reloadSecrets].sort().join(",") } }
        : {}),
    },
    spec: {
      ...(autoscaled ? {} : { replicas: spec.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(config, component) },
      ...(spec.strategy ? { strategy: spec.strategy } : {}),
      template: {
        metadata: {
          labels: labels(config, component),
          ...(spec.podAnnotations ? { annotations: spec.podAnnotations } : {}),
        },
        spec: {
          serviceAccountName: n.serviceAccount(component),
          priorityClassName: n.controlPlanePriorityClass,
          ...placement,
          ...spec.pod,
        },
      },
    },
  });
}

export function airflowDeployment(config: Target, spec: AirflowDeploymentSpec): IDeployment {
  const base = airflowContainer(config, {
    name: spec.component,
    secrets: SECRETS_READ_BY[spec.component],
    resources: spec.resources,
    mountsDags: spec.mountsDags,
  });
  const { name, image, imagePullPolicy, env, resources, securityContext, volumeMounts = [] } = base;
  const container: IContainer = {
    name,
    image,
    imagePullPolicy,
    args: ["bash", "-c", `exec airflow ${spec.command}`],
    env: [...(env ?? []), ...(spec.extraEnv ?? [])],
    ...(spec.ports ? { ports: spec.ports } : {}),
    livenessProbe: spec.probes.liveness,
    ...(spec.probes.readiness ? { readinessProbe: spec.probes.readiness } : {}),
    ...(spec.probes.startup ? { startupProbe: spec.probes.startup } : {}),
    resources,
    securityContext,
    volumeMounts: [...volumeMounts, ...(spec.extraMounts ?? [])],
  };
  return componentDeployment(config, spec.component, {
    reloadSecrets: [...SECRETS_READ_BY[spec.component].map((id) => airflowSecrets(config)[id].secretName), ...(spec.extraSecrets ?? [])],
    replicas: spec.replicas,
    ...(spec.strategy ? { strategy: spec.strategy } : {}),
    podAnnotations: {
      ...spec.podAnnotations,
      "cluster-autoscaler.kubernetes.io/safe-to-evict": String(spec.safeToEvict),
    },
    pod: {
      securityContext: podSecurityContext(AIRFLOW_POD_UID),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      initContainers: [waitForMigrations(config)],
      containers: [container],
      volumes: airflowVolumes(config, spec.mountsDags),
    },
  });
}
