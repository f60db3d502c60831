/**
 * The secrets layers: every Secret key a container reads is produced by an ExternalSecret of the same
 * build, parameter names expand per environment, a composed database URL renders as expected, and no
 * secret value is anywhere in what the generator writes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { generate } from "../generator/core/index.js";
import { databaseUrlTemplate, secretsManifests } from "../generator/core/secrets.js";
import { renderGoTemplate } from "./go-template.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { renderAll } from "../generator/render/render.js";
import type { KubeDocument } from "../generator/validate/kustomize.js";
import { ROOT, committedBuild, exampleData, exampleText, loadForCore } from "./helpers.js";

const config = loadForCore(exampleText());
const ENVIRONMENTS = Object.keys(config.environments);
const builds = new Map<string, KubeDocument[]>();

beforeAll(() => {
  for (const env of ENVIRONMENTS) builds.set(env, committedBuild(`overlays/${env}`));
});

function configWith(change: (d: any) => void): Config {
  const d = exampleData();
  change(d);
  return loadForCore(stringify(d));
}

/** Secret name -> keys the ExternalSecrets of a build produce (templated keys replace fetched ones). */
function producedKeys(objects: readonly KubeDocument[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const es of objects.filter((o) => o.kind === "ExternalSecret")) {
    const spec = es.spec as any;
    const keys = spec.target.template?.data ? Object.keys(spec.target.template.data) : spec.data.map((d: any) => d.secretKey);
    out.set(spec.target.name ?? es.metadata.name, new Set(keys));
  }
  return out;
}

/** Every (Secret, key) a pod of the build reads: env secretKeyRefs and secret volumes, the task pod template included. */
function consumedKeys(objects: readonly KubeDocument[]): { owner: string; secret: string; key: string }[] {
  const pods: [string, any][] = objects.flatMap((o) =>
    (o.spec as any)?.template?.spec?.containers ? [[`${o.kind}/${o.metadata.name}`, (o.spec as any).template.spec]] : [],
  );
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!;
  pods.push(["pod_template_file", parse((configMap.data as any)["pod_template_file.yaml"]).spec]);
  return pods.flatMap(([owner, pod]) => [
    ...[...(pod.initContainers ?? []), ...pod.containers].flatMap((c: any) =>
      (c.env ?? []).flatMap((e: any) => (e.valueFrom?.secretKeyRef ? [{ owner: `${owner}/${c.name}`, secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key }] : [])),
    ),
    ...(pod.volumes ?? []).flatMap((v: any) => (v.secret?.items ?? []).map((item: any) => ({ owner, secret: v.secret.secretName, key: item.key }))),
  ]);
}

describe.each(ENVIRONMENTS)("secrets of %s", (env) => {
  it("produces every Secret key any container reads, in the same build", () => {
    const produced = producedKeys(builds.get(env)!);
    const consumed = consumedKeys(builds.get(env)!);
    expect(consumed.length).toBeGreaterThan(10);
    const missing = consumed.filter(({ secret, key }) => !produced.get(secret)?.has(key)).map(({ owner, secret, key }) => `${owner}: ${secret}/${key}`);
    expect(missing).toEqual([]);
  });

  it("reads each parameter of this environment only, through the build's store", () => {
    const objects = builds.get(env)!;
    const stores = objects.filter((o) => o.kind === "SecretStore").map((o) => o.metadata.name);
    for (const es of objects.filter((o) => o.kind === "ExternalSecret")) {
      const spec = es.spec as any;
      expect(stores).toContain(spec.secretStoreRef.name);
      for (const d of spec.data) expect(d.remoteRef.key.startsWith(`/airflow/${env}/`), d.remoteRef.key).toBe(true);
      expect(spec.target).toMatchObject({ creationPolicy: "Owner", deletionPolicy: "Retain" });
      for (const d of spec.data) {
        expect(d.remoteRef).toMatchObject({ conversionStrategy: "Default", decodingStrategy: "None", metadataPolicy: "None" });
      }
    }
  });

  it("authenticates the store with IRSA through a ServiceAccount that carries the environment's role", () => {
    const objects = builds.get(env)!;
    const store = objects.find((o) => o.kind === "SecretStore")!;
    const aws = (store.spec as any).provider.aws;
    expect(aws).toMatchObject({ service: "ParameterStore", region: "sa-east-1" });
    const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata.name === aws.auth.jwt.serviceAccountRef.name)!;
    expect(sa.metadata.annotations!["eks.amazonaws.com/role-arn"]).toBe(`arn:aws:iam::123456789012:role/airflow-${env}-secrets`);
  });
});

