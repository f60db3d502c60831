/** Configs that used to pass although the cluster would refuse them, and problems reported all at once. */
import { describe, expect, it } from "vitest";
import { loadForCore as loadConfig } from "./helpers.js";
import { configProblems, exampleText, ROOT, runCli, tempProject } from "./helpers.js";
import { nameLimitIssues } from "../generator/core/name-limits.js";
import { connectionBudget } from "../generator/shared/connection-budget.js";
import { pathCollisions } from "../generator/core/path-collisions.js";
import { desiredTree } from "../generator/run.js";
import { generate } from "../generator/core/index.js";
import type { GeneratedFile } from "../generator/core/manifest.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatIssue, formatWarning } from "../generator/config/issues.js";
import { loadConfigWithWarnings } from "../generator/config/load.js";
import { parseDocument } from "yaml";
import { buildManifests } from "../generator/core/base.js";
import { secretsManifests } from "../generator/core/secrets.js";
import { resolveEnvironment } from "../generator/core/target.js";

const problems = configProblems;

const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
const lineIs = (text: string, line: string) => text.split("\n").indexOf(line) + 1;

describe("namespaces of environments", () => {
  it("rejects two environments in the same namespace of the same cluster, naming both and their lines", () => {
    const text = exampleText().replace("    namespace: airflow-dev\n", "");
    const found = problems(text);
    expect(found).toHaveLength(1);
    const dev = lineIs(text, "  dev:");
    const prod = lineOf(text, "  prod:\n    description") || text.split("\n").findIndex((l, i, all) => l === "  prod:" && all[i + 1]!.startsWith("    description")) + 1;
    expect(found[0]).toBe(
      `airflow-gitops.yaml:${prod}:3 environments.prod: environments dev (line ${dev}) and prod (line ${prod}) both deploy to namespace "airflow" ` +
        `(inherited from namespace (line ${lineOf(text, "namespace: airflow")})) on the cluster Argo CD runs in: two Argo CD Applications would own the same objects; ` +
        "give each environment a namespace of its own (environments.<env>.namespace) or a different cluster (argocd.environments.<env>)",
    );
  });

  it("rejects an environment given another's namespace explicitly", () => {
    const text = exampleText().replace("  prod:\n    description", "  prod:\n    namespace: airflow-dev\n    description");
    expect(problems(text)).toEqual([expect.stringMatching(/environments\.prod\.namespace: environments dev \(line \d+\) and prod \(line \d+\) both deploy to namespace "airflow-dev"/)]);
  });

  it("allows the same namespace on different clusters", () => {
    const text = exampleText()
      .replace("    namespace: airflow-dev\n", "")
      .replace("    dev:\n      automated: { prune: true, selfHeal: true }", "    dev:\n      name: dev-cluster");
    expect(problems(text)).toEqual([]);
  });
});

