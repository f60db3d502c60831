/**
 * `storage.logs.retention`: the CronJob that deletes old task logs from the shared volume (its script run
 * for real against a directory tree), the S3 lifecycle rule of the secrets README, and bad input.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, existsSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { logRetentionScript } from "../generator/core/components/maintenance.js";
import { generate } from "../generator/core/index.js";
import { kubeletText } from "../generator/core/kubelet-text.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { renderAll } from "../generator/render/render.js";
import { exampleProblems, exampleText, exampleWith, loadForCore } from "./helpers.js";
import { tempDir } from "./temp-dirs.js";

const config = loadForCore(exampleText());
const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const cronOf = (c: Config, env: string) => objectsOf(c, env).find((o) => o.kind === "CronJob" && o.metadata.name === "airflow-log-retention");

describe("the log volume's cleanup CronJob", () => {
  it("deletes with each environment's age, on the schedule, and reads no config, no Secret and no token", () => {
    const dev = cronOf(config, "dev");
    const prod = cronOf(config, "prod");
    expect(dev.spec.schedule).toBe("45 2 * * *");
    const pod = prod.spec.jobTemplate.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    expect(pod.containers[0].command).toEqual(["/bin/bash", "-c", kubeletText(logRetentionScript(30))]);
    expect(dev.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toBe(kubeletText(logRetentionScript(7)));
    expect(pod.containers[0].args).toBeUndefined();
    expect(pod.containers[0].env).toBeUndefined();
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes).toEqual([{ name: "logs", persistentVolumeClaim: { claimName: "airflow-logs" } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "logs", mountPath: "/opt/airflow/logs" }]);
    expect(pod.serviceAccountName).toBe("airflow-migrations");
    const account = objectsOf(config, "prod").find((o) => o.kind === "ServiceAccount" && o.metadata.name === "airflow-migrations");
    expect(account.automountServiceAccountToken).toBe(false);
    expect(account.metadata.annotations?.["eks.amazonaws.com/role-arn"]).toBeUndefined();
    expect(prod.spec.jobTemplate.spec.template.metadata.annotations).toBeUndefined();
    expect(prod.spec).toMatchObject({ concurrencyPolicy: "Forbid", jobTemplate: { spec: { activeDeadlineSeconds: 21600, backoffLimit: 2 } } });
  });

  it("is written only with a retention and a log volume", () => {
    expect(cronOf(exampleWith((d) => delete d.storage.logs.retention), "prod")).toBeUndefined();
    const s3Only = exampleWith((d) => {
      d.storage.logs.volume = false;
      d.storage.logs.s3BaseFolder = "s3://acme-airflow-logs/{env}";
      Object.assign(d.environments.dev.iam.roles, { triggerer: "arn:aws:iam::123456789012:role/t", apiServer: "arn:aws:iam::123456789012:role/a" });
    });
    expect(cronOf(s3Only, "prod")).toBeUndefined();
  });

  it("deletes old files and old empty directories, and keeps new files, symlinks and what they point to", () => {
    const root = tempDir("log-retention");
    const logs = join(root, "logs");
    const outside = join(root, "outside");
    mkdirSync(join(logs, "dag_id=a", "run_id=old", "task_id=t"), { recursive: true });
    mkdirSync(join(logs, "dag_id=a", "run_id=new", "task_id=t"), { recursive: true });
    mkdirSync(join(logs, "empty-old"));
    mkdirSync(join(logs, "empty-new"));
    mkdirSync(outside);
    const now = Date.now() / 1000;
    const age = (path: string, days: number) => utimesSync(path, now - days * 86400, now - days * 86400);
    const oldLog = join(logs, "dag_id=a", "run_id=old", "task_id=t", "attempt=1.log");
    const newLog = join(logs, "dag_id=a", "run_id=new", "task_id=t", "attempt=1.log");
    const borderline = join(logs, "dag_id=a", "run_id=new", "task_id=t", "attempt=2.log");
    const target = join(outside, "kept.log");
    for (const file of [oldLog, newLog, borderline, target]) writeFileSync(file, "log line\n");
    symlinkSync(target, join(logs, "link.log"));
    age(oldLog, 31);
    age(borderline, 29);
    age(target, 400);
    age(join(logs, "empty-old"), 2 / 24);

    const run = spawnSync("bash", ["-c", logRetentionScript(30, logs)], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(`deleted 1 files not modified for 30 days and 1 empty directories under ${logs}`);
    expect(existsSync(oldLog)).toBe(false);
    expect(existsSync(join(logs, "empty-old"))).toBe(false);
    for (const kept of [newLog, borderline, join(logs, "empty-new"), join(logs, "link.log"), target]) expect(existsSync(kept), kept).toBe(true);
    // The run just emptied this directory: it goes at a later run, an hour on.
    expect(existsSync(join(logs, "dag_id=a", "run_id=old", "task_id=t"))).toBe(true);
  });

  it("fails the Job when find fails (here: no such folder), never reporting success", () => {
    const logs = tempDir("log-retention-missing");
    // find's error reaches the exit status through the pipe to wc (pipefail) and the assignment (errexit).
    const run = spawnSync("bash", ["-c", logRetentionScript(30, join(logs, "not-there"))], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("not-there");
  });
});

describe("task logs in S3", () => {
  it("the prod secrets README gives the lifecycle rule of the same age, scoped to the environment's prefix", () => {
    const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
    const rule = JSON.parse(/## Expiring task logs in S3[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1]!);
    expect(rule).toEqual({
      Rules: [{ ID: "airflow-prod-task-logs", Status: "Enabled", Filter: { Prefix: "prod/" }, Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }],
    });
    expect(readme).toContain("aws s3api put-bucket-lifecycle-configuration --bucket acme-airflow-logs --lifecycle-configuration file://lifecycle.json");
    expect(renderAll(generate(config)).get("secrets/dev/README.md")).not.toContain("lifecycle");
    const kept = exampleWith((d) => delete d.storage.logs.retention);
    expect(renderAll(generate(kept)).get("secrets/prod/README.md")).not.toContain("lifecycle");
  });
});

describe("bad retention input", () => {
  it("names the file, the line and the field", () => {
    expect(exampleProblems((d) => (d.storage.logs.retention = { days: 0 }))).toEqual(["airflow-gitops.yaml:49:13 storage.logs.retention.days: must be >= 1, found 0"]);
    expect(exampleProblems((d) => (d.storage.logs.retention = { days: "thirty" }))).toEqual(['airflow-gitops.yaml:49:13 storage.logs.retention.days: must be integer, found string "thirty"']);
    expect(exampleProblems((d) => (d.environments.dev.storage.logs.retention = { days: 4000 }))).toEqual([
      "airflow-gitops.yaml:106:17 environments.dev.storage.logs.retention.days: must be <= 3650, found 4000",
    ]);
    expect(exampleProblems((d) => (d.storage.logs.retention = { dayz: 30 }))).toEqual([
      'airflow-gitops.yaml:49:7 storage.logs.retention.dayz: unknown field "dayz"; did you mean "days"? Allowed: days, schedule',
    ]);
    expect(exampleProblems((d) => (d.storage.logs.retention = { days: 30, schedule: "every night" }))[0]).toMatch(
      /^airflow-gitops\.yaml:50:17 storage\.logs\.retention\.schedule: must be a five-field cron schedule .*found "every night"$/,
    );
  });
});
