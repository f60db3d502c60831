/** The shape shared by the long-running Airflow Deployments: one container, config, secrets, probes. */
import { Deployment, type IDeploymentStrategy } from "kubernetes-models/apps/v1";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type { ComponentResources, Config } from "../config/schema.js";
import { labels, selectorLabels } from "./labels.js";
import { names, type Component } from "./names.js";
import {
  AIRFLOW_POD_UID,
  SECRETS_READ_BY,
  airflowEnv,
  airflowImage,
  airflowMounts,
  airflowVolumes,
  containerSecurityContext,
  podSecurityContext,
  resources,
  waitForMigrations,
} from "./pod.js";

export interface AirflowDeploymentSpec {
  component: Component;
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
}

export function airflowDeployment(config: Config, spec: AirflowDeploymentSpec): Deployment {
  const n = names(config);
  const container: IContainer = {
    name: spec.component,
    image: airflowImage(config),
    imagePullPolicy: "IfNotPresent",
    args: ["bash", "-c", `exec airflow ${spec.command}`],
    env: airflowEnv(config, SECRETS_READ_BY.controlPlane),
    ...(spec.ports ? { ports: spec.ports } : {}),
    livenessProbe: spec.probes.liveness,
    ...(spec.probes.readiness ? { readinessProbe: spec.probes.readiness } : {}),
    ...(spec.probes.startup ? { startupProbe: spec.probes.startup } : {}),
    resources: resources(spec.resources),
    securityContext: containerSecurityContext(),
    volumeMounts: [...airflowMounts(spec.mountsDags), ...(spec.extraMounts ?? [])],
  };
  return new Deployment({
    metadata: { name: n.component(spec.component), namespace: n.namespace, labels: labels(config, spec.component) },
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(config, spec.component) },
      ...(spec.strategy ? { strategy: spec.strategy } : {}),
      template: {
        metadata: {
          labels: labels(config, spec.component),
          annotations: {
            ...spec.podAnnotations,
            "cluster-autoscaler.kubernetes.io/safe-to-evict": String(spec.safeToEvict),
          },
        },
        spec: {
          serviceAccountName: n.serviceAccount(spec.component),
          priorityClassName: n.controlPlanePriorityClass,
          securityContext: podSecurityContext(AIRFLOW_POD_UID),
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
          initContainers: [waitForMigrations(config)],
          containers: [container],
          volumes: airflowVolumes(config, spec.mountsDags),
        },
      },
    },
  });
}
