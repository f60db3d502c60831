/**
 * Secrets for real: the External Secrets Operator (built from its pinned module) reads AWS Parameter Store
 * from moto (the AWS API on 127.0.0.1), authenticating the way the generated SecretStore says (IRSA: a token
 * of the annotated ServiceAccount from the local API server, then AssumeRoleWithWebIdentity). The parameters
 * are created with the commands of the generated secrets/<env>/README.md, run with the AWS CLI as written.
 * Every assertion reads the operator's own status conditions and the Secrets it writes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, EXTERNAL_SECRETS_USER, ExternalSecretsController, applyInWaves, type KubeObject } from "../cluster/index.js";
import { ensureAwsVenv, Moto } from "../aws/moto.js";
import { tempDir } from "../temp-dirs.js";
import { events, eventually, kustomize58, project, useCluster } from "./cluster-workloads.js";

const { cluster, api } = useCluster();

/** Short enough to see a refresh in a test, from the config (the generated files are never edited). */
const REFRESH = "5s";

/** The values a user puts in the files the README's commands read. */
const DB_PASSWORD = "p@ss:w/rd?#%+ 1";
const KNOWN_HOSTS = [
  "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  "git.example.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
  "",
].join("\n");

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface ExternalSecret extends KubeObject {
  spec: { refreshInterval: string; target: { name: string }; data: { secretKey: string; remoteRef: { key: string } }[] };
  status?: { conditions?: Condition[]; refreshTime?: string; syncedResourceVersion?: string };
}
interface Secret extends KubeObject {
  data?: Record<string, string>;
}

const ready = (o: { status?: { conditions?: Condition[] } }) => o.status?.conditions?.find((c) => c.type === "Ready");
const decode = (secret: Secret, k: string) => Buffer.from(secret.data![k]!, "base64");

/**
 * Every Secret key a pod of the rendered overlay reads (env `secretKeyRef`, secret volume `items`, also in
 * the KubernetesExecutor's pod template), by Secret name. A Secret mounted without `items` counts as "*".
 */
function keysPodsRead(objects: KubeObject[]): Map<string, Set<string>> {
  const read = new Map<string, Set<string>>();
  const add = (name: string, k: string) => read.set(name, (read.get(name) ?? new Set()).add(k));
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const o = node as Record<string, any>;
    if (o.secretKeyRef?.name) add(o.secretKeyRef.name, o.secretKeyRef.key);
    if (o.secret?.secretName) for (const item of o.secret.items ?? [{ key: "*" }]) add(o.secret.secretName, item.key);
    for (const value of Object.values(o)) walk(value);
  };
  for (const o of objects) {
    walk(o);
    if (o.kind === "ConfigMap") for (const text of Object.values((o as any).data ?? {})) if (typeof text === "string" && /^kind: Pod$/m.test(text)) walk(parse(text));
  }
  return read;
}

/**
 * The README's shell block: each `aws ssm put-parameter` line is run as written (bash, in `home`, with the
 * AWS CLI pointed at moto). The files those lines read are written first by `files` (name → content); a
 * line that is neither a comment nor one of those commands fails the test, except `ssh-keyscan` (it
 * would reach the git host: the test writes known_hosts itself).
 */
function runReadmeCommands(readme: string, home: string, moto: Moto, files: (name: string) => string | Buffer, skip: (line: string) => boolean = () => false): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("the env README has no sh block of commands");
  const commands = block.split("\n").filter((l) => l.trim() && !l.trimStart().startsWith("#"));
  const run: string[] = [];
  for (const line of commands) {
    if (line.startsWith("ssh-keyscan ")) continue;
    if (!line.startsWith("aws ssm put-parameter ")) throw new Error(`the env README has a command the suite does not know: ${line}`);
    if (skip(line)) continue;
    for (const m of line.matchAll(/\$\(cat ([^)\s]+)\)|file:\/\/(\S+)/g)) writeFileSync(join(home, m[1] ?? m[2]!), files(m[1] ?? m[2]!));
    const result = spawnSync("bash", ["-euo", "pipefail", "-c", line], { cwd: home, env: moto.cliEnv(home), encoding: "utf8" });
    if (result.status !== 0) throw new Error(`README command failed (${result.status}): ${line}\n${result.stderr}`);
    run.push(line);
  }
  return run;
}

