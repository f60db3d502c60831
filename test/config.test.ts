import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../generator/config/load.js";
import { configJsonSchema } from "../generator/config/schema.js";
import { OVERRIDE_COMMENT } from "../generator/config/environment-schema.js";
import { configProblems, exampleData, exampleText } from "./helpers.js";

const problems = configProblems;

/** The example config with one change applied, as YAML text. */
function exampleWith(change: (data: Record<string, any>) => void): string {
  const data = exampleData();
  change(data);
  return stringify(data);
}

describe("loadConfig", () => {
  it("accepts the example and fills every default", () => {
    const config = loadConfig(exampleText(), "airflow-gitops.yaml");
    expect(config.components.apiServer.replicas).toBe(1);
    expect(config.components.triggerer.resources.limits.memory).toBe("1Gi");
    expect(config.dags.gitSync.image).toMatch(/^registry\.k8s\.io\/git-sync\/git-sync:v4\./);
    expect(config.airflow.migrationWaitTimeoutSeconds).toBe(300);
    expect(config.ingress.className).toBe("alb");
  });

  it.each([
    {
      name: "YAML syntax error",
      text: "name: airflow\nnamespace: [airflow\n",
      expected: /^airflow-gitops\.yaml:\d+:\d+ YAML: /,
    },
    {
      name: "duplicate key",
      text: "name: a\nname: b\n",
      expected: /^airflow-gitops\.yaml:2:1 YAML: Map keys must be unique/,
    },
    {
      name: "a list instead of a mapping",
      text: "- a\n- b\n",
      expected: /^airflow-gitops\.yaml:1:1 must be a YAML mapping of settings$/,
    },
  ])("reports $name with its position", ({ text, expected }) => {
    const found = problems(text);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatch(expected);
  });

  it("names a misspelt key with its line and suggests the right one", () => {
    const text = exampleText().replace("  scheduler:\n    resources:", "  schedular:\n    resources:");
    const line = text.split("\n").findIndex((l) => l.startsWith("  schedular:")) + 1;
    expect(problems(text)).toEqual([
      `airflow-gitops.yaml:${line}:3 components.schedular: unknown field "schedular"; did you mean "scheduler"? ` +
        "Allowed: apiServer, scheduler, dagProcessor, triggerer, statsd, dagSync, worker, migrations",
    ]);
  });

  it("reports a value of the wrong type at the value", () => {
    const text = exampleText().replace("    size: 10Gi", "    size: [10Gi]");
    const line = text.split("\n").findIndex((l) => l === "    size: [10Gi]") + 1;
    expect(problems(text)).toEqual([`airflow-gitops.yaml:${line}:11 storage.dags.size: must be string, found a list`]);
  });

  it("reports a missing required field at its parent", () => {
    const text = exampleText().replace("    fileSystemId: fs-0123456789abcdef0\n", "    {}\n").replace("  efs:\n    {}", "  efs: {}");
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^airflow-gitops\.yaml:\d+:\d+ storage\.efs\.fileSystemId: is required$/);
  });

  it("lists every problem at once, in file order", () => {
    const text = exampleWith((d) => {
      d.name = "Airflow";
      d.components.scheduler.replicas = 0;
      d.aws.region = "mars";
      delete d.environments;
    });
    const found = problems(text);
    expect(found.map((f) => f.replace(/^airflow-gitops\.yaml:\d+:\d+ /, ""))).toEqual([
      `name: must be a DNS label: lower-case letters, digits and '-', starting with a letter, found "Airflow"`,
      'aws.region: must be an AWS region like sa-east-1, found "mars"',
      "components.scheduler.replicas: must be >= 1, found 0",
      "environments: is required",
    ].sort((a, b) => order(found, a) - order(found, b)));
    expect(found).toHaveLength(4);
  });

  it.each([
    [(d: any) => (d.ingress.scheme = "public"), 'ingress.scheme: must be one of "internal", "internet-facing", found "public"'],
    [(d: any) => (d.airflow.image.tag = "latest"), 'airflow.image.tag: must be an image tag (not latest), optionally pinned to a digest: 3.3.2 or 3.3.2@sha256:<64 hex digits>, found "latest"'],
    [(d: any) => (d.environments = {}), "environments: must have at least 1 entry"],
    [(d: any) => (d.environments = { Prod: {} }), `environments.Prod: invalid name "Prod": must be lower-case letters`],
    [(d: any) => (d.dags.builder = { image: "acme/dag-builder:1.4.0", command: [] }), "dags.builder.command: must have at least 1 item(s)"],
    [(d: any) => (d.airflow.config.core.parallelism = { a: 1 }), "airflow.config.core.parallelism: must be string or number or boolean, found a mapping"],
  ])("rejects bad values (%#)", (change, expected) => {
    expect(problems(exampleWith(change)).join("\n")).toContain(expected);
  });
});

