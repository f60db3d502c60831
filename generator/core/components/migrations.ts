/**
 * `airflow db migrate` as an Argo CD Sync hook: recreated on every sync, it runs alongside the
 * workloads, whose wait-for-migrations init containers hold them until it is done. A Helm-style
 * post-install hook would deadlock here, since Argo CD runs it only after the workloads are healthy.
 */
import { Job } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { airflowCommandPodSpec } from "./airflow-command-pod.js";
import type { BaseContext, Manifest } from "./types.js";

export const MIGRATION_HOOK_ANNOTATIONS = {
  "argocd.argoproj.io/hook": "Sync",
  "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
};

/** How long a finished hook Job stays for its logs; Argo CD deletes it before the next sync anyway. */
export const FINISHED_JOB_TTL_SECONDS = 86_400;

export function migrations(config: Target, ctx: BaseContext): Manifest[] {
  const n = names(config);
  const job = new Job({
    metadata: {
      name: n.component("migrations"),
      namespace: n.namespace,
      labels: labels(config, "migrations"),
      annotations: MIGRATION_HOOK_ANNOTATIONS,
    },
    spec: {
      // Retries ride out a database that is not reachable yet; the deadline bounds them and a hung migration.
      backoffLimit: 6,
      activeDeadlineSeconds: config.components.migrations.activeDeadlineSeconds,
      ttlSecondsAfterFinished: FINISHED_JOB_TTL_SECONDS,
      template: {
        metadata: { labels: labels(config, "migrations"), annotations: ctx.airflowPodAnnotations },
        spec: airflowCommandPodSpec(config, {
          container: "migrate",
          args: ["bash", "-c", "exec airflow db migrate"],
          readsSecretsOf: "migrations",
          serviceAccountOf: "migrations",
          restartPolicy: "OnFailure",
          waitsForMigrations: false,
        }),
      },
    },
  });
  return [{ component: "migrations", object: toKubeObject(job) }];
}
