import { describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.js";
import { judgeOption } from "../generator/config/airflow-options.js";
import { airflowCfgSections, executionApiServerUrl, renderAirflowCfg, dagsFolder } from "../generator/core/airflow-cfg.js";
import { canonicalJson, checksum } from "../generator/core/hash.js";
import { plan, isUpToDate } from "../generator/fs/plan.js";
import { renderFile, GENERATED_HEADER } from "../generator/render/render.js";
import { closest } from "../generator/config/schema-check.js";
import { exampleText } from "./helpers.js";
import { stringify, parse } from "yaml";

const example = () => loadConfig(exampleText(), "airflow-gitops.yaml");
const withData = (change: (d: any) => void) => {
  const d = parse(exampleText());
  change(d);
  return loadConfig(stringify(d), "airflow-gitops.yaml");
};

describe("airflow.cfg", () => {
  it("renders sections and keys sorted, booleans as True/False, % escaped for configparser", () => {
    expect(renderAirflowCfg({ logging: { log_format: "%(message)s", colored_console_log: false }, core: { parallelism: 8 } })).toBe(
      "[core]\nparallelism = 8\n\n[logging]\ncolored_console_log = False\nlog_format = %%(message)s\n",
    );
  });

  it("lets user entries override defaults but never the managed options", () => {
    const sections = airflowCfgSections(withData((d) => (d.airflow.config.core.load_examples = true)));
    expect(sections.core!.load_examples).toBe(true);
    expect(sections.core!.executor).toBe("KubernetesExecutor");
  });

  it.each([
    [undefined, "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"],
    ["https://airflow.acme.com", "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"],
    ["https://acme.com/airflow/", "http://airflow-api-server.airflow.svc.cluster.local:8080/airflow/execution/"],
  ])("points task pods at the Execution API in-cluster (base_url %s)", (baseUrl, expected) => {
    const config = withData((d) => {
      if (baseUrl) d.airflow.config.api = { base_url: baseUrl };
    });
    expect(executionApiServerUrl(config)).toBe(expected);
  });

  it.each([
    [(d: any) => d, "/opt/airflow/dags"],
    [(d: any) => delete d.dags.builder, "/opt/airflow/dags/repo/specs"],
    [(d: any) => ((d.dags.gitSync.subPath = ""), delete d.dags.builder), "/opt/airflow/dags/repo"],
  ])("puts dags_folder where the DAG files are (%#)", (change, expected) => {
    expect(dagsFolder(withData(change))).toBe(expected);
  });

  it("writes only options Airflow 3 knows, none deprecated but the namespace kept for the executor", () => {
    const unknown: string[] = [];
    for (const [section, entries] of Object.entries(airflowCfgSections(example()))) {
      for (const option of Object.keys(entries)) {
        const verdict = judgeOption(section, option);
        if (verdict.kind !== "known") unknown.push(`${section}.${option}: ${verdict.kind}`);
        else if (verdict.deprecated && `${section}.${option}` !== "kubernetes_executor.namespace") unknown.push(`${section}.${option}: deprecated`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

describe("checksum", () => {
  it("does not depend on key order", () => {
    expect(checksum({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(checksum({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(canonicalJson({ b: 1, a: undefined, c: null })).toBe('{"b":1,"c":null}');
  });
  it("changes when a value changes", () => {
    expect(checksum({ a: 1 })).not.toBe(checksum({ a: 2 }));
  });
});

describe("plan", () => {
  it("sorts files into create, update, delete and unchanged", () => {
    const desired = new Map([["a", "1"], ["b", "2"], ["c", "3"]]);
    const current = new Map([["b", "2"], ["c", "old"], ["d", "4"]]);
    expect(plan(desired, current)).toEqual({ create: ["a"], update: ["c"], delete: ["d"], unchanged: ["b"] });
    expect(isUpToDate(plan(desired, desired))).toBe(true);
  });
});

describe("render", () => {
  it("writes the header, LF endings, no trailing spaces and one final newline", () => {
    const text = renderFile({ path: "x.yaml", format: "yaml", content: { apiVersion: "v1", kind: "ConfigMap", data: { "a.cfg": "x = 1  \r\ny\n\n" } } });
    expect(text.startsWith(`${GENERATED_HEADER}\napiVersion: v1\n`)).toBe(true);
    expect(text).not.toMatch(/[ \t]$/m);
    expect(text).not.toContain("\r");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
  });
  it("never folds long lines", () => {
    const long = "x".repeat(300) + " " + "y".repeat(300);
    expect(renderFile({ path: "x.yaml", format: "yaml", content: { v: long } })).toContain(long);
  });
});

describe("closest", () => {
  it.each([
    ["schedular", ["scheduler", "triggerer"], "scheduler"],
    ["replicsa", ["replicas", "resources"], "replicas"],
    ["zzz", ["replicas", "resources"], undefined],
  ])("%s -> %s", (name, candidates, expected) => {
    expect(closest(name, candidates)).toBe(expected);
  });
});