describe("cross-field rules", () => {
  it.each([
    [(d: any) => (d.airflow.config.webserver = { web_server_port: 8081 }), "airflow.config.webserver.web_server_port: is the old name of [api] port, which is set by the generator"],
    [(d: any) => (d.airflow.config.core.dag_default_view = "grid"), "airflow.config.core.dag_default_view: [core] dag_default_view was removed in Airflow 3"],
    [(d: any) => (d.airflow.config.core.paralelism = 8), 'airflow.config.core.paralelism: [core] has no option "paralelism" in Airflow 3.3.2; did you mean "parallelism"?'],
    [(d: any) => (d.airflow.config.kubernetes = { namespace: "x" }), "airflow.config.kubernetes.namespace: [kubernetes] is not a section of Airflow 3.3.2 or of a provider its image ships; did you mean [kubernetes_executor]?"],
    [(d: any) => (d.airflow.config.core.fernet_key = "abc"), "airflow.config.core.fernet_key: is a secret: it comes from AWS Parameter Store"],
    [(d: any) => (d.airflow.config.database = { sql_alchemy_conn: "postgresql://" }), "airflow.config.database.sql_alchemy_conn: is a secret"],
    [(d: any) => (d.airflow.config.core.executor = "CeleryExecutor"), "airflow.config.core.executor: is set by the generator (the deployment is built for the KubernetesExecutor)"],
    [(d: any) => (d.airflow.config.logging = { logging_level: "LOUD" }), "airflow.config.logging.logging_level: must be one of CRITICAL, FATAL, ERROR, WARN, WARNING, INFO, DEBUG"],
    [(d: any) => (d.airflow.image.tag = "2.10.5"), "airflow.image.tag: Airflow 2.10.5 is not Airflow 3"],
    [(d: any) => (d.dags.gitSync.auth = "https"), 'dags.gitSync.auth: is "https" but the repository URL git@github.com:acme/airflow-task-specs.git is an SSH URL'],
    [(d: any) => ((d.dags.gitSync.repository = "https://github.com/acme/dags.git"), (d.dags.gitSync.auth = "ssh")), 'dags.gitSync.auth: is "ssh" but the repository URL https://github.com/acme/dags.git is not an SSH URL'],
  ])("rejects %#", (change, expected) => {
    const found = problems(exampleWith(change));
    expect(found.join("\n")).toContain(expected);
    expect(found.every((f) => /^airflow-gitops\.yaml:\d+:\d+ /.test(f))).toBe(true);
  });

  it("accepts options of sections it cannot check (other providers)", () => {
    expect(problems(exampleWith((d) => (d.airflow.config.openlineage = { transport: "{}" })))).toEqual([]);
  });
});

