/**
 * The validator as users run it: it passes the committed tree, and for each class of defect a copy of
 * the tree with that one defect injected fails with the right message.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { FIELD_TABLE_FILE } from "../generator/validate/derive-field-tables.js";
import { derivedFieldTableText } from "./derived-field-tables.js";
import { unknownFields } from "../generator/validate/unknown-fields.js";
import { formatProblem, validateRepository } from "../generator/validate/validate.js";
import { ROOT, SHARED_SCHEMAS, hasSharedSchemas, runCli, tempProject, editYaml } from "./helpers.js";
import { jsPattern } from "../generator/validate/schema-dir.js";

/** A project holding the config and what one environment's build reads: base/, its secrets and its overlay. */
function buildCopy(target: string): string {
  const env = target.replace(/^overlays\//, "");
  const dir = tempProject();
  for (const part of ["base", `secrets/${env}`, `overlays/${env}`]) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  return dir;
}

const edit = editYaml;

describe("validate on the committed tree", () => {
  // The strict upstream schemas only add checks, so one run with them (when they are at hand) covers both.
  it(`finds no problem in any overlay or in argocd/${hasSharedSchemas ? ", with the strict upstream schemas too" : ""}`, async () => {
    const report = await validateRepository(ROOT, hasSharedSchemas ? { schemasDir: SHARED_SCHEMAS } : {});
    expect(report.problems.map(formatProblem)).toEqual([]);
    expect(report.targets.map((t) => t.target)).toEqual(["overlays/dev", "overlays/prod", "argocd"]);
    expect(report.passed).toBeGreaterThan(80);
    expect(report.failed).toBe(0);
  });

  it("prints its summary and exits 0 from the command line", async () => {
    const { code, out } = await runCli(["validate", "--dir", ROOT]);
    expect(code).toBe(0);
    expect(out).toMatch(/^\d+ passed, 0 failed \(overlays\/dev, overlays\/prod, argocd\)(; \d of 3 build\(s\) unchanged, verdict from the cache in .* \(--no-cache checks again\))?$/);
  });
});

describe("validate on other shapes of the config", () => {
  it("passes a tree with a ClusterSecretStore, EKS Pod Identity, plain HPAs and a composed database URL", async () => {
    const data = parse(readFileSync(join(ROOT, "airflow-gitops.yaml"), "utf8"));
    data.environments.dev.secrets = { store: "ClusterSecretStore" };
    data.environments.dev.iam = { mode: "podIdentity" };
    data.environments.dev.autoscaling = { engine: "hpa", scheduler: { min: 1, max: 3 } };
    data.secrets.parameters.database = { source: "parts" };
    const dir = tempProject({ configText: stringify(data) });
    expect((await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml"), "--quiet"])).code).toBe(0);
    const report = await validateRepository(dir, hasSharedSchemas ? { schemasDir: SHARED_SCHEMAS } : {});
    expect(report.problems.map(formatProblem)).toEqual([]);
    expect(report.passed).toBeGreaterThan(80);
  });
});

describe("validate catches", () => {
  const cases: { name: string; change: (dir: string) => void; expected: string }[] = [
    {
      name: "a misspelt field in a patch",
      change: (dir) =>
        edit(dir, "overlays/dev/scheduler-deployment-resources.yaml", (d) => {
          const c = d.spec.template.spec.containers[0];
          c.resource = c.resources;
          delete c.resources;
        }),
      expected: 'overlays/dev Deployment/airflow-scheduler /spec/template/spec/containers/0/resource: unknown field "resource"',
    },
    {
      name: "replicas given as a string",
      change: (dir) => edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.replicas = "1")),
      expected: "overlays/dev Deployment/airflow-statsd /spec/replicas: must be integer",
    },
    {
      name: "a Secret key no ExternalSecret produces",
      change: (dir) => edit(dir, "secrets/prod/jwt-secret-externalsecret.yaml", (d) => (d.spec.data[0].secretKey = "jwt-token")),
      expected:
        "overlays/prod Deployment/airflow-api-server /spec/template/spec/containers/api-server/env/AIRFLOW__API_AUTH__JWT_SECRET: Secret airflow-jwt-secret gets no key jwt-secret from its ExternalSecret",
    },
    {
      name: "a Service selector typo",
      change: (dir) => edit(dir, "base/api-server-service.yaml", (d) => (d.spec.selector["app.kubernetes.io/component"] = "api-servr")),
      expected: 'overlays/dev Service/airflow-api-server /spec/selector: selects no pod of the build',
    },
    {
      name: "a privileged container",
      change: (dir) => edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.template.spec.containers[0].securityContext.privileged = true)),
      expected: "overlays/prod Deployment/airflow-statsd /spec/template/spec/containers/statsd-exporter/securityContext/privileged: privileged containers are not allowed (restricted)",
    },
    {
      name: "a dangling ServiceAccount",
      change: (dir) => edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.template.spec.serviceAccountName = "airflow-statsd-exporter")),
      expected: "overlays/dev Deployment/airflow-statsd /spec/template/spec/serviceAccountName: ServiceAccount airflow-statsd-exporter is not in the build",
    },
    {
      name: "an image on the latest tag",
      change: (dir) => edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.template.spec.containers[0].image = "x:latest")),
      expected: 'overlays/prod Deployment/airflow-statsd /spec/template/spec/containers/statsd-exporter/image: image "x:latest" uses the latest tag',
    },
    {
      name: "a request above its limit in the task pod template",
      change: (dir) =>
        edit(dir, "overlays/prod/airflow-configmap-pod-template-file.yaml", (d) => {
          const pod = parse(d.data["pod_template_file.yaml"]);
          pod.spec.containers[0].resources = { requests: { cpu: "1", memory: "8Gi" }, limits: { memory: "4Gi" } };
          d.data["pod_template_file.yaml"] = stringify(pod);
        }),
      expected:
        "overlays/prod ConfigMap/airflow-config /data/pod_template_file.yaml/containers/base/resources/requests/memory: request 8Gi is above the limit 4Gi: the API server refuses the pod",
    },
    {
      name: "a misspelt field in a custom resource",
      change: (dir) => edit(dir, "overlays/prod/scheduler-scaledobject.yaml", (d) => (d.spec.minReplicas = d.spec.minReplicaCount)),
      expected: 'overlays/prod ScaledObject/airflow-scheduler /spec/minReplicas: unknown field "minReplicas"',
    },
    {
      name: "a broken task pod template",
      change: (dir) =>
        edit(dir, "overlays/prod/airflow-configmap-pod-template-file.yaml", (d) => {
          const pod = parse(d.data["pod_template_file.yaml"]);
          pod.spec.containers[0].imagePullPolicie = "Always";
          d.data["pod_template_file.yaml"] = stringify(pod);
        }),
      expected:
        'overlays/prod ConfigMap/airflow-config /data/pod_template_file.yaml/spec/containers/0/imagePullPolicie: (as a Pod) unknown field "imagePullPolicie"',
    },
    {
      name: "a patch whose object is gone",
      change: (dir) => {
        rmSync(join(dir, "base", "triggerer-deployment.yaml"));
        const kustomization = join(dir, "base", "kustomization.yaml");
        writeFileSync(kustomization, readFileSync(kustomization, "utf8").replace("  - triggerer-deployment.yaml\n", ""));
      },
      expected: "overlays/prod kustomization /: kustomize build failed:",
    },
  ];

  it.each(cases)("$name", async ({ change, expected }) => {
    const target = expected.split(" ")[0]!;
    const dir = buildCopy(target);
    change(dir);
    const { code, err, out } = await runCli(["validate", "--dir", dir, target]);
    const lines = err.split("\n");
    expect(lines.some((line) => line.startsWith(expected)), `${expected}\nnot in:\n${err}`).toBe(true);
    expect(code).toBe(1);
    expect(out).toMatch(/^\d+ passed, [1-9]\d* failed/);
  });

  it("reports as JSON for tools", async () => {
    const dir = buildCopy("overlays/dev");
    edit(dir, "base/statsd-deployment.yaml", (d) => (d.spec.template.spec.containers[0].image = "x:latest"));
    const { code, out } = await runCli(["validate", "--dir", dir, "--json", "overlays/dev"]);
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ target: "overlays/dev", object: "Deployment/airflow-statsd", message: 'image "x:latest" uses the latest tag' }),
    );
    expect(report.timings.kustomizeMs).toBeGreaterThan(0);
  });

  it("names the builds it knows when asked for one it does not have", async () => {
    const { code, err } = await runCli(["validate", "--dir", ROOT, "overlays/staging"]);
    expect(code).toBe(1);
    expect(err).toBe("no build overlays/staging to validate; the repository has: overlays/dev, overlays/prod, argocd");
  });

  it("refuses a schema directory that does not exist", async () => {
    const { code, err } = await runCli(["validate", "--dir", ROOT, "--schemas", join(ROOT, "no-such-schemas")]);
    expect(code).toBe(1);
    expect(err).toMatch(/--schemas .*no-such-schemas: no such directory/);
  });
});

