/** Configs that used to pass although the cluster would refuse them, and problems reported all at once. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.js";
import { ConfigError, formatIssue } from "../generator/config/issues.js";
import { exampleText } from "./helpers.js";

function problems(text: string): string[] {
  try {
    loadConfig(text, "airflow-gitops.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => formatIssue(error.file, i));
    throw error;
  }
  return [];
}

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