describe("environment rules", () => {
  const prod = (change: (env: any) => void) => exampleWith((d) => change(d.environments.prod));
  it.each([
    [
      "overlapping windows",
      prod((e) => e.peakHours.windows.push({ days: "fri", start: "10:00", end: "12:00" })),
      "environments.prod.peakHours.windows[3]: fri 10:00-12:00 overlaps windows[0] (mon-fri 07:00-11:00); merge them into one window",
    ],
    [
      "an overnight window overlapping the next morning",
      prod((e) => (e.peakHours.windows[2] = { days: "daily", start: "23:00", end: "07:30" })),
      "environments.prod.peakHours.windows[2]: daily 23:00-07:30 overlaps windows[0] (mon-fri 07:00-11:00)",
    ],
    ["an empty window", prod((e) => (e.peakHours.windows[0].end = "07:00")), "environments.prod.peakHours.windows[0].end: equals the start 07:00: the window is empty"],
    ["no days", prod((e) => (e.peakHours.windows[0].days = "")), "environments.prod.peakHours.windows[0].days: must be days of the week such as mon-fri"],
    ["no windows", prod((e) => (e.peakHours.windows = [])), "environments.prod.peakHours.windows: must have at least 1 item(s)"],
    ["a bad time", prod((e) => (e.peakHours.windows[0].start = "7:00")), "environments.prod.peakHours.windows[0].start: must be a 24-hour time HH:MM"],
    ["an unknown time zone", prod((e) => (e.peakHours.timezone = "America/Sao_Paolo")), 'environments.prod.peakHours.timezone: "America/Sao_Paolo" is not a known IANA time zone'],
    ["min above max", prod((e) => (e.autoscaling.scheduler.min = 5)), "environments.prod.autoscaling.scheduler.min: is 5, more than max 4"],
    ["peak replicas above max", prod((e) => (e.peakHours.replicas.apiServer = 7)), "environments.prod.peakHours.replicas.apiServer: is 7, above autoscaling.apiServer.max 6"],
    [
      "peak replicas without autoscaling",
      prod((e) => delete e.autoscaling.scheduler),
      "environments.prod.peakHours.replicas.scheduler: needs autoscaling.scheduler (min and max) in this environment",
    ],
    ["peak windows with plain HPAs", prod((e) => (e.autoscaling.engine = "hpa")), 'environments.prod.peakHours.replicas.apiServer: needs autoscaling.engine "keda"'],
    ["a node pool without a label", prod((e) => (e.peakHours.nodePool.labels = {})), "environments.prod.peakHours.nodePool.labels: must have at least 1 entry"],
    ["placeholders without a pool", prod((e) => delete e.peakHours.nodePool), "environments.prod.peakHours.warmCapacity: needs peakHours.nodePool"],
    ["a lead time over 12h", prod((e) => (e.peakHours.warmCapacity.leadTime = "13h")), "environments.prod.peakHours.warmCapacity.leadTime: is 13h; at most 12h"],
    ["fixed replicas on an autoscaled component", prod((e) => (e.components.apiServer.replicas = 3)), "environments.prod.components.apiServer.replicas: conflicts with autoscaling.apiServer"],
    ["a reserved Karpenter label", prod((e) => (e.peakHours.nodePool.labels["node.kubernetes.io/pool"] = "x")), 'environments.prod.peakHours.nodePool.labels["node.kubernetes.io/pool"]: is a label Karpenter reserves'],
    ["roles with Pod Identity", prod((e) => (e.iam.mode = "podIdentity")), "environments.prod.iam.roles: must be empty with podIdentity"],
    ["a role that is not an ARN", prod((e) => (e.iam.roles.worker = "airflow-tasks")), "environments.prod.iam.roles.worker: must be an IAM role ARN"],
    ["an override of an unknown option", prod((e) => (e.airflow.config.core.paralelism = 8)), 'environments.prod.airflow.config.core.paralelism: [core] has no option "paralelism" in Airflow 3.3.2; did you mean "parallelism"?'],
    ["an Airflow 2 tag in one environment", prod((e) => (e.airflow.image = { tag: "2.10.5" })), "environments.prod.airflow.image.tag: Airflow 2.10.5 is not Airflow 3"],
    ["a misspelt override", prod((e) => (e.components.apiServer.replica = 2)), 'environments.prod.components.apiServer.replica: unknown field "replica"; did you mean "replicas"?'],
  ])("rejects %s with file, line and field", (_name, text, expected) => {
    const found = problems(text);
    expect(found.join("\n")).toContain(expected);
    const line = found.find((f) => f.includes(expected))!;
    expect(line).toMatch(/^airflow-gitops\.yaml:\d+:\d+ environments\.prod/);
  });

  it.each([
    ["a parameter path without a leading slash", (d: any) => (d.secrets.parameters.fernetKey = "airflow/{env}/fernet-key"), "secrets.parameters.fernetKey: must be a Parameter Store name starting with '/'"],
    [
      "a bad path in one environment",
      (d: any) => (d.environments.dev.secrets = { parameters: { jwtSecret: "jwt" } }),
      "environments.dev.secrets.parameters.jwtSecret: must be a Parameter Store name starting with '/'",
    ],
    ["an unknown auth mode", (d: any) => (d.environments.prod.iam.mode = "keys"), 'environments.prod.iam.mode: must be one of "irsa", "podIdentity", found "keys"'],
    ["IRSA without a secrets role", (d: any) => delete d.environments.prod.iam.roles.secrets, "environments.prod.iam.roles: needs iam.roles.secrets"],
    ["an environment without any IAM settings", (d: any) => delete d.environments.dev.iam, "environments.dev.iam.roles: needs iam.roles.secrets"],
    [
      "Pod Identity with a role for the store",
      (d: any) => (d.environments.prod.iam = { mode: "podIdentity", roles: { secrets: "arn:aws:iam::123456789012:role/x" } }),
      "environments.prod.iam.roles: must be empty with podIdentity: the manifests then carry no role and no serviceAccountRef",
    ],
    ["a missing region", (d: any) => delete d.aws.region, "aws.region: is required"],
    ["an unknown store kind", (d: any) => (d.secrets.store = "VaultStore"), 'secrets.store: must be one of "SecretStore", "ClusterSecretStore"'],
    ["a repository URL that is not a git URL", (d: any) => (d.repository.url = "github.com/acme/airflow-gitops"), "repository.url: must be a git URL"],
    [
      "a destination with both server and name",
      (d: any) => (d.argocd.environments.prod.name = "prod-cluster"),
      "argocd.environments.prod.name: cannot be set together with server",
    ],
    ["Argo CD options for an unknown environment", (d: any) => (d.argocd.environments.prd = {}), 'argocd.environments.prd: is not an environment; did you mean "prod"? Known: dev, prod'],
    ["a missing repository", (d: any) => delete d.repository, "repository: is required"],
  ])("rejects %s", (_name, change, expected) => {
    const found = problems(exampleWith(change));
    expect(found.join("\n")).toContain(expected);
    expect(found.find((f) => f.includes(expected))).toMatch(/^airflow-gitops\.yaml:\d+:\d+ /);
  });

  it("accepts windows that touch without overlapping, and Saturday night into Sunday", () => {
    const text = prod((e) => {
      e.peakHours.windows = [
        { days: "mon-fri", start: "07:00", end: "11:00" },
        { days: "mon-fri", start: "11:00", end: "12:00" },
        { days: "sat", start: "22:00", end: "02:00" },
        { days: "sun", start: "02:00", end: "04:00" },
      ];
    });
    expect(problems(text)).toEqual([]);
  });
});