describe("environments sharing a cluster", () => {
  /** The example with dev given prod's peak hours, Karpenter pool included (its labels as given). */
  function devWithPeakPool(labels: Record<string, string>, devArgocd?: object): string {
    const doc = parseDocument(exampleText());
    const pool = (doc.getIn(["environments", "prod", "peakHours", "nodePool"]) as any).toJSON();
    const { replicas: _replicas, ...peak } = (doc.getIn(["environments", "prod", "peakHours"]) as any).toJSON();
    doc.setIn(["environments", "dev", "peakHours"], doc.createNode({ ...peak, nodePool: { ...pool, labels } }));
    if (devArgocd) doc.setIn(["argocd", "environments", "dev"], doc.createNode(devArgocd));
    return doc.toString();
  }

  it("refuses two environments of one cluster writing one Karpenter NodePool, at the pool's label and line", () => {
    const text = devWithPeakPool({ "karpenter.sh/nodepool": "airflow-peak" });
    const found = problems(text);
    expect(found).toHaveLength(1);
    const line = (n: number) => text.split("\n").findIndex((l, i) => l.includes("karpenter.sh/nodepool: airflow-peak") && i + 1 > n) + 1;
    const devLine = line(0);
    const prodLine = line(devLine);
    expect(devLine).toBeGreaterThan(0);
    expect(prodLine).toBeGreaterThan(devLine);
    expect(found[0]).toMatch(
      new RegExp(
        `^airflow-gitops\\.yaml:${prodLine}:\\d+ environments\\.prod\\.peakHours\\.nodePool\\.labels\\["karpenter\\.sh/nodepool"\\]: environments dev \\(line ${devLine}\\) and prod \\(line ${prodLine}\\) ` +
          `both write the Karpenter NodePool "airflow-peak" on the cluster Argo CD runs in: two Argo CD Applications would own it`,
      ),
    );
  });

  it("refuses a pool labelled with the name another environment's pool gets by default", () => {
    const text = devWithPeakPool({ "karpenter.sh/nodepool": "airflow-prod-peak" }).replace("labels: { karpenter.sh/nodepool: airflow-peak }", "labels: { node-type: peak }");
    expect(problems(text)).toEqual([expect.stringMatching(/environments\.prod\.peakHours\.nodePool\.karpenter: environments dev \(line \d+\) and prod \(line \d+\) both write the Karpenter NodePool "airflow-prod-peak"/)]);
  });

  it("allows the same pool name on another cluster, and a pool only one environment writes (the other's has no karpenter: it writes no NodePool)", () => {
    expect(problems(devWithPeakPool({ "karpenter.sh/nodepool": "airflow-peak" }, { name: "dev-cluster" }))).toEqual([]);
    const shared = parseDocument(devWithPeakPool({ "karpenter.sh/nodepool": "airflow-peak" }));
    shared.deleteIn(["environments", "dev", "peakHours", "nodePool", "karpenter"]);
    expect(problems(shared.toString())).toEqual([]);
    const dev = resolveEnvironment(loadConfig(shared.toString()), "dev");
    expect(buildManifests(dev).filter(({ object }) => object.kind === "NodePool")).toEqual([]);
  });

  it("gives every cluster-scoped object of two environments of one cluster a name of its own, whatever each makes", () => {
    for (const store of ["SecretStore", "ClusterSecretStore"]) {
      const doc = parseDocument(devWithPeakPool({ "karpenter.sh/nodepool": "airflow-dev-peak" }));
      doc.setIn(["secrets", "store"], store);
      const config = loadConfig(doc.toString());
      const byEnvironment = Object.keys(config.environments).map((env) => {
        const target = resolveEnvironment(config, env);
        return [...buildManifests(target), ...secretsManifests(target)].map(({ object }) => object).filter((o) => !o.metadata.namespace);
      });
      const kinds = new Set(byEnvironment.flat().map((o) => o.kind));
      // The kinds this config makes cluster-wide, so that the check below covers each of them.
      expect([...kinds].sort()).toEqual(
        ["Namespace", "NodePool", "PriorityClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", ...(store === "ClusterSecretStore" ? ["ClusterSecretStore"] : [])].sort(),
      );
      const [dev, prod] = byEnvironment.map((objects) => new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`)));
      expect(dev!.size).toBeGreaterThanOrEqual(kinds.size);
      expect([...dev!].filter((id) => prod!.has(id)), store).toEqual([]);
    }
  });
});

describe("per-environment Job fields", () => {
  it("an environment's own migration deadline becomes a patch of its overlay for the migration and admin-user Jobs", () => {
    const doc = parseDocument(exampleText());
    doc.setIn(["environments", "dev", "components", "migrations", "activeDeadlineSeconds"], 7200);
    const files = generate(loadConfig(doc.toString()));
    const patch = (name: string) => files.find((f) => f.path === `overlays/dev/${name}`)?.content as any;
    expect(patch("migrations-job-deadline.yaml")?.spec).toEqual({ activeDeadlineSeconds: 7200 });
    expect(patch("admin-user-job-deadline.yaml")?.spec.activeDeadlineSeconds).toBeGreaterThan(7200);
    expect(files.some((f) => f.path === "overlays/prod/migrations-job-deadline.yaml")).toBe(false);
  });
});

describe("requests and limits", () => {
  it("rejects a request above its limit at the top level, at the request", () => {
    const text = exampleText().replace("      requests: { cpu: 500m, memory: 1Gi }\n      limits: { memory: 4Gi }", "      requests: { cpu: 500m, memory: 5Gi }\n      limits: { memory: 4Gi }");
    const found = problems(text);
    expect(found).toEqual([expect.stringMatching(/^airflow-gitops\.yaml:\d+:\d+ components\.worker\.resources\.requests\.memory: is 5Gi, above limits\.memory 4Gi: the API server refuses/)]);
  });

  it("rejects an environment raising a request above an inherited limit, naming where the limit comes from", () => {
    const text = exampleText().replace(
      "      dagProcessor:\n        replicas: 2",
      "      dagProcessor:\n        replicas: 2\n        resources:\n          requests: { cpu: \"3\", memory: 3Gi }",
    );
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      new RegExp(`^airflow-gitops\\.yaml:${lineOf(text, "requests: { cpu: \"3\", memory: 3Gi }")}:\\d+ environments\\.prod\\.components\\.dagProcessor\\.resources\\.requests\\.memory: is 3Gi, above limits\\.memory 2Gi \\(inherited from components\\.dagProcessor\\.resources\\.limits\\.memory\\)`),
    );
  });

  it("rejects an environment lowering a limit below the inherited request, and covers the task pod template", () => {
    const text = exampleText().replace("          requests: { cpu: 250m, memory: 512Mi }\n          limits: { memory: 2Gi }", "          limits: { memory: 512Mi, cpu: 100m }");
    const found = problems(text);
    expect(found).toEqual([
      expect.stringMatching(/environments\.dev\.components\.worker\.resources\.limits\.memory: is 512Mi, below requests\.memory 1Gi/),
      expect.stringMatching(/environments\.dev\.components\.worker\.resources\.limits\.cpu: is 100m, below requests\.cpu 500m \(inherited from components\.worker\.resources\.requests\.cpu\)/),
    ]);
  });

  it("compares quantities across units", () => {
    const text = exampleText().replace("      requests: { cpu: 500m, memory: 1Gi }\n      limits: { memory: 4Gi }", "      requests: { cpu: \"1.5\", memory: 1000M }\n      limits: { cpu: 1500m, memory: 1Gi }");
    expect(problems(text)).toEqual([]);
  });
});

describe("every problem in one listing", () => {
  it("reports a schema problem, a misspelt option and overlapping windows together", () => {
    const text = exampleText()
      .replace("      dagProcessor:\n        replicas: 2", "      dagProcessor:\n        replicas: 0")
      .replace("          parallelism: 128", "          paralelism: 128")
      .replace(/windows:\n((?:\s+- .*\n)+)/, (m) => `${m}        - { days: mon-fri, start: "07:30", end: "08:00" }\n`);
    const found = problems(text);
    expect(found, found.join("\n")).toHaveLength(3);
    expect(found.some((p) => /dagProcessor\.replicas: must be >= 1/.test(p))).toBe(true);
    expect(found.some((p) => /has no option "paralelism".*did you mean "parallelism"/.test(p))).toBe(true);
    expect(found.some((p) => /overlaps windows\[/.test(p))).toBe(true);
  });
});

describe("images", () => {
  it("rejects a repository with a tag in it", () => {
    const text = exampleText().replace("repository: apache/airflow", "repository: apache/airflow:3.2.2");
    expect(problems(text)).toEqual([
      `airflow-gitops.yaml:${lineOf(text, "repository: apache/airflow:3.2.2")}:17 airflow.image.repository: must be an image repository without tag or digest, ` +
        'like apache/airflow or registry.example.com:5000/team/airflow (the tag goes in tag), found "apache/airflow:3.2.2"',
    ]);
  });

  it("accepts a registry with a port", () => {
    expect(problems(exampleText().replace("repository: apache/airflow", "repository: registry.example.com:5000/team/airflow"))).toEqual([]);
  });

  const digest = `sha256:${"0123456789abcdef".repeat(4)}`;

  it("pins the Airflow image to a digest, keeping the version label readable", async () => {
    const { generate } = await import("../generator/core/index.js");
    const config = loadConfig(exampleText().replace('tag: "3.3.2"', `tag: "3.3.2@${digest}"`), "airflow-gitops.yaml");
    const objects = generate(config).map((f) => JSON.stringify(f.content));
    expect(objects.some((o) => o.includes(`"image":"apache/airflow:3.3.2@${digest}"`))).toBe(true);
    expect(objects.some((o) => o.includes(`"app.kubernetes.io/version":"3.3.2"`))).toBe(true);
    expect(objects.some((o) => o.includes(`"app.kubernetes.io/version":"3.3.2@`))).toBe(false);
  });

  it("accepts images pinned by digest alone, and calls a malformed digest what it is", () => {
    expect(problems(exampleText().replace(/image: registry\.k8s\.io\/git-sync\/git-sync:v[0-9.]+/, `image: registry.k8s.io/git-sync/git-sync@${digest}`))).toEqual([]);
    const found = problems(exampleText().replace('tag: "3.3.2"', 'tag: "3.3.2@sha256:abc"'));
    expect(found).toEqual([expect.stringContaining("optionally pinned to a digest: 3.3.2 or 3.3.2@sha256:<64 hex digits>")]);
    expect(found[0]).not.toMatch(/not pinned|pinned tag/);
  });
});

describe("Airflow lines", () => {
  const withTag = (tag: string) => exampleText().replace('tag: "3.3.2"', `tag: "${tag}"`);
  /** One more top-level airflow.cfg section. */
  const withOption = (text: string, entry: string) => text.replace("      max_active_tasks_per_dag: 32\n", `      max_active_tasks_per_dag: 32\n    ${entry}\n`);
  const prodOn = (text: string, tag: string) => text.replace("    airflow:\n      config:\n        core:\n          parallelism: 128", `    airflow:\n      image: { tag: "${tag}" }\n      config:\n        core:\n          parallelism: 128`);
  const withRetries = (text: string) => text.replace("      worker_pods_creation_batch_size: 16\n", "      worker_pods_creation_batch_size: 16\n      pod_launch_failure_retries: 2\n");

  it("refuses a line it does not support, naming the supported ones, and a tag that names no version", () => {
    for (const tag of ["3.9.0", "3.1.7"]) {
      const text = withTag(tag);
      expect(problems(text)).toEqual([`airflow-gitops.yaml:${lineOf(text, `tag: "${tag}"`)}:5 airflow.image.tag: Airflow ${tag} is not a supported line; supported: 3.3 (3.3.2) and 3.2 (3.2.2)`]);
    }
    expect(problems(withTag("nightly-20261201"))).toEqual([
      expect.stringMatching(/airflow\.image\.tag: "nightly-20261201" does not start with the Airflow version the image holds \(like 3\.3\.2 or 3\.3\.2-acme\.1\)/),
    ]);
    expect(problems(withTag("3.3.1-acme.2"))).toEqual([]);
  });

  it("checks each option against its line: one that came later is refused naming the line, a renamed name still read is a warning", async () => {
    const { loadConfigWithWarnings } = await import("../generator/config/load.js");
    // [kubernetes_executor] pod_launch_failure_retries came with cncf.kubernetes 10.20, which 3.2.2's image predates.
    const retries = withRetries(withTag("3.2.2"));
    expect(problems(retries)).toEqual([
      expect.stringMatching(/airflow\.config\.kubernetes_executor\.pod_launch_failure_retries: \[kubernetes_executor\] pod_launch_failure_retries is new in Airflow 3\.3 \(added in cncf-kubernetes 10\.20\.0\); Airflow 3\.2\.2 does not read it$/),
    ]);
    expect(problems(withRetries(exampleText()))).toEqual([]);
    expect(problems(withOption(withTag("3.2.2"), "state_store: { default_retention_days: 30 }"))).toEqual([expect.stringMatching(/airflow\.config\.state_store\.default_retention_days: section \[state_store\] is new in Airflow 3\.3; Airflow 3\.2\.2 does not read it$/)]);
    const pageSize = withOption(exampleText(), "api: { page_size: 100 }");
    expect(problems(pageSize)).toEqual([]);
    expect(loadConfigWithWarnings(pageSize, "airflow-gitops.yaml").warnings.map((w) => formatIssue("airflow-gitops.yaml", w))).toEqual([
      `airflow-gitops.yaml:${lineOf(pageSize, "page_size")}:12 airflow.config.api.page_size: [api] page_size was renamed [api] fallback_page_limit in Airflow 3.2.0; Airflow 3.3.2 still reads the old name, a later release will not`,
    ]);
    expect(loadConfigWithWarnings(exampleText(), "airflow-gitops.yaml").warnings).toEqual([]);
  });

  it("checks a top-level option against every environment's line", () => {
    const text = prodOn(withRetries(withTag("3.3.2")), "3.2.2");
    expect(text).toContain('image: { tag: "3.2.2" }');
    expect(problems(text)).toEqual([expect.stringMatching(/airflow\.config\.kubernetes_executor\.pod_launch_failure_retries: .* is new in Airflow 3\.3 .*; Airflow 3\.2\.2 does not read it$/)]);
  });
});

describe("messages", () => {
  it("a namespace over 63 characters says so", () => {
    expect(problems(exampleText().replace("namespace: airflow-dev", `namespace: ${"a".repeat(70)}`))).toEqual([
      expect.stringMatching(/environments\.dev\.namespace: must be at most 63 characters \(a DNS label\), found 70/),
    ]);
  });

  it("an account id read as a number says to quote it", () => {
    expect(problems(exampleText().replace('accountId: "123456789012"', "accountId: 012345678901"))).toEqual([
      expect.stringMatching(/aws\.accountId: must be string, found number 12345678901: YAML reads unquoted digits as a number \(and drops leading zeros\); put the value in quotes$/),
    ]);
  });

  it("a tab in the YAML gives one error", () => {
    const text = exampleText().replace("  url: https://github.com/acme/airflow-gitops.git", "\turl: https://github.com/acme/airflow-gitops.git");
    expect(problems(text)).toEqual([`airflow-gitops.yaml:${lineOf(text, "\turl")}:1 YAML: a tab indents this line; YAML indents with spaces only`]);
  });
});

describe("the secrets page", () => {
  it("gives an exact command for every parameter, multi-line ones read from files, in every variant", async () => {
    const { generate } = await import("../generator/core/index.js");
    const { renderAll } = await import("../generator/render/render.js");
    const variants = [
      exampleText(),
      exampleText().replace("      source: url", "      source: parts"),
      exampleText()
        .replace(/repository: git@github\.com:acme\/[a-z-]+\.git/, "repository: https://git.acme.internal/acme/dags.git")
        .replace("    auth: ssh", "    auth: https"),
    ];
    for (const text of variants) {
      const config = loadConfig(text, "airflow-gitops.yaml");
      const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
      const parameters = [...readme.matchAll(/^\| `([^`]+)` \| SecureString \|/gm)].map((m) => m[1]!);
      expect(parameters.length).toBeGreaterThanOrEqual(4);
      for (const parameter of parameters) {
        expect(readme, parameter).toMatch(new RegExp(`^aws ssm put-parameter --region sa-east-1 --type SecureString --name ${parameter} --value=\\S`, "m"));
      }
      if (readme.includes("/git/ssh-key")) {
        expect(readme).toContain("--name /airflow/prod/git/ssh-key --value=file://git-sync-key");
        expect(readme).toContain("ssh-keyscan github.com > known_hosts");
        expect(readme).toContain("--name /airflow/prod/git/known-hosts --value=file://known_hosts");
      }
      expect(readme).not.toMatch(/python3|cryptography/);
    }
    const https = renderAll(generate(loadConfig(variants[2]!, "airflow-gitops.yaml"))).get("secrets/prod/README.md")!;
    expect(https).toContain("--name /airflow/prod/git/token --value=\"$(cat git-token)\"");
    const parts = renderAll(generate(loadConfig(variants[1]!, "airflow-gitops.yaml"))).get("secrets/prod/README.md")!;
    expect(parts).toContain("--name /airflow/prod/database/password --value=\"$(cat database-password)\"");
  });

  it("makes a valid Fernet key with nothing beyond a stock shell", async () => {
    const { FERNET_KEY_COMMAND } = await import("../generator/core/secrets-readme.js");
    const { execFileSync } = await import("node:child_process");
    const key = execFileSync("sh", ["-c", FERNET_KEY_COMMAND], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } }).trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(key, "base64url")).toHaveLength(32);
  });
});

describe("hostile YAML", () => {
  it("a YAML bomb is a config error, not an internal one", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"]]) lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    expect(configProblems(lines.join("\n"))).toEqual(["airflow-gitops.yaml:1:1 YAML: aliases expand more than 100 times (a YAML bomb?); write the values out"]);
  });

  it("10,000 levels of nesting are a config error", () => {
    expect(configProblems(`a: ${"[".repeat(10_000)}${"]".repeat(10_000)}`)).toEqual([expect.stringMatching(/^airflow-gitops\.yaml:\d+:\d+ YAML: nested too deeply to read$/)]);
  });

  it("a config over 1 MiB is refused before it is read, and nothing is written", async () => {
    const dir = tempProject({ configText: `${exampleText()}\n# ${"x".repeat(2 << 20)}\n` });
    const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/airflow-gitops\.yaml: is \d+ bytes; a config file is at most 1048576 bytes \(1 MiB\)$/);
    expect(existsSync(join(dir, "base"))).toBe(false);
  });
});

describe("names the controllers accept", () => {
  const longName = "abcdefghij-abcdefghij-abcdefghij-abcdefg";
  const longEnv = "abcdefghij-abcdefghi";
  const mini = readFileSync(join(ROOT, "test", "fixtures", "mini.yaml"), "utf8");

  it("a generated name over a controller's limit is a config error on the field it is built from, and nothing is written", async () => {
    const text = mini
      .replace("name: mini", `name: ${longName}`)
      .replace("  prod:", `  ${longEnv}:`)
      .replace("nodePool: { labels: { node-pool: peak } }", "nodePool: { labels: { node-pool: peak }, karpenter: {} }");
    const dir = tempProject({ configText: text });
    const result = await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml")]);
    expect(result.code).toBe(1);
    const file = join(dir, "airflow-gitops.yaml");
    expect(result.err.split("\n")).toEqual([
      `${file}:1:1 name: the CronJob name "${longName}-failed-pod-cleanup" is 59 characters, above 52: the API server refuses longer CronJob names: each Job is named <name>-<11 digits>; shorten name (40 characters)`,
      `${file}:1:1 name: the CronJob name "${longName}-state-store-clean" is 58 characters, above 52: the API server refuses longer CronJob names: each Job is named <name>-<11 digits>; shorten name (40 characters)`,
      `${file}:${lineIs(text, `  ${longEnv}:`)}:3 environments.${longEnv}: the NodePool name "${longName}-${longEnv}-peak" is 66 characters, above 63: Karpenter labels every node it starts karpenter.sh/nodepool=<name>; shorten name (40) or the environment's name (20)`,
      `3 problem(s) in ${file}; nothing was written`,
    ]);
    expect(existsSync(join(dir, "base"))).toBe(false);
  });

  it("a name exactly at the tightest limit generates", async () => {
    const name = "a".repeat(52 - "-failed-pod-cleanup".length);
    const dir = tempProject({ configText: mini.replace("name: mini", `name: ${name}`) });
    expect(await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml"), "-q"])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, "base", "failed-pod-cleanup-cronjob.yaml"), "utf8")).toContain(`name: ${name}-failed-pod-cleanup\n`);
  });

  it("checks each kind's own limit and the names controllers derive: KEDA's HPA, Services, Jobs, label values", () => {
    const file = (path: string, content: object): GeneratedFile => ({ path, format: "yaml", content });
    const n = "a".repeat(50);
    const found = nameLimitIssues(
      [
        file("overlays/prod/x-scaledobject.yaml", { kind: "ScaledObject", metadata: { name: `${n}-scaler` } }),
        file("overlays/prod/y-scaledobject.yaml", { kind: "ScaledObject", metadata: { name: `${n}-named` }, spec: { advanced: { horizontalPodAutoscalerConfig: { name: "short" } } } }),
        file("base/service.yaml", { kind: "Service", metadata: { name: `${n}-api-server-xy` } }),
        file("base/service-at-limit.yaml", { kind: "Service", metadata: { name: `${n}-api-server-x` } }),
        file("base/job.yaml", { kind: "Job", metadata: { name: `${n}-create-admins` } }),
        file("base/deployment.yaml", { kind: "Deployment", metadata: { name: `${n}-ok` }, spec: { template: { metadata: { labels: { team: "b".repeat(64) } } } } }),
        file("base/configmap.yaml", { kind: "ConfigMap", metadata: { name: "c".repeat(254) } }),
      ],
      { name: n },
    );
    expect(found.map((i) => `${i.path}: ${i.message.replace(/ "[^"]*"/, "").replace(/:.*/, "")}`)).toEqual([
      `name: the HorizontalPodAutoscaler name of ScaledObject ${n}-scaler is 66 characters, above 63`,
      "name: the Service name is 64 characters, above 63",
      "name: the Job name is 64 characters, above 63",
      `name: the label team of Deployment ${n}-ok is 64 characters, above 63`,
      "name: the ConfigMap name is 254 characters, above 253",
    ]);
  });
});

describe("schedules", () => {
  const withSchedule = (schedule: string) => exampleText().replace('    schedule: "0 4 * * *"', `    schedule: "${schedule}"`);

  it("the task-spec DAGs' schedule is a checked cron or an Airflow preset", () => {
    const text = withSchedule("0 25 * * *");
    expect(problems(text)).toEqual([
      expect.stringMatching(
        new RegExp(`^airflow-gitops\\.yaml:${lineOf(text, "0 25 * * *")}:\\d+ dags\\.taskSpecs\\.schedule: must be an Airflow preset \\(@once, @continuous, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly\\) or a five-field cron schedule`),
      ),
    ]);
    expect(problems(withSchedule("@annually"))).toHaveLength(1);
    for (const good of ["@quarterly", "@once", "*/15 6-18 * * mon-fri", "0 4 1 jan,jul *"]) expect(problems(withSchedule(good))).toEqual([]);
  });
});

describe("peak windows on the days clocks change", () => {
  const mini = readFileSync(join(ROOT, "test", "fixtures", "mini.yaml"), "utf8");
  const withWindows = (windows: string) => mini.replace('windows: [{ days: mon-fri, start: "09:00", end: "10:30" }]', `windows: ${windows}`);
  const warningsOf = (text: string) => loadConfigWithWarnings(text, "airflow-gitops.yaml").warnings.map((w) => formatWarning("airflow-gitops.yaml", w));

  it("warns of a start or end that does not exist or happens twice, with the local times and what KEDA then does", () => {
    const text = withWindows('[{ days: daily, start: "02:30", end: "05:00" }, { days: sun, start: "00:30", end: "02:15" }]');
    const line = lineOf(text, "windows: [");
    expect(warningsOf(text)).toEqual([
      `airflow-gitops.yaml:${line}:32 environments.prod.peakHours.windows[0].start: warning: the window starts at 02:30: 02:30 does not exist in Europe/Berlin on 2026-03-29 (the clocks jump from 02:00 to 03:00); KEDA's cron scaler skips that start and holds the peak from the window's previous end to this one; move it out of 02:00-03:00`,
      `airflow-gitops.yaml:${line}:32 environments.prod.peakHours.windows[0].start: warning: the window starts its placeholders at 02:00 (leadTime 30m before 02:30): 02:00 does not exist in Europe/Berlin on 2026-03-29 (the clocks jump from 02:00 to 03:00); KEDA's cron scaler skips that start and holds the peak from the window's previous end to this one; move it out of 02:00-03:00`,
      `airflow-gitops.yaml:${line}:93 environments.prod.peakHours.windows[1].end: warning: the window ends at 02:15: 02:15 does not exist in Europe/Berlin on 2026-03-29 (the clocks jump from 02:00 to 03:00); KEDA's cron scaler skips that end, and the window does not happen that day; move it out of 02:00-03:00`,
    ]);
  });

  it("names the fold where the clocks go back, and not a day the window does not run", () => {
    // New York goes back from 02:00 to 01:00 on a Sunday: a Sunday start at 01:30 happens twice; mon-fri is untouched.
    const text = withWindows('[{ days: sun, start: "01:30", end: "04:00" }, { days: mon-fri, start: "01:30", end: "04:00" }]').replace("timezone: Europe/Berlin", "timezone: America/New_York");
    expect(warningsOf(text)).toEqual([
      expect.stringContaining(
        "environments.prod.peakHours.windows[0].start: warning: the window starts at 01:30: 01:30 happens twice in America/New_York on 2026-11-01 (the clocks go back from 02:00 to 01:00); KEDA's cron scaler starts it at the second 01:30, 60 minutes late",
      ),
      expect.stringContaining("environments.prod.peakHours.windows[0].start: warning: the window starts its placeholders at 01:00"),
    ]);
    expect(warningsOf(mini)).toEqual([]);
  });

  it("an invalid window is not reported again as overlapping", () => {
    const text = withWindows('[{ days: mon-fri, start: "9:00", end: "10:30" }, { days: mon-fri, start: "09:30", end: "11:00" }]');
    expect(problems(text)).toEqual([expect.stringMatching(/environments\.prod\.peakHours\.windows\[0\]\.start: must be a 24-hour time HH:MM/)]);
  });
});

describe("what the replica counts promise", () => {
  const warningsOf = (text: string) => loadConfigWithWarnings(text, "airflow-gitops.yaml").warnings.map((w) => formatWarning("airflow-gitops.yaml", w));

  it("warns when the pools of the processes at their most replicas exceed the database's connection limit", () => {
    const text = exampleText().replace("database: { maxConnections: 400 }", "database: { maxConnections: 200 }");
    expect(warningsOf(exampleText())).toEqual([]);
    expect(warningsOf(text)).toEqual([
      `airflow-gitops.yaml:${lineOf(text, "maxConnections: 200")}:19 environments.prod.airflow.database.maxConnections: warning: prod can open 210 connections at its most replicas ` +
        "(replicas × pool: scheduler 4 × 15 + api-server 6 × 15 + dag-processor 2 × 15 + triggerer 2 × 15), above maxConnections 200: " +
        "lower [database] sql_alchemy_pool_size or sql_alchemy_max_overflow, or the replica maxima, or raise the database's limit",
    ]);
    // Smaller pools and more api-server workers are counted as Airflow reads them.
    const tuned = text.replace("          parallelism: 128\n", "          parallelism: 128\n        database: { sql_alchemy_pool_size: 2, sql_alchemy_max_overflow: 3 }\n        api: { workers: 2 }\n");
    expect(warningsOf(tuned)).toEqual([]);
    expect(connectionBudget(loadConfigWithWarnings(tuned, "x").config, "prod")).toMatchObject({ total: 4 * 5 + 6 * 2 * 5 + 2 * 5 + 2 * 5 });
  });

  it("schedule shows the task pods and connections each replica count allows", async () => {
    const result = await runCli(["schedule", "prod", "--config", join(ROOT, "airflow-gitops.yaml")]);
    expect(result.out.split("\n").slice(-2)).toEqual([
      "task pods at once: up to 256-512 ([core] parallelism 128 per scheduler × 2-4 scheduler(s))",
      "database connections at the most replicas: up to 210 (replicas × pool: scheduler 4 × 15 + api-server 6 × 15 + dag-processor 2 × 15 + triggerer 2 × 15)",
    ]);
  });
});

describe("storage that cannot change in place", () => {
  it("refuses a claim resize and a new file system against the tree, naming the field and line; nothing is written", async () => {
    const text = exampleText().replace("  dags:\n    size: 10Gi", "  dags:\n    size: 20Gi").replace("        fileSystemId: fs-0fedcba9876543210", "        fileSystemId: fs-0aaaaaaaaaaaaaaaa");
    const dir = tempProject({ withTree: true, configText: text });
    const before = readFileSync(join(dir, "base", "dags-persistentvolumeclaim.yaml"), "utf8");
    const file = join(dir, "airflow-gitops.yaml");
    const result = await runCli(["gen", "--config", file]);
    expect(result.code).toBe(1);
    const lines = result.err.split("\n");
    expect(lines).toEqual([
      `${file}:${lineOf(text, "size: 20Gi")}:5 storage.dags.size: dev's claim airflow-dags is 10Gi in the tree and would become 20Gi: an EFS claim cannot be resized (the driver has no volume expansion; EFS grows by itself and never enforces the size), so the sync would fail: keep 10Gi, or delete the claim in the cluster and run gen with --storage-change`,
      expect.stringMatching(new RegExp(`^${file.replace(/[.]/g, "\\.")}:${lineOf(text, "size: 20Gi")}:5 storage\\.dags\\.size: prod's claim airflow-dags is 10Gi in the tree and would become 20Gi`)),
      `${file}:${lineOf(text, "fs-0aaaaaaaaaaaaaaaa")}:9 environments.prod.storage.efs.fileSystemId: prod's StorageClass airflow-prod-efs would change its parameters (fileSystemId fs-0fedcba9876543210 to fs-0aaaaaaaaaaaaaaaa), which Kubernetes refuses, and bound claims keep their volumes: to move, delete the StorageClass and the claims in the cluster (reclaimPolicy Retain keeps the old data), then run gen with --storage-change`,
      `3 problem(s) in ${file}; nothing was written`,
    ]);
    expect(readFileSync(join(dir, "base", "dags-persistentvolumeclaim.yaml"), "utf8")).toBe(before);
    expect((await runCli(["gen", "--config", file, "--check"])).code).toBe(1);
    // Once the old objects are gone from the cluster, the user says so and the tree follows the config.
    expect(await runCli(["gen", "--config", file, "--storage-change", "-q"])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, "base", "dags-persistentvolumeclaim.yaml"), "utf8")).toContain("storage: 20Gi");
    expect(await runCli(["gen", "--config", file, "--check", "-q"])).toMatchObject({ code: 0 });
  });

  it("lets a new environment and every other change through", async () => {
    const text = exampleText().replace("  logs:\n    size: 100Gi\n", "  logs:\n    size: 100Gi\n    volume: true\n");
    const dir = tempProject({ withTree: true, configText: text });
    expect(await runCli(["gen", "--config", join(dir, "airflow-gitops.yaml"), "-q"])).toMatchObject({ code: 0 });
    // A new environment whose claim differs from the base's: nothing in the tree to change.
    const added = exampleText().replace("\n  prod:\n", "\n  qa:\n    namespace: airflow-qa\n    storage:\n      logs:\n        size: 5Gi\n    iam:\n      roles:\n        secrets: arn:aws:iam::123456789012:role/airflow-qa-secrets\n        worker: arn:aws:iam::123456789012:role/airflow-qa-tasks\n  prod:\n");
    const second = tempProject({ withTree: true, configText: added });
    expect(await runCli(["gen", "--config", join(second, "airflow-gitops.yaml"), "-q"])).toMatchObject({ code: 0 });
    expect(readFileSync(join(second, "overlays", "qa", "kustomization.yaml"), "utf8")).toContain("namespace: airflow-qa");
  });
});

describe("generated files that would collide", () => {
  it("are the environment's config error, not an internal one", () => {
    const file = (path: string): GeneratedFile => ({ path, format: "yaml", content: {} });
    expect(pathCollisions([file("argocd/apps/dev-application.yaml"), file("argocd/root-application.yaml"), file("argocd/apps/dev-application.yaml")], ["dev", "prod"])).toEqual([
      { path: "environments.dev", message: "two generated files would both be argocd/apps/dev-application.yaml: rename environment dev" },
    ]);
    expect(pathCollisions([file("a.yaml"), file("b.yaml")], ["dev"])).toEqual([]);
  });

  it("no environment named like a generated file collides with it, in either Argo CD mode", async () => {
    const mini = readFileSync(join(ROOT, "test", "fixtures", "mini.yaml"), "utf8");
    const stems = ["root", "admin", "apps", "kustomization", "environments", "applications-ns", "mini", "mini-admin", "mini-root", "base", "secrets", "docs", "schedule-prod"];
    for (const mode of ["applications", "applicationSet"]) {
      for (const env of stems) {
        const text = mini.replace("  prod:", `  ${env}:`).replace("repository:", `argocd: { mode: ${mode} }\nrepository:`);
        await expect(desiredTree(text, "airflow-gitops.yaml"), `${mode} ${env}`).resolves.toBeInstanceOf(Map);
      }
    }
  });
});