describe("secret wiring", () => {
  it("rolls the pods that read a Secret when its parameter name changes, and only those", () => {
    const before = buildManifests(resolveEnvironment(config, "prod"));
    const moved = configWith((d) => (d.secrets.parameters.jwtSecret = "/airflow/{env}/jwt-secret-v2"));
    const after = buildManifests(resolveEnvironment(moved, "prod"));
    const annotation = (manifests: typeof before, name: string, key: string) =>
      (manifests.find((m) => m.object.kind === "Deployment" && m.object.metadata.name === name)!.object.spec as any).template.metadata.annotations?.[key];
    for (const name of ["airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]) {
      expect(annotation(before, name, "checksum/airflow-secrets")).toMatch(/^[0-9a-f]{64}$/);
      expect(annotation(after, name, "checksum/airflow-secrets")).not.toBe(annotation(before, name, "checksum/airflow-secrets"));
    }
    expect(annotation(after, "airflow-dag-sync", "checksum/git-credentials")).toBe(annotation(before, "airflow-dag-sync", "checksum/git-credentials"));
    expect(annotation(before, "airflow-dag-sync", "checksum/airflow-secrets")).toBeUndefined();
  });

  it("composes the database URL from parts with the password URL-encoded", () => {
    const parts = configWith((d) => (d.secrets.parameters.database = { source: "parts" }));
    const es = secretsManifests(resolveEnvironment(parts, "prod")).find((m) => m.object.metadata.name === "airflow-metadata-db")!.object as any;
    expect(es.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key])).toEqual([
      ["host", "/airflow/prod/database/host"],
      ["port", "/airflow/prod/database/port"],
      ["name", "/airflow/prod/database/name"],
      ["username", "/airflow/prod/database/username"],
      ["password", "/airflow/prod/database/password"],
    ]);
    expect(es.spec.target.template).toMatchObject({ engineVersion: "v2", mergePolicy: "Replace" });
    const url = renderGoTemplate(es.spec.target.template.data.connection, {
      host: "db.cluster-abc.sa-east-1.rds.amazonaws.com",
      port: "5432",
      name: "airflow",
      username: "airflow",
      password: "p@ss:w/rd#1%& +",
    });
    expect(url).toBe("postgresql://airflow:p%40ss%3Aw%2Frd%231%25%26%20%2B@db.cluster-abc.sa-east-1.rds.amazonaws.com:5432/airflow?sslmode=require");
    expect(databaseUrlTemplate("verify-full")).toContain("?sslmode=verify-full");
  });

  it("writes a ClusterSecretStore limited to the environment's namespace when asked", () => {
    const cluster = configWith((d) => (d.secrets.store = "ClusterSecretStore"));
    const objects = secretsManifests(resolveEnvironment(cluster, "dev")).map((m) => m.object as any);
    const store = objects.find((o) => o.kind === "ClusterSecretStore");
    expect(store.metadata).toEqual(expect.objectContaining({ name: "airflow-dev-parameter-store" }));
    expect(store.metadata.namespace).toBeUndefined();
    expect(store.spec.conditions).toEqual([{ namespaces: ["airflow-dev"] }]);
    expect(store.spec.provider.aws.auth.jwt.serviceAccountRef).toEqual({ name: "airflow-external-secrets", namespace: "airflow-dev" });
    for (const es of objects.filter((o) => o.kind === "ExternalSecret")) {
      expect(es.spec.secretStoreRef).toEqual({ name: "airflow-dev-parameter-store", kind: "ClusterSecretStore" });
    }
  });

  it("leaves auth and the role out with EKS Pod Identity", () => {
    const podIdentity = configWith((d) => (d.environments.prod.iam = { mode: "podIdentity" }));
    const objects = secretsManifests(resolveEnvironment(podIdentity, "prod")).map((m) => m.object as any);
    expect(objects.find((o) => o.kind === "SecretStore").spec.provider.aws.auth).toBeUndefined();
    expect(objects.some((o) => o.kind === "ServiceAccount")).toBe(false);
    expect(JSON.stringify(buildManifests(resolveEnvironment(podIdentity, "prod")))).not.toContain("eks.amazonaws.com/role-arn");
  });

  it("fetches the HTTPS user and token for git-sync over HTTPS, and nothing for a public repository", () => {
    const https = configWith((d) => Object.assign(d.dags.gitSync, { repository: "https://github.com/acme/dags.git", auth: "https" }));
    const git = secretsManifests(resolveEnvironment(https, "dev")).find((m) => m.object.metadata.name === "airflow-git-credentials")!.object as any;
    expect(git.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key])).toEqual([
      ["username", "/airflow/dev/git/username"],
      ["password", "/airflow/dev/git/token"],
    ]);
    const open = configWith((d) => Object.assign(d.dags.gitSync, { repository: "https://github.com/acme/dags.git", auth: "none" }));
    expect(secretsManifests(resolveEnvironment(open, "dev")).some((m) => m.object.metadata.name === "airflow-git-credentials")).toBe(false);
  });

  it("documents every parameter to create, the least-privilege policy and the Fernet key rotation", () => {
    const files = renderAll(generate(config));
    const readme = files.get("secrets/prod/README.md")!;
    for (const es of secretsManifests(resolveEnvironment(config, "prod")).filter((m) => m.object.kind === "ExternalSecret")) {
      for (const d of (es.object.spec as any).data) expect(readme).toContain(`| \`${d.remoteRef.key}\` | SecureString |`);
    }
    expect(readme).toContain('"arn:aws:ssm:sa-east-1:123456789012:parameter/airflow/prod/*"');
    expect(readme).toContain('"kms:ViaService": "ssm.sa-east-1.amazonaws.com"');
    expect(readme).toContain("airflow rotate-fernet-key");
    expect(readme).toContain("arn:aws:iam::123456789012:role/airflow-prod-secrets");
    expect(readme).not.toContain("**shared**");
  });

  it("marks a parameter without {env} as shared in each environment's page, and its rotation names every environment it touches", () => {
    const shared = loadForCore(exampleText().replace("    fernetKey: /airflow/{env}/fernet-key\n", "    fernetKey: /airflow/shared/fernet-key\n"));
    expect(shared.secrets.parameters.fernetKey).toBe("/airflow/shared/fernet-key");
    const files = renderAll(generate(shared));
    for (const [env, other] of [["dev", "prod"], ["prod", "dev"]] as const) {
      const readme = files.get(`secrets/${env}/README.md`)!;
      expect(readme).toMatch(new RegExp(`\\| \`/airflow/shared/fernet-key\` \\| SecureString \\| .* \\(\\*\\*shared\\*\\* with ${other}\\) \\|`));
      expect(readme).toContain(`\`/airflow/shared/fernet-key\` is shared with ${other}: a rotation touches ${env}, ${other}.`);
      expect(readme.match(/\*\*shared\*\*/g)).toHaveLength(1);
    }
  });
});