describe("config JSON Schema", () => {
  it("describes every field and gives every optional field a default", () => {
    const missing: string[] = [];
    const visit = (schema: any, path: string, required: boolean) => {
      if (path && !schema.description) missing.push(`${path}: no description`);
      if (schema.$comment === OVERRIDE_COMMENT) return; // unset fields inherit the top-level value
      if (path && !required && schema.default === undefined && !schema.examples && schema.type !== undefined && path !== "dags.builder") {
        missing.push(`${path}: optional without default`);
      }
      for (const [key, sub] of Object.entries<any>(schema.properties ?? {})) {
        visit(sub, path ? `${path}.${key}` : key, (schema.required ?? []).includes(key));
      }
      for (const sub of Object.values<any>(schema.patternProperties ?? {})) if (sub.type === "object") visit(sub, `${path}.*`, true);
    };
    visit(configJsonSchema(), "", true);
    expect(missing).toEqual([]);
  });

  it("is closed: no object accepts unknown fields", () => {
    const open: string[] = [];
    const visit = (schema: any, path: string) => {
      if (schema.type === "object" && (schema.properties || schema.patternProperties) && schema.additionalProperties !== false) open.push(path);
      for (const [key, sub] of Object.entries<any>(schema.properties ?? {})) visit(sub, `${path}.${key}`);
      for (const sub of Object.values<any>(schema.patternProperties ?? {})) visit(sub, `${path}.*`);
    };
    visit(configJsonSchema(), "");
    expect(open).toEqual([]);
  });
});

function order(found: string[], message: string): number {
  return found.findIndex((f) => f.endsWith(message));
}
