/**
 * What a real cluster needs beyond a schema-valid build: the load balancer's path through the
 * NetworkPolicy, proxy headers and the public URL, readiness gates, git ownership on EFS, JWT claims.
 */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, formatIssue } from "../generator/config/issues.js";
import { loadConfig } from "../generator/config/load.js";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { exampleData, exampleText } from "./helpers.js";

const config = loadConfig(exampleText(), "airflow-gitops.yaml");

function configWith(change: (d: any) => void): Config {
  const d = exampleData();
  change(d);
  return loadConfig(stringify(d), "airflow-gitops.yaml");
}

function problems(change: (d: any) => void): string[] {
  try {
    configWith(change);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => formatIssue(error.file, i));
    throw error;
  }
  return [];
}

const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const cfgOf = (objects: any[]) => find(objects, "ConfigMap", "airflow-config").data["airflow.cfg"] as string;
const option = (cfg: string, section: string, key: string) =>
  new RegExp(`^\\[${section}\\]\\n(?:[^\\[].*\\n)*?${key} = (.*)$`, "m").exec(cfg)?.[1];

describe("the load balancer reaches the api-server", () => {
  const prod = objectsOf(config, "prod");

  it("admits the VPC ranges, not the client ranges, in the api-server NetworkPolicy", () => {
    const policy = find(prod, "NetworkPolicy", "airflow-api-server");
    const froms = policy.spec.ingress.map((rule: any) => rule.from);
    for (const from of froms) expect(from.length).toBeGreaterThan(0);
    expect(froms[0]).toEqual([{ ipBlock: { cidr: "10.0.0.0/16" } }]);
    expect(find(prod, "Ingress", "airflow-api-server").metadata.annotations["alb.ingress.kubernetes.io/inbound-cidrs"]).toBe("10.0.0.0/8");
  });

  it("requires ingress.vpcCidrs for every environment, and accepts it per environment", () => {
    expect(problems((d) => delete d.ingress.vpcCidrs)).toEqual([
      expect.stringMatching(/environments\.dev\.ingress\.vpcCidrs: is required/),
      expect.stringMatching(/environments\.prod\.ingress\.vpcCidrs: is required/),
    ]);
    const perEnvironment = configWith((d) => {
      delete d.ingress.vpcCidrs;
      d.environments.dev.ingress.vpcCidrs = ["10.1.0.0/16"];
      d.environments.prod.ingress.vpcCidrs = ["10.2.0.0/16", "10.3.0.0/16"];
    });
    const froms = find(objectsOf(perEnvironment, "prod"), "NetworkPolicy", "airflow-api-server").spec.ingress[0].from;
    expect(froms).toEqual([{ ipBlock: { cidr: "10.2.0.0/16" } }, { ipBlock: { cidr: "10.3.0.0/16" } }]);
  });

  it("labels the namespace for the load balancer controller's pod readiness gates", () => {
    expect(find(prod, "Namespace", "airflow").metadata.labels["elbv2.k8s.aws/pod-readiness-gate-inject"]).toBe("enabled");
  });
});

describe("links and proxy headers", () => {
  it("sets [api] base_url to the ingress URL, https with a certificate, http without", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "api", "base_url")).toBe("https://airflow.acme.com/");
    expect(option(cfgOf(objectsOf(config, "dev")), "api", "base_url")).toBe("http://airflow.dev.acme.internal/");
    const noHost = configWith((d) => delete d.environments.dev.ingress.host);
    expect(option(cfgOf(objectsOf(noHost, "dev")), "api", "base_url")).toBeUndefined();
  });

  it("keeps the Execution API URL on the in-cluster Service, consistent with the base path", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "core", "execution_api_server_url")).toBe(
      "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/",
    );
  });

  it("refuses a base_url in the config: it comes from the ingress", () => {
    expect(problems((d) => (d.airflow.config.api = { base_url: "https://other.example.com/" }))).toEqual([
      expect.stringMatching(/airflow\.config\.api\.base_url: is set by the generator/),
    ]);
  });

  it("runs the api-server with proxy headers trusted from the VPC only", () => {
    const container = find(objectsOf(config, "prod"), "Deployment", "airflow-api-server").spec.template.spec.containers[0];
    expect(container.args.at(-1)).toBe("exec airflow api-server --proxy-headers");
    expect(container.env).toContainEqual({ name: "FORWARDED_ALLOW_IPS", value: "10.0.0.0/16" });
  });
});

describe("git-sync on an EFS access point", () => {
  it.each([
    ["with the builder", config],
    ["without the builder", configWith((d) => delete d.dags.builder)],
  ])("marks the checkout safe and keeps its root filesystem read-only (%s)", (_layout, variant) => {
    const spec = find(objectsOf(variant, "prod"), "Deployment", "airflow-dag-sync").spec.template.spec;
    const gitSync = spec.containers.find((c: any) => c.name === "git-sync");
    expect(gitSync.env).toContainEqual({ name: "GITSYNC_GIT_CONFIG", value: "safe.directory:*" });
    expect(gitSync.securityContext.readOnlyRootFilesystem).toBe(true);
    const home = gitSync.env.find((e: any) => e.name === "HOME").value;
    const mount = gitSync.volumeMounts.find((m: any) => m.mountPath === home);
    expect(spec.volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
  });
});

describe("hygiene", () => {
  it("sets JWT issuer and audience per environment", () => {
    const prod = cfgOf(objectsOf(config, "prod"));
    const dev = cfgOf(objectsOf(config, "dev"));
    expect(option(prod, "api_auth", "jwt_issuer")).toBe("urn:airflow-gitops:airflow:prod");
    expect(option(prod, "api_auth", "jwt_audience")).toBe("urn:airflow-gitops:airflow:prod");
    expect(option(dev, "api_auth", "jwt_issuer")).toBe("urn:airflow-gitops:airflow:dev");
  });

  it("spreads parsing over several dag-processors", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "dag_processor", "file_parsing_sort_mode")).toBe("random_seeded_by_host");
    expect(option(cfgOf(objectsOf(config, "dev")), "dag_processor", "file_parsing_sort_mode")).toBeUndefined();
  });

  it("keeps [kubernetes_executor] namespace: the executor's watcher and pod namespace still come from it", () => {
    expect(option(cfgOf(objectsOf(config, "dev")), "kubernetes_executor", "namespace")).toBe("airflow-dev");
  });

  it("runs statsd, git-sync and the placeholders with a read-only root filesystem", () => {
    const prod = objectsOf(config, "prod");
    const containers = ["airflow-statsd", "airflow-dag-sync", "airflow-peak-placeholder"].flatMap(
      (name) => find(prod, "Deployment", name).spec.template.spec.containers,
    );
    const readOnly = containers.filter((c: any) => c.name !== "dag-builder").map((c: any) => [c.name, c.securityContext.readOnlyRootFilesystem]);
    expect(readOnly).toEqual([
      ["statsd-exporter", true],
      ["git-sync", true],
      ["pause", true],
    ]);
  });
});