/** Which README row each Airflow container of a build belongs to. */
function processOf(owner: string, container: string): string {
  if (container === "wait-for-migrations") return "wait-for-migrations";
  if (owner === "pod_template_file") return "task pods";
  if (owner.startsWith("Job/")) return `${owner.slice("Job/airflow-".length)} Job`;
  if (owner.startsWith("CronJob/")) return `${owner.slice("CronJob/airflow-".length)} CronJob`;
  return container;
}

/** The README's component × secret table: process -> the Airflow env variables it reads. */
function readmeSecretTable(): Map<string, Set<string>> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const header = readme.split("\n").findIndex((line) => line.startsWith("| process | Fernet key |"));
  expect(header).toBeGreaterThan(0);
  const columns = ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"];
  const table = new Map<string, Set<string>>();
  for (const line of readme.split("\n").slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    table.set(cells[0]!, new Set(columns.filter((_, i) => cells[i + 1] === "yes")));
  }
  return table;
}

describe("secrets each process reads", () => {
  const objects = buildManifests(resolveEnvironment(config, "prod")).map((m) => m.object as unknown as KubeDocument);
  const airflowContainers = consumedEnv(objects).filter(({ image }) => image.startsWith("apache/airflow:"));

  it("gives task pods no database URL, Fernet key, API secret key or JWT secret", () => {
    const task = airflowContainers.filter(({ owner }) => owner === "pod_template_file");
    expect(task).toHaveLength(1);
    expect(task[0]!.secretEnv).toEqual([]);
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!;
    expect((configMap.data as any)["pod_template_file.yaml"]).not.toMatch(/secretKeyRef|FERNET|SQL_ALCHEMY|SECRET_KEY|JWT/);
  });

  it("matches the README's table, process by process", () => {
    const table = readmeSecretTable();
    const seen = new Set<string>();
    for (const { owner, container, secretEnv } of airflowContainers) {
      const process = processOf(owner, container);
      seen.add(process);
      expect(table.has(process), `${process} (${owner}/${container}) is not in the README table`).toBe(true);
      expect(new Set(secretEnv), `${owner}/${container}`).toEqual(table.get(process));
    }
    expect([...seen].sort()).toEqual([...table.keys()].sort());
  });
});

