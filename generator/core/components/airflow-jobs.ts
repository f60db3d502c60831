/**
 * The scheduler, dag-processor and triggerer: long-running Airflow jobs that differ only in their
 * command, the job type their liveness check asks about, and whether they import DAG files.
 */
import type { Target } from "../target.js";
import { toKubeObject } from "../manifest.js";
import { POD_TEMPLATE_KEY, POD_TEMPLATE_PATH, TRIGGERER_LOG_PORT } from "../paths.js";
import { VOLUME, jobCheckProbeCommand } from "../pod.js";
import { airflowDeployment, type AirflowDeploymentSpec, type AirflowProcess } from "../workload.js";
import type { BaseContext, Manifest } from "./types.js";

interface AirflowJob {
  component: AirflowProcess;
  jobType: Parameters<typeof jobCheckProbeCommand>[0];
  settings: (config: Target) => { replicas: number; resources: AirflowDeploymentSpec["resources"] };
  terminationGracePeriodSeconds: number;
  mountsDags: boolean;
  ports?: AirflowDeploymentSpec["ports"];
  extraMounts?: AirflowDeploymentSpec["extraMounts"];
}

export const AIRFLOW_JOBS: readonly AirflowJob[] = [
  {
    // Decides what runs and launches one pod per task from the pod template; needs no DAG files in Airflow 3.
    component: "scheduler",
    jobType: "SchedulerJob",
    settings: (c) => c.components.scheduler,
    terminationGracePeriodSeconds: 10,
    mountsDags: false,
    extraMounts: [{ name: VOLUME.config, mountPath: POD_TEMPLATE_PATH, subPath: POD_TEMPLATE_KEY, readOnly: true }],
  },
  {
    // Parses DAG files from the DAG volume into the database (a separate process in Airflow 3).
    component: "dag-processor",
    jobType: "DagProcessorJob",
    settings: (c) => c.components.dagProcessor,
    terminationGracePeriodSeconds: 60,
    mountsDags: true,
  },
  {
    // Runs the triggers of deferred tasks; its logs go to the shared log volume, so a Deployment suffices.
    component: "triggerer",
    jobType: "TriggererJob",
    settings: (c) => c.components.triggerer,
    terminationGracePeriodSeconds: 60,
    mountsDags: true,
    ports: [{ name: "triggerer-logs", containerPort: TRIGGERER_LOG_PORT, protocol: "TCP" }],
  },
];

export function airflowJobs(config: Target, ctx: BaseContext): Manifest[] {
  return AIRFLOW_JOBS.map((job) => {
    const exec = { command: jobCheckProbeCommand(job.jobType) };
    const { replicas, resources } = job.settings(config);
    const deployment = airflowDeployment(config, {
      component: job.component,
      command: job.component,
      replicas,
      resources,
      ...(job.ports ? { ports: job.ports } : {}),
      probes: {
        startup: { exec, periodSeconds: 10, timeoutSeconds: 20, failureThreshold: 12 },
        liveness: { exec, initialDelaySeconds: 10, periodSeconds: 60, timeoutSeconds: 20, failureThreshold: 5 },
      },
      terminationGracePeriodSeconds: job.terminationGracePeriodSeconds,
      safeToEvict: true,
      podAnnotations: ctx.airflowPodAnnotations,
      mountsDags: job.mountsDags,
      ...(job.extraMounts ? { extraMounts: job.extraMounts } : {}),
    });
    return { component: job.component, object: toKubeObject(deployment) };
  });
}
