/**
 * The first admin user of the FAB auth manager, created by a Job once the migrations are done: an Argo CD
 * Sync hook one wave after the migration hook, and an init container that waits for the schema when the
 * Job is applied without Argo CD. `airflow users create` leaves an existing user alone and exits 0, so
 * every later sync is a no-op; the password is read from the Secret only for the first creation.
 */
import { Job } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { airflowCommandPodSpec } from "./airflow-command-pod.js";
import { adminUserSecret } from "../secret-refs.js";
import { adminUserEnabled } from "../../shared/sign-in.js";
import { SYNC_WAVE_ANNOTATION, syncWaveOf } from "../sync-waves.js";
import type { BaseContext, Manifest } from "./types.js";
import { FINISHED_JOB_TTL_SECONDS, MIGRATION_HOOK_ANNOTATIONS } from "./migrations.js";

/** `airflow users create` takes seconds; this leaves room for a slow start and a few retries. */
const ADMIN_USER_RUN_SECONDS = 900;

export function adminUser(config: Target, ctx: BaseContext): Manifest[] {
  const user = config.airflow.adminUser;
  if (!adminUserEnabled(config.airflow)) return [];
  const n = names(config);
  const secret = adminUserSecret(config);
  const job = new Job({
    metadata: {
      name: n.adminUserJob,
      namespace: n.namespace,
      labels: labels(config, "admin-user"),
      annotations: {
        ...MIGRATION_HOOK_ANNOTATIONS,
        // After the migration hook, which has the Job kind's wave.
        [SYNC_WAVE_ANNOTATION]: String(syncWaveOf("Job") + 1),
      },
    },
    spec: {
      backoffLimit: 6,
      // Applied without Argo CD it starts beside the migrations and waits for them: their deadline, then its own run.
      activeDeadlineSeconds: config.components.migrations.activeDeadlineSeconds + ADMIN_USER_RUN_SECONDS,
      ttlSecondsAfterFinished: FINISHED_JOB_TTL_SECONDS,
      template: {
        metadata: { labels: labels(config, "admin-user"), annotations: ctx.airflowPodAnnotations },
        spec: airflowCommandPodSpec(config, {
          container: "create-admin-user",
          // The password goes in on standard input (FAB's `users create` reads it there without --password
          // and without a terminal), so it is on no command line; printf is the shell's builtin. The
          // config's values are the script's arguments, never part of its text.
          args: [
            "bash",
            "-c",
            `printf '%s\\n%s\\n' "$${secret.env}" "$${secret.env}" | airflow users create --role Admin "$@"`,
            "create-admin-user",
            "--username",
            user.username,
            "--email",
            user.email,
            "--firstname",
            user.firstName,
            "--lastname",
            user.lastName,
          ],
          readsSecretsOf: "admin-user",
          extraEnv: [{ name: secret.env, valueFrom: { secretKeyRef: { name: secret.secretName, key: secret.passwordKey } } }],
          serviceAccountOf: "migrations",
          restartPolicy: "OnFailure",
          waitsForMigrations: true,
        }),
      },
    },
  });
  return [{ component: "admin-user", object: toKubeObject(job) }];
}
