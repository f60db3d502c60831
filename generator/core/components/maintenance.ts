/**
 * Housekeeping CronJobs in the Airflow image: failed task pods are kept for debugging and removed on a
 * schedule by `airflow kubernetes cleanup-pods`, and `airflow db clean` purges old metadata rows. Each
 * waits for the migrations like every Airflow pod, with the same config, security and secrets wiring.
 */
import { CronJob } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names, type Component } from "../names.js";
import { airflowCommandPodSpec } from "./airflow-command-pod.js";
import type { BaseContext, Manifest } from "./types.js";

interface Housekeeping {
  part: "failed-pod-cleanup" | "db-clean";
  schedule: string;
  /** A run that hangs is stopped, so `concurrencyPolicy: Forbid` cannot hold every later run back. */
  activeDeadlineSeconds: number;
  /** Its ServiceAccount: the cleanup's own may only list and delete pods; the migrations' has no token at all. */
  serviceAccountOf: Component;
  args: string[];
}

export function maintenance(config: Target, ctx: BaseContext): Manifest[] {
  const n = names(config);
  const jobs: Housekeeping[] = [
    {
      part: "failed-pod-cleanup",
      schedule: config.components.worker.failedPodCleanupSchedule,
      serviceAccountOf: "failed-pod-cleanup",
      // Listing and deleting pods takes seconds.
      activeDeadlineSeconds: 1800,
      args: ["airflow", "kubernetes", "cleanup-pods", `--namespace=${n.namespace}`],
    },
  ];
  const clean = config.airflow.dbClean;
  if (clean.enabled) {
    jobs.push({
      part: "db-clean",
      schedule: clean.schedule,
      serviceAccountOf: "migrations",
      // The first purge of a large table takes long; a daily run still gets its turn.
      activeDeadlineSeconds: 6 * 3600,
      args: [
        "bash",
        "-c",
        `exec airflow db clean --clean-before-timestamp "$(date -u -d '-${clean.retentionDays} days' +%Y-%m-%dT%H:%M:%S+00:00)" --yes --skip-archive`,
      ],
    });
  }
  return jobs.map((job) => ({ component: job.part, object: toKubeObject(cronJob(config, ctx, job)) }));
}

function cronJob(config: Target, ctx: BaseContext, job: Housekeeping) {
  const n = names(config);
  return new CronJob({
    metadata: { name: n.cronJob(job.part), namespace: n.namespace, labels: labels(config, job.part) },
    spec: {
      schedule: job.schedule,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: labels(config, job.part) },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: job.activeDeadlineSeconds,
          template: {
            metadata: { labels: labels(config, job.part), annotations: ctx.airflowPodAnnotations },
            spec: airflowCommandPodSpec(config, {
              container: job.part,
              args: job.args,
              readsSecretsOf: job.part,
              serviceAccountOf: job.serviceAccountOf,
              restartPolicy: "Never",
              waitsForMigrations: true,
            }),
          },
        },
      },
    },
  });
}
