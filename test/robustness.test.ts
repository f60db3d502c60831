/** Configs that used to pass although the cluster would refuse them, and problems reported all at once. */
import { describe, expect, it } from "vitest";
import { loadForCore as loadConfig } from "./helpers.js";
import { configProblems, exampleText, runCli, tempProject } from "./helpers.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatIssue } from "../generator/config/issues.js";

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
    expect(found.some((p) => /overlaps window/.test(p))).toBe(true);
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
    const config = loadConfig(exampleText().replace('tag: "3.2.2"', `tag: "3.2.2@${digest}"`), "airflow-gitops.yaml");
    const objects = generate(config).map((f) => JSON.stringify(f.content));
    expect(objects.some((o) => o.includes(`"image":"apache/airflow:3.2.2@${digest}"`))).toBe(true);
    expect(objects.some((o) => o.includes(`"app.kubernetes.io/version":"3.2.2"`))).toBe(true);
    expect(objects.some((o) => o.includes(`"app.kubernetes.io/version":"3.2.2@`))).toBe(false);
  });

  it("accepts images pinned by digest alone, and calls a malformed digest what it is", () => {
    expect(problems(exampleText().replace(/image: registry\.k8s\.io\/git-sync\/git-sync:v[0-9.]+/, `image: registry.k8s.io/git-sync/git-sync@${digest}`))).toEqual([]);
    const found = problems(exampleText().replace('tag: "3.2.2"', 'tag: "3.2.2@sha256:abc"'));
    expect(found).toEqual([expect.stringContaining("optionally pinned to a digest: 3.2.2 or 3.2.2@sha256:<64 hex digits>")]);
    expect(found[0]).not.toMatch(/not pinned|pinned tag/);
  });
});

describe("Airflow newer than the option table", () => {
  it("warns, naming the table's version, and still generates", async () => {
    const { loadConfigWithWarnings } = await import("../generator/config/load.js");
    const text = exampleText().replace('tag: "3.2.2"', 'tag: "3.9.0"');
    const { warnings } = loadConfigWithWarnings(text, "airflow-gitops.yaml");
    expect(warnings.map((w) => formatIssue("airflow-gitops.yaml", w))).toEqual([
      `airflow-gitops.yaml:${lineOf(text, 'tag: "3.9.0"')}:5 airflow.image.tag: Airflow 3.9.0 is newer than the airflow.cfg option table (Airflow 3.2): ` +
        "options renamed or removed since then are not caught; check the release notes",
    ]);
    expect(loadConfigWithWarnings(exampleText(), "airflow-gitops.yaml").warnings).toEqual([]);
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
