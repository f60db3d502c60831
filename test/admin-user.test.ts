/**
 * The first admin user: a Job after the migrations that creates it with the password from Parameter
 * Store, documented in the environment's secrets page, and left out when sign-in is managed otherwise.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadForCore as loadConfig } from "./helpers.js";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { generate } from "../generator/core/index.js";
import { secretsManifests } from "../generator/core/secrets.js";
import { SYNC_WAVE_ANNOTATION } from "../generator/core/sync-waves.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { renderAll } from "../generator/render/render.js";
import { exampleProblems, exampleText, exampleWith } from "./helpers.js";

const config = loadConfig(exampleText(), "airflow-gitops.yaml");


const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const job = (objects: any[], name: string) => objects.find((o) => o.kind === "Job" && o.metadata.name === name);

describe("first admin user", () => {
  const prod = objectsOf(config, "prod");
  const create = job(prod, "airflow-create-admin-user");

  it("is created by an Argo CD Sync hook one wave after the migration hook, waiting for the schema", () => {
    const migrations = job(prod, "airflow-migrations");
    expect(create.metadata.annotations).toMatchObject({ "argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation" });
    expect(Number(create.metadata.annotations[SYNC_WAVE_ANNOTATION])).toBe(Number(migrations.metadata.annotations[SYNC_WAVE_ANNOTATION]) + 1);
    expect(create.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(["wait-for-migrations"]);
  });

  /** Runs the container's args as the kubelet passes them (`$$` is `$`) with `airflow` a recorder: its argv and its stdin. */
  function runWithRecorder(container: any, password: string): { argv: string[]; stdin: string } {
    const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-admin-"));
    try {
      writeFileSync(join(dir, "airflow"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > "${dir}/argv"\ncat > "${dir}/stdin"\n`);
      chmodSync(join(dir, "airflow"), 0o755);
      const argv = (container.args as string[]).map((a) => a.replace(/\$\$/g, "$"));
      const run = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: `${dir}:/usr/bin:/bin`, ADMIN_PASSWORD: password }, encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      return { argv: readFileSync(join(dir, "argv"), "utf8").split("\0").slice(0, -1), stdin: readFileSync(join(dir, "stdin"), "utf8") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("runs `airflow users create` with the password from the admin Secret on standard input, on no command line", () => {
    const container = create.spec.template.spec.containers[0];
    const password = container.env.find((e: any) => e.name === "ADMIN_PASSWORD");
    expect(password.valueFrom.secretKeyRef).toEqual({ name: "airflow-admin-user", key: "password" });
    expect(JSON.stringify(container.args)).not.toContain("ADMIN_PASSWORD)");
    const secret = "s3cret 'with' $(quotes) and spaces";
    const { argv, stdin } = runWithRecorder(container, secret);
    // FAB asks for the password and its confirmation when --password is absent.
    expect(stdin).toBe(`${secret}\n${secret}\n`);
    expect(argv).toEqual(["users", "create", "--role", "Admin", "--username", "admin", "--email", "admin@example.com", "--firstname", "Airflow", "--lastname", "Admin"]);
    expect(argv.join(" ")).not.toContain(secret);
  });

  it("passes the config's values to the command as they are: no shell or kubelet expansion", () => {
    const hostile = exampleWith((d) => (d.airflow.adminUser = { firstName: "$(ADMIN_PASSWORD) `id` $HOME \"; exit 1" }));
    const container = job(objectsOf(hostile, "prod"), "airflow-create-admin-user").spec.template.spec.containers[0];
    const { argv } = runWithRecorder(container, "pw");
    expect(argv[argv.indexOf("--firstname") + 1]).toBe("$(ADMIN_PASSWORD) `id` $HOME \"; exit 1");
  });

  it("gets its password from Parameter Store through an ExternalSecret named in the secrets README", () => {
    const es = secretsManifests(resolveEnvironment(config, "prod")).find((m) => m.object.metadata.name === "airflow-admin-user")!.object as any;
    expect(es.kind).toBe("ExternalSecret");
    expect(es.spec.data).toEqual([expect.objectContaining({ secretKey: "password", remoteRef: expect.objectContaining({ key: "/airflow/prod/admin-password" }) })]);
    const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
    expect(readme).toContain("| `/airflow/prod/admin-password` | SecureString | `airflow-admin-user` / `password` |");
    expect(readme).toContain("aws ssm put-parameter --region sa-east-1 --type SecureString --name /airflow/prod/admin-password");
    expect(readme).toContain("airflow users reset-password --username admin");
  });

  it("does not roll the long-running pods when the admin parameter moves", () => {
    const moved = objectsOf(exampleWith((d) => (d.secrets.parameters.adminPassword = "/airflow/{env}/ui-admin")), "prod");
    const checksum = (objects: any[]) => objects.find((o) => o.metadata.name === "airflow-scheduler" && o.kind === "Deployment").spec.template.metadata.annotations["checksum/airflow-secrets"];
    expect(checksum(moved)).toBe(checksum(prod));
  });

  it("is left out, with its Secret and parameter, when sign-in is managed otherwise", () => {
    const sso = exampleWith((d) => (d.environments.prod.airflow.adminUser = { enabled: false }));
    expect(job(objectsOf(sso, "prod"), "airflow-create-admin-user")).toBeUndefined();
    expect(job(objectsOf(sso, "dev"), "airflow-create-admin-user")).toBeDefined();
    expect(secretsManifests(resolveEnvironment(sso, "prod")).some((m) => m.object.metadata.name === "airflow-admin-user")).toBe(false);
    expect(renderAll(generate(sso)).get("secrets/prod/README.md")).not.toContain("admin-password");
  });

  it("refuses another auth manager while the Job is on, and accepts it once the Job is off", () => {
    const keycloak = "airflow.providers.keycloak.auth_manager.keycloak_auth_manager.KeycloakAuthManager";
    expect(exampleProblems((d) => (d.environments.prod.airflow.config.core.auth_manager = keycloak))).toEqual([
      expect.stringMatching(/environments\.prod\.airflow\.config\.core\.auth_manager: is .*KeycloakAuthManager, but airflow\.adminUser .*enabled: false/),
    ]);
    expect(
      exampleProblems((d) => {
        d.environments.prod.airflow.config.core.auth_manager = keycloak;
        d.environments.prod.airflow.adminUser = { enabled: false };
      }),
    ).toEqual([]);
  });
});