describe("field tables", () => {
  it("know every field of built-in kinds and the custom resources written, and nothing more", async () => {
    expect(unknownFields({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: 1, replicaz: 2 } } as never)).toEqual([
      { path: "/spec/replicaz", message: 'unknown field "replicaz"' },
    ]);
    expect(
      unknownFields({ apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", spec: { target: { creationPolicy: "Owner", deletePolicy: "Retain" } } } as never),
    ).toEqual([{ path: "/spec/target/deletePolicy", message: 'unknown field "deletePolicy"' }]);
    expect(unknownFields({ apiVersion: "example.com/v1", kind: "Widget" })).toBeUndefined();
  });

  it("match what the installed packages declare (run `npm run derive-fields` after upgrading them)", async () => {
    expect(readFileSync(FIELD_TABLE_FILE, "utf8")).toBe(await derivedFieldTableText());
  });
});

describe("CRD patterns written for Go", () => {
  it("a leading (?i) becomes both cases of each letter outside a class; other patterns stay as written", () => {
    const pattern = jsPattern("^(?i)(abort|warn)?$");
    expect(pattern).toBe("^([aA][bB][oO][rR][tT]|[wW][aA][rR][nN])?$");
    for (const value of ["abort", "Warn", "WARN", ""]) expect(new RegExp(pattern, "u").test(value)).toBe(true);
    expect(new RegExp(pattern, "u").test("stop")).toBe(false);
    expect(jsPattern("(?i)[a-c]+x\\d")).toBe("[a-cA-C]+[xX]\\d");
    expect(jsPattern("(?i)[q_]")).toBe("[qQ_]");
    expect(jsPattern("^[a-z]([-a-z0-9]*[a-z0-9])?$")).toBe("^[a-z]([-a-z0-9]*[a-z0-9])?$");
  });
});
