/**
 * Housekeeping CronJobs: failed task pods are kept for debugging and removed on a schedule by
 * `airflow kubernetes cleanup-pods`, `airflow db clean` purges old metadata rows, `airflow state-store clean`
 * expires the task state store (Airflow 3.3), and old task logs are
 * deleted from the shared log volume. The Airflow commands wait for the migrations like every Airflow
 * pod, with the same config, security and secrets wiring; the log cleanup reads no config and no secret.
 */
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { CronJob } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names, type Part } from "../names.js";
import { AIRFLOW_UID, LOGS_MOUNT } from "../paths.js";
import { airflowImage, claimVolume, containerSecurityContext, podSecurityContext, resources, VOLUME } from "../pod.js";
import { airflowCommandPodSpec } from "./airflow-command-pod.js";
import type { BaseContext, Manifest } from "./types.js";
import { stateStoreCleanEnabled } from "../../shared/state-store.js";

interface Housekeeping {
  part: Extract<Part, "failed-pod-cleanup" | "db-clean" | "state-store-clean" | "log-retention">;
  schedule: string;
  /** A run that hangs is stopped, so `concurrencyPolicy: Forbid` cannot hold every later run back. */
  activeDeadlineSeconds: number;
  pod: IPodSpec;
}

export function maintenance(config: Target, ctx: BaseContext): Manifest[] {
  const n = names(config);
  const jobs: Housekeeping[] = [
    {
      part: "failed-pod-cleanup",
      schedule: config.components.worker.failedPodCleanupSchedule,
      // Listing and deleting pods takes seconds.
      activeDeadlineSeconds: 1800,
      // Its own ServiceAccount may only list and delete pods.
      pod: airflowCommandPodSpec(config, {
        container: "failed-pod-cleanup",
        args: ["airflow", "kubernetes", "cleanup-pods", `--namespace=${n.namespace}`],
        readsSecretsOf: "failed-pod-cleanup",
        serviceAccountOf: "failed-pod-cleanup",
        restartPolicy: "Never",
        waitsForMigrations: true,
      }),
    },
  ];
  const clean = config.airflow.dbClean;
  if (clean.enabled) {
    jobs.push({
      part: "db-clean",
      schedule: clean.schedule,
      // The first purge of a large table takes long; a daily run still gets its turn.
      activeDeadlineSeconds: 6 * 3600,
      pod: airflowCommandPodSpec(config, {
        container: "db-clean",
        args: [
          "bash",
          "-c",
          `exec airflow db clean --clean-before-timestamp "$(date -u -d '-${clean.retentionDays} days' +%Y-%m-%dT%H:%M:%S+00:00)" --yes --skip-archive`,
        ],
        readsSecretsOf: "db-clean",
        // The migrations' ServiceAccount has no token at all.
        serviceAccountOf: "migrations",
        restartPolicy: "Never",
        waitsForMigrations: true,
      }),
    });
  }
  if (stateStoreCleanEnabled(config.airflow)) {
    jobs.push({
      part: "state-store-clean",
      schedule: config.airflow.stateStoreClean.schedule,
      // One DELETE, or batches of [state_store] state_cleanup_batch_size when set; a first run on a large store takes long.
      activeDeadlineSeconds: 6 * 3600,
      pod: airflowCommandPodSpec(config, {
        container: "state-store-clean",
        args: ["airflow", "state-store", "clean"],
        readsSecretsOf: "state-store-clean",
        serviceAccountOf: "migrations",
        restartPolicy: "Never",
        waitsForMigrations: true,
      }),
    });
  }
  const logs = config.storage.logs;
  if (logs.volume && logs.retention.days !== undefined) {
    jobs.push({
      part: "log-retention",
      schedule: logs.retention.schedule,
      // EFS answers each metadata call in milliseconds: a first pass over millions of old files takes hours.
      activeDeadlineSeconds: 6 * 3600,
      pod: logRetentionPod(config, logs.retention.days),
    });
  }
  return jobs.map((job) => ({ component: job.part, object: toKubeObject(cronJob(config, ctx, job)) }));
}

/**
 * The shell script of the log cleanup: regular files (never what a symlink points to) not modified for
 * `days` days, then directories left empty for an hour, so a task that has just made its log directory
 * keeps it. Directories emptied by this run go at a later one. A file that cannot be deleted fails the run.
 */
export function logRetentionScript(days: number, folder = LOGS_MOUNT): string {
  return [
    "set -euo pipefail",
    `files=$(find ${folder} -xdev -mindepth 1 -type f -mmin +${days * 24 * 60} -printf . -delete | wc -c)`,
    `dirs=$(find ${folder} -xdev -mindepth 1 -type d -empty -mmin +60 -printf . -delete | wc -c)`,
    `echo "deleted $files files not modified for ${days} days and $dirs empty directories under ${folder}"`,
  ].join("\n");
}

/** The Airflow image (every node has it) for its shell and find, without its entrypoint: no Airflow, no config, no secret. */
function logRetentionPod(config: Target, days: number): IPodSpec {
  return {
    serviceAccountName: names(config).serviceAccount("migrations"),
    restartPolicy: "Never",
    securityContext: podSecurityContext(AIRFLOW_UID),
    containers: [
      {
        name: "log-retention",
        image: airflowImage(config),
        imagePullPolicy: "IfNotPresent",
        command: ["/bin/bash", "-c", logRetentionScript(days)],
        resources: resources(config.components.migrations.resources),
        securityContext: containerSecurityContext(),
        volumeMounts: [{ name: VOLUME.logs, mountPath: LOGS_MOUNT }],
      },
    ],
    volumes: [claimVolume(VOLUME.logs, names(config).logsClaim)],
  };
}

function cronJob(config: Target, ctx: BaseContext, job: Housekeeping) {
  const n = names(config);
  // Pods that read airflow.cfg or the Airflow secrets roll with them; the log cleanup reads neither.
  const annotations = job.part === "log-retention" ? undefined : ctx.airflowPodAnnotations;
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
            metadata: { labels: labels(config, job.part), ...(annotations ? { annotations } : {}) },
            spec: job.pod,
          },
        },
      },
    },
  });
}