/** Every container of a build (the task pod template included) with the env variables it fills from Secrets. */
function consumedEnv(objects: readonly KubeDocument[]): { owner: string; container: string; image: string; secretEnv: string[] }[] {
  const pods: [string, any][] = objects.flatMap((o) => {
    const template = (o.spec as any)?.template ?? (o.spec as any)?.jobTemplate?.spec?.template;
    return template?.spec?.containers ? [[`${o.kind}/${o.metadata.name}`, template.spec]] : [];
  });
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "airflow-config")!;
  pods.push(["pod_template_file", parse((configMap.data as any)["pod_template_file.yaml"]).spec]);
  return pods.flatMap(([owner, pod]) =>
    [...(pod.initContainers ?? []), ...pod.containers].map((c: any) => ({
      owner,
      container: c.name,
      image: c.image,
      secretEnv: (c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef && e.name.startsWith("AIRFLOW__")).map((e: any) => e.name),
    })),
  );
}

/** A PostgreSQL URL with a literal password; `<placeholders>` and `{{ template }}` fields are not values. */
const DATABASE_URL_WITH_PASSWORD = /postgres(ql)?(\+\w+)?:\/\/[^:\s{<]+:[^@\s{<]+@/;

describe("no secret in the repository", () => {
  it("writes no Secret object and no key material anywhere", () => {
    const variants = [config, configWith((d) => (d.secrets.parameters.database = { source: "parts" }))];
    const problems: string[] = [];
    for (const variant of variants) {
      for (const [path, text] of renderAll(generate(variant))) {
        if (/^kind:\s*Secret\s*$/m.test(text)) problems.push(`${path}: kind Secret`);
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) problems.push(`${path}: private key`);
        // A Fernet key is 32 url-safe base64 bytes: 43 characters and "=".
        if (/(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}=($|[^A-Za-z0-9_=-])/m.test(text)) problems.push(`${path}: Fernet-like key`);
        if (DATABASE_URL_WITH_PASSWORD.test(text)) problems.push(`${path}: database URL with a password`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("would notice a Secret and a key if one were written", () => {
    const leaked = `kind: Secret\ndata:\n  fernet-key: ${"x7_-".repeat(10)}abc=\n  url: postgresql://airflow:hunter2@db:5432/airflow\n`;
    expect(/^kind:\s*Secret\s*$/m.test(leaked)).toBe(true);
    expect(DATABASE_URL_WITH_PASSWORD.test(leaked)).toBe(true);
    expect(DATABASE_URL_WITH_PASSWORD.test("postgresql://<user>:<password>@<host>:5432/<database>")).toBe(false);
    expect(/(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}=($|[^A-Za-z0-9_=-])/m.test(leaked)).toBe(true);
  });
});

describe("the Parameter Store secrets backend", () => {
  const withBackend = (kwargs?: string) =>
    loadForCore(
      exampleText().replace(
        "    core:\n",
        `    secrets:\n      backend: airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend\n${kwargs ? `      backend_kwargs: '${kwargs}'\n` : ""}    core:\n`,
      ),
    );

  it("gets the IAM policy of its prefixes in each environment's page, naming the roles that need it", () => {
    const readme = renderAll(generate(withBackend())).get("secrets/prod/README.md")!;
    expect(readme).toContain("## IAM policy for the Parameter Store secrets backend");
    for (const prefix of ["connections", "variables", "config"]) expect(readme).toContain(`"arn:aws:ssm:sa-east-1:123456789012:parameter/airflow/${prefix}/*"`);
    expect(readme).toContain("`arn:aws:iam::123456789012:role/airflow-prod-tasks`, `arn:aws:iam::123456789012:role/airflow-prod-scheduler`");
    expect(readme).toContain("`iam.roles.dagProcessor`: not set, so that process has no AWS identity and its lookups fail");
  });

  it("follows backend_kwargs: other prefixes, a lookup turned off, another region", () => {
    const readme = renderAll(generate(withBackend('{"connections_prefix": "prod/conns/", "variables_prefix": null, "region_name": "us-east-1"}'))).get("secrets/prod/README.md")!;
    expect(readme).toContain('"arn:aws:ssm:us-east-1:123456789012:parameter/prod/conns/*"');
    expect(readme).not.toContain("parameter/airflow/variables/*");
    expect(readme).toContain('"arn:aws:ssm:us-east-1:123456789012:parameter/airflow/config/*"');
  });

  it("is absent without the backend", () => {
    expect(renderAll(generate(config)).get("secrets/prod/README.md")).not.toContain("secrets backend");
  });
});
