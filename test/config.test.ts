import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../generator/config/load.js";
import { ConfigError, formatIssue } from "../generator/config/issues.js";
import { configJsonSchema } from "../generator/config/schema.js";
import { exampleData, exampleText } from "./helpers.js";

function problems(text: string): string[] {
  try {
    loadConfig(text, "airflow-gitops.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => formatIssue(error.file, i));
    throw error;
  }
  return [];
}

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
    [(d: any) => (d.airflow.image.tag = "latest"), 'airflow.image.tag: must be a pinned image tag (not latest), found "latest"'],
    [(d: any) => (d.environments = {}), "environments: must have at least 1 entry"],
    [(d: any) => (d.environments = { Prod: {} }), `environments.Prod: invalid name "Prod": must be lower-case letters`],
    [(d: any) => (d.dags.builder.command = []), "dags.builder.command: must have at least 1 item(s)"],
    [(d: any) => (d.airflow.config.core.parallelism = { a: 1 }), "airflow.config.core.parallelism: must be string or number or boolean, found a mapping"],
  ])("rejects bad values (%#)", (change, expected) => {
    expect(problems(exampleWith(change)).join("\n")).toContain(expected);
  });
});

describe("cross-field rules", () => {
  it.each([
    [(d: any) => (d.airflow.config.webserver = { web_server_port: 8081 }), "airflow.config.webserver.web_server_port: [webserver] web_server_port was renamed in Airflow 3; use [api] port"],
    [(d: any) => (d.airflow.config.core.dag_default_view = "grid"), "airflow.config.core.dag_default_view: [core] dag_default_view was removed in Airflow 3"],
    [(d: any) => (d.airflow.config.core.paralelism = 8), 'airflow.config.core.paralelism: [core] has no option "paralelism" in Airflow 3; did you mean "parallelism"?'],
    [(d: any) => (d.airflow.config.kubernetes = { namespace: "x" }), "airflow.config.kubernetes.namespace: section [kubernetes] is not read by Airflow 3; use [kubernetes_executor]"],
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

describe("config JSON Schema", () => {
  it("describes every field and gives every optional field a default", () => {
    const missing: string[] = [];
    const visit = (schema: any, path: string, required: boolean) => {
      if (path && !schema.description) missing.push(`${path}: no description`);
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