describe("External Secrets Operator against AWS Parameter Store (moto)", () => {
  let dir: string;
  let home: string;
  let moto: Moto;
  let controller: ExternalSecretsController;
  let config: any;
  const sshKey: Record<string, Buffer> = {};
  const objectsOf: Record<string, KubeObject[]> = {};

  /** The Namespace (from the overlay) and the secrets layer's objects as the overlay renders them. */
  async function secretsLayer(environment: string): Promise<KubeObject[]> {
    const overlay = await kustomize58(join(dir, "overlays", environment));
    objectsOf[environment] = overlay;
    const layer = new Set((await kustomize58(join(dir, "secrets", environment))).map((o) => `${o.kind}/${o.metadata.name}`));
    return overlay.filter((o) => o.kind === "Namespace" || layer.has(`${o.kind}/${o.metadata.name}`));
  }

  function inputFile(environment: string): (name: string) => string | Buffer {
    return (name) => {
      if (name === "database-url") return `postgresql://airflow:${encodeURIComponent(DB_PASSWORD)}@airflow-db.${environment}.internal:5432/airflow\n`;
      if (name === `${environment}-admin-password`) return `admin ${environment} ${DB_PASSWORD}\n`;
      if (name === "known_hosts") return KNOWN_HOSTS;
      if (name === "git-sync-key") {
        // The README's own recipe for the deploy key.
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "git-sync", "-f", join(home, `${environment}-key`)]);
        sshKey[environment] = readFileSync(join(home, `${environment}-key`));
        return sshKey[environment]!;
      }
      throw new Error(`the env README reads a file the suite does not know: ${name}`);
    };
  }

  async function externalSecrets(namespace: string): Promise<ExternalSecret[]> {
    return (await api().request<{ items: ExternalSecret[] }>("GET", `/apis/external-secrets.io/v1/namespaces/${namespace}/externalsecrets`)).items;
  }

  /** Waits until the store and then every ExternalSecret of `namespace` report Ready, as the operator says. */
  async function storeAndSecretsReady(store: KubeObject, namespace: string): Promise<void> {
    await eventually(`the ${store.kind} is Ready`, async () => {
      const live = await api().get<KubeObject & { status?: { conditions?: Condition[] } }>(store);
      return ready(live)?.status === "True" ? undefined : live.status ?? "no status";
    });
    await eventually(
      "every ExternalSecret is Ready",
      async () => {
        const all = await externalSecrets(namespace);
        const notReady = all.filter((es) => ready(es)?.status !== "True");
        return all.length && !notReady.length ? undefined : notReady.map((es) => `${es.metadata.name}: ${JSON.stringify(ready(es) ?? "no condition")}`);
      },
      120_000,
    );
  }

  async function secret(namespace: string, name: string): Promise<Secret | undefined> {
    try {
      return await api().request<Secret>("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  const namespaceOf = (environment: string) => objectsOf[environment]!.find((o) => o.kind === "Namespace")!.metadata.name;

  beforeAll(async () => {
    const log = (line: string) => process.stderr.write(`[secrets] ${line}\n`);
    const venv = ensureAwsVenv(log);
    dir = await project((d) => {
      d.secrets.refreshInterval = REFRESH;
    });
    config = parse(readFileSync(join(dir, "airflow-gitops.yaml"), "utf8"));
    home = tempDir("airflow-gitops-aws-");
    const logsDir = cluster().state.logsDir;
    moto = await Moto.start(venv, logsDir);
    controller = await ExternalSecretsController.start({ cluster: cluster().state, awsEndpoint: moto.endpoint, logsDir, dir: join(home, "operator"), log });
  });

  afterAll(async () => {
    await controller?.stop();
    await moto?.stop();
  });

  it("dev: the README's commands create the parameters; every ExternalSecret is Ready; each Secret holds exactly the keys the pods read, byte for byte", async () => {
    const environment = "dev";
    const objects = await secretsLayer(environment);
    const namespace = namespaceOf(environment);
    const readme = readFileSync(join(dir, "secrets", environment, "README.md"), "utf8");
    const ran = runReadmeCommands(readme, home, moto, inputFile(environment));
    const region = config.aws.region;
    const parameters = ((await kustomize58(join(dir, "secrets", environment))) as ExternalSecret[]).filter((o) => o.kind === "ExternalSecret").flatMap((es) => es.spec.data.map((d) => d.remoteRef.key));
    expect(ran.length, "one README command per parameter the ExternalSecrets read").toBe(new Set(parameters).size);

    await applyInWaves(api(), objects);
    const store = objects.find((o) => o.kind === "SecretStore")!;
    await storeAndSecretsReady(store, namespace);
    const live = await externalSecrets(namespace);
    expect(live.map((es) => es.metadata.name).sort()).toEqual(objects.filter((o) => o.kind === "ExternalSecret").map((o) => o.metadata.name).sort());
    for (const es of live) expect(ready(es), es.metadata.name).toMatchObject({ status: "True", reason: "SecretSynced" });

    const read = keysPodsRead(objectsOf[environment]!);
    const targets = new Set(live.map((es) => es.spec.target.name));
    for (const name of read.keys()) expect(targets, `the pods read Secret ${name}, which no ExternalSecret creates`).toContain(name);
    for (const es of live) {
      const s = await secret(namespace, es.spec.target.name);
      expect(s, `Secret ${es.spec.target.name}`).toBeDefined();
      expect(Object.keys(s!.data ?? {}).sort(), `keys of Secret ${es.spec.target.name}`).toEqual([...(read.get(es.spec.target.name) ?? [])].sort());
      for (const { secretKey, remoteRef } of es.spec.data) {
        expect(decode(s!, secretKey).equals(Buffer.from(moto.parameter(home, region, remoteRef.key))), `${es.spec.target.name}/${secretKey} = ${remoteRef.key}`).toBe(true);
      }
    }
    const valueOf = async (name: string, k: string) => decode((await secret(namespace, name))!, k);
    expect((await valueOf("airflow-metadata-db", "connection")).toString()).toBe(`postgresql://airflow:${encodeURIComponent(DB_PASSWORD)}@airflow-db.dev.internal:5432/airflow`);
    expect(decodeURIComponent(new URL((await valueOf("airflow-metadata-db", "connection")).toString()).password)).toBe(DB_PASSWORD);
    expect((await valueOf("airflow-git-credentials", "ssh-privatekey")).equals(sshKey[environment]!), "the SSH key, every line and the final newline").toBe(true);
    expect((await valueOf("airflow-git-credentials", "ssh-privatekey")).toString()).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    expect((await valueOf("airflow-git-credentials", "known_hosts")).toString()).toBe(KNOWN_HOSTS);
    expect((await valueOf("airflow-admin-user", "password")).toString()).toBe(`admin dev ${DB_PASSWORD}`);
    const fernet = (await valueOf("airflow-fernet-key", "fernet-key")).toString();
    expect(fernet, "a Fernet key: 32 bytes, URL-safe base64").toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(fernet, "base64url").length).toBe(32);
  });

  it("dev: a changed parameter reaches its Secret within the refresh interval from the config", async () => {
    const namespace = namespaceOf("dev");
    const es = (await externalSecrets(namespace)).find((e) => e.spec.target.name === "airflow-jwt-secret")!;
    expect(es.spec.refreshInterval).toBe(REFRESH);
    const parameter = es.spec.data[0]!.remoteRef.key;
    const before = (await secret(namespace, "airflow-jwt-secret"))!;
    const rotated = `rotated-${Date.now()}`;
    moto.aws(home, ["ssm", "put-parameter", "--region", config.aws.region, "--type", "SecureString", "--overwrite", "--name", parameter, "--value", rotated]);
    const changedAt = Date.now();
    await eventually(
      "the Secret holds the new value",
      async () => {
        const now = decode((await secret(namespace, "airflow-jwt-secret"))!, "jwt-secret").toString();
        return now === rotated ? undefined : now;
      },
      60_000,
    );
    process.stderr.write(`[secrets] the rotated value reached the Secret after ${((Date.now() - changedAt) / 1000).toFixed(1)} s\n`);
    expect(decode(before, "jwt-secret").toString()).not.toBe(rotated);
    const after = (await externalSecrets(namespace)).find((e) => e.metadata.name === es.metadata.name)!;
    expect(ready(after)).toMatchObject({ status: "True", reason: "SecretSynced" });
    expect(Date.parse(after.status!.refreshTime!)).toBeGreaterThan(Date.parse(es.status!.refreshTime!));
  });

  it("prod: a missing parameter fails its ExternalSecret, named in the operator's event, and no Secret is made; the others are Ready; creating it clears the error", async () => {
    const environment = "prod";
    const objects = await secretsLayer(environment);
    const namespace = namespaceOf(environment);
    const missing = (objects.find((o) => o.kind === "ExternalSecret" && o.metadata.name === "airflow-api-secret-key") as ExternalSecret).spec.data[0]!.remoteRef.key;
    const readme = readFileSync(join(dir, "secrets", environment, "README.md"), "utf8");
    runReadmeCommands(readme, home, moto, inputFile(environment), (line) => line.includes(` --name ${missing} `));
    await applyInWaves(api(), objects);
    await eventually(
      "the ExternalSecret of the missing parameter fails, the others are Ready",
      async () => {
        const all = await externalSecrets(namespace);
        const wrong = all.filter((es) => (es.metadata.name === "airflow-api-secret-key" ? ready(es)?.status !== "False" : ready(es)?.status !== "True"));
        return all.length && !wrong.length ? undefined : wrong.map((es) => `${es.metadata.name}: ${JSON.stringify(ready(es) ?? "no condition")}`);
      },
      120_000,
    );
    const failed = (await externalSecrets(namespace)).find((es) => es.metadata.name === "airflow-api-secret-key")!;
    process.stderr.write(`[secrets] condition of the missing parameter: ${JSON.stringify(ready(failed))}\n`);
    // This release's condition says only that the read failed; its Warning event on the ExternalSecret names the parameter.
    expect(ready(failed)).toMatchObject({ status: "False", reason: "SecretSyncedError", message: "could not get secret data from provider" });
    const warnings = (await events(api(), namespace)).filter((e) => e.involvedObject.kind === "ExternalSecret" && e.involvedObject.name === "airflow-api-secret-key" && e.reason === "UpdateFailed");
    process.stderr.write(`[secrets] its event: ${warnings[0]?.message}\n`);
    expect(warnings.map((e) => e.message)).toContain(`error processing spec.data[0] (key: ${missing}), err: Secret does not exist`);
    expect(await secret(namespace, "airflow-api-secret-key"), "no Secret with an empty value").toBeUndefined();

    moto.aws(home, ["ssm", "put-parameter", "--region", config.aws.region, "--type", "SecureString", "--name", missing, "--value", "created-later"]);
    await eventually(
      "the ExternalSecret is Ready once the parameter exists",
      async () => {
        const es = (await externalSecrets(namespace)).find((e) => e.metadata.name === "airflow-api-secret-key")!;
        return ready(es)?.status === "True" ? undefined : ready(es);
      },
      60_000,
    );
    expect(decode((await secret(namespace, "airflow-api-secret-key"))!, "api-secret-key").toString()).toBe("created-later");
  });

  it("prod: the README's S3 lifecycle rule for the task logs, run as written, is what the bucket then holds", () => {
    const readme = readFileSync(join(dir, "secrets", "prod", "README.md"), "utf8");
    const section = /## Expiring task logs in S3\n([\s\S]*?)\n## /.exec(readme)?.[1];
    if (!section) throw new Error("the prod README has no section on expiring task logs in S3");
    const rule = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const commands = /```sh\n([\s\S]*?)```/.exec(section)![1]!.split("\n").filter(Boolean);
    writeFileSync(join(home, "lifecycle.json"), rule);
    const bucket = new URL(config.environments.prod.storage.logs.s3BaseFolder.replace("{env}", "prod")).host;
    moto.aws(home, ["s3api", "create-bucket", "--bucket", bucket, "--region", config.aws.region, "--create-bucket-configuration", `LocationConstraint=${config.aws.region}`]);
    const run = (line: string) => spawnSync("bash", ["-euo", "pipefail", "-c", line], { cwd: home, env: { ...moto.cliEnv(home), AWS_DEFAULT_REGION: config.aws.region }, encoding: "utf8" });
    expect(commands.map((line) => line.split(" ").slice(0, 3).join(" "))).toEqual(["aws s3api get-bucket-lifecycle-configuration", "aws s3api put-bucket-lifecycle-configuration"]);
    const before = run(commands[0]!);
    expect(before.status, "a new bucket has no lifecycle rules yet").not.toBe(0);
    expect(before.stderr).toContain("NoSuchLifecycleConfiguration");
    const put = run(commands[1]!);
    expect(put.stderr).toBe("");
    expect(put.status).toBe(0);
    const after = run(commands[0]!);
    expect(after.status, after.stderr).toBe(0);
    const rules = JSON.parse(after.stdout).Rules;
    process.stderr.write(`[secrets] the bucket's lifecycle rules: ${JSON.stringify(rules)}\n`);
    expect(rules).toEqual(JSON.parse(rule).Rules);
    expect(rules[0]).toMatchObject({ Filter: { Prefix: "prod/" }, Expiration: { Days: 30 } });
  });

  it("secrets.store ClusterSecretStore: Ready, its ExternalSecrets Ready in the environment's namespace; one in another namespace is refused", async () => {
    const other = await project((d) => {
      d.name = "etl";
      d.namespace = "data-platform";
      d.secrets.store = "ClusterSecretStore";
      d.secrets.refreshInterval = REFRESH;
    });
    const overlay = await kustomize58(join(other, "overlays", "dev"));
    objectsOf["cluster-store"] = overlay;
    const layer = new Set((await kustomize58(join(other, "secrets", "dev"))).map((o) => `${o.kind}/${o.metadata.name}`));
    const objects = overlay.filter((o) => o.kind === "Namespace" || layer.has(`${o.kind}/${o.metadata.name}`));
    const store = objects.find((o) => o.kind === "ClusterSecretStore")!;
    expect(store, "the layer has a ClusterSecretStore").toBeDefined();
    const namespace = overlay.find((o) => o.kind === "Namespace")!.metadata.name;
    await applyInWaves(api(), objects);
    await storeAndSecretsReady(store, namespace);
    for (const es of await externalSecrets(namespace)) {
      const s = (await secret(namespace, es.spec.target.name))!;
      for (const { secretKey, remoteRef } of es.spec.data) expect(decode(s, secretKey).equals(Buffer.from(moto.parameter(home, config.aws.region, remoteRef.key))), `${es.metadata.name}/${secretKey}`).toBe(true);
    }

    // The same ExternalSecret from a namespace the store's conditions do not name.
    const admitted = (store as any).spec.conditions.flatMap((c: { namespaces?: string[] }) => c.namespaces ?? []);
    expect(admitted).toEqual([namespace]);
    const outsider = namespaceOf("prod");
    expect(admitted).not.toContain(outsider);
    const copy = structuredClone(objects.find((o) => o.kind === "ExternalSecret" && o.metadata.name.endsWith("-fernet-key"))) as any;
    copy.metadata = { name: "through-another-namespace", namespace: outsider };
    copy.spec.target.name = "through-another-namespace";
    await api().apply(copy, { fieldManager: "e2e" });
    await eventually("the ExternalSecret outside the store's namespaces fails", async () => {
      const es = (await externalSecrets(outsider)).find((e) => e.metadata.name === copy.metadata.name);
      return es && ready(es)?.status === "False" ? undefined : es?.status ?? "no status";
    });
    const refused = (await externalSecrets(outsider)).find((e) => e.metadata.name === copy.metadata.name)!;
    const warnings = (await events(api(), outsider)).filter((e) => e.involvedObject.name === copy.metadata.name).map((e) => e.message);
    process.stderr.write(`[secrets] outside the store's namespaces: ${JSON.stringify(ready(refused))}; events: ${JSON.stringify(warnings)}\n`);
    expect(ready(refused)).toMatchObject({ status: "False", reason: "SecretSyncedError" });
    expect(warnings).toContain(`error processing spec.data[0] (key: ${copy.spec.data[0].remoteRef.key}), err: using cluster store "${store.metadata.name}" is not allowed from namespace "${outsider}": denied by spec.condition`);
    expect(await secret(outsider, copy.spec.target.name), "no Secret outside the store's namespaces").toBeUndefined();
    await api().delete(copy);
  });

  it("the operator asked the API server for tokens of each store's ServiceAccount, and of no other", async () => {
    const expected = new Set<string>();
    for (const objects of Object.values(objectsOf)) {
      const store = objects.find((o) => o.kind === "SecretStore" || o.kind === "ClusterSecretStore") as any;
      const ref = store.spec.provider.aws.auth.jwt.serviceAccountRef as { name: string; namespace?: string };
      const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata.name === ref.name);
      expect(sa?.metadata.annotations?.["eks.amazonaws.com/role-arn"], `${ref.name} carries the role`).toMatch(/^arn:aws:iam::\d{12}:role\//);
      expect(sa?.metadata.namespace).toBe(ref.namespace ?? store.metadata.namespace);
      expect((sa as any).automountServiceAccountToken).toBe(false);
      expect(objects.filter((o) => o.kind === "ServiceAccount").length, "other ServiceAccounts exist to be asked for").toBeGreaterThan(1);
      expected.add(`${sa!.metadata.namespace}/${ref.name}`);
    }
    expect(expected.size).toBe(3);
    type AuditEvent = { user: { username: string }; verb: string; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number } };
    const events = readFileSync(cluster().state.auditLog!, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((e) => e.objectRef?.resource === "serviceaccounts" && e.objectRef.subresource === "token" && e.user.username === EXTERNAL_SECRETS_USER);
    expect(events.length, "TokenRequests of the operator").toBeGreaterThan(0);
    expect(new Set(events.map((e) => `${e.objectRef!.namespace}/${e.objectRef!.name}`))).toEqual(expected);
    for (const e of events) expect(e.responseStatus?.code, "issued").toBe(201);
  });

  it("the AWS API down: every ExternalSecret reports the failure and every Secret is kept as it was", async () => {
    const namespace = namespaceOf("dev");
    const before = new Map<string, Secret>();
    for (const es of await externalSecrets(namespace)) before.set(es.spec.target.name, (await secret(namespace, es.spec.target.name))!);
    await moto.stop();
    expect(moto.running).toBe(false);
    await eventually(
      "every ExternalSecret reports the failed refresh",
      async () => {
        const up = (await externalSecrets(namespace)).filter((es) => ready(es)?.status !== "False");
        return up.length ? up.map((es) => `${es.metadata.name}: ${JSON.stringify(ready(es))}`) : undefined;
      },
      60_000,
    );
    const failed = await externalSecrets(namespace);
    process.stderr.write(`[secrets] condition with the AWS API down: ${JSON.stringify(ready(failed[0]!))}\n`);
    for (const es of failed) expect(ready(es), es.metadata.name).toMatchObject({ status: "False", reason: "SecretSyncedError" });
    // Several refresh intervals later, nothing was deleted or emptied.
    await new Promise((r) => setTimeout(r, 3 * 5_000));
    for (const [name, was] of before) {
      const now = await secret(namespace, name);
      expect(now, `Secret ${name} still exists`).toBeDefined();
      expect(now!.data, `Secret ${name} keeps its data`).toEqual(was.data);
      expect(now!.metadata.uid).toBe(was.metadata.uid);
    }
  });
});
