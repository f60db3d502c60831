import { describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.js";
import { judgeOption, SUPPORTED_LINES } from "../generator/config/airflow-options.js";
import { airflowCfgSections, executionApiServerUrl, renderAirflowCfg, dagsFolder } from "../generator/core/airflow-cfg.js";
import { canonicalJson, checksum } from "../generator/core/hash.js";
import { byCodeUnit } from "../generator/shared/order.js";
import { plan, isUpToDate } from "../generator/fs/plan.js";
import { renderFile, GENERATED_HEADER } from "../generator/render/render.js";
import { closest } from "../generator/config/schema-check.js";
import { exampleText } from "./helpers.js";
import { cronWindow, leadTimeMinutes, overlappingWindows } from "../generator/shared/peak-windows.js";
import { aspectPatch } from "../generator/core/patches.js";
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
    ["airflow.acme.com", "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"],
  ])("points task pods at the Execution API in-cluster (ingress host %s)", (host, expected) => {
    const config = withData((d) => {
      if (host) d.ingress.host = host;
    });
    expect(executionApiServerUrl(config)).toBe(expected);
  });

  it.each([
    [(d: any) => d, "/opt/airflow/dags"],
    [(d: any) => ((d.dags.builder = { image: "acme/dag-builder:1.4.0", command: ["build"] }), delete d.dags.taskSpecs), "/opt/airflow/dags"],
    [(d: any) => delete d.dags.taskSpecs, "/opt/airflow/dags/repo/specs"],
    [(d: any) => ((d.dags.gitSync.subPath = ""), delete d.dags.taskSpecs), "/opt/airflow/dags/repo"],
  ])("puts dags_folder where the DAG files are (%#)", (change, expected) => {
    expect(dagsFolder(withData(change))).toBe(expected);
  });

  it.each(SUPPORTED_LINES.map((l) => [l.line, l.release]))("writes only options Airflow %s knows, none deprecated but the namespace kept for the executor (%s)", (line, release) => {
    const unknown: string[] = [];
    for (const [section, entries] of Object.entries(airflowCfgSections(withData((d) => (d.airflow.image.tag = release))))) {
      for (const option of Object.keys(entries)) {
        const verdict = judgeOption(line, section, option);
        if (verdict.kind !== "known") unknown.push(`${section}.${option}: ${verdict.kind}`);
        else if (verdict.deprecated !== undefined && `${section}.${option}` !== "kubernetes_executor.namespace") unknown.push(`${section}.${option}: deprecated`);
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

describe("the order of generated lists", () => {
  it("is by code unit, whatever the locale (Danish collation puts aa after z, and z before Z in English)", () => {
    const names = ["z", "aa", "Z", "a.b", "a-b"];
    expect([...names].sort(byCodeUnit)).toEqual(["Z", "a-b", "a.b", "aa", "z"]);
    expect([...names].sort((a, b) => a.localeCompare(b, "da"))).not.toEqual([...names].sort(byCodeUnit));
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

describe("peak windows as KEDA cron triggers", () => {
  it.each([
    // days, start, end, lead (minutes), expected start cron, expected end cron
    ["mon-fri", "07:00", "11:00", 0, "0 7 * * 1-5", "0 11 * * 1-5"],
    ["mon-fri", "07:00", "11:00", 30, "30 6 * * 1-5", "0 11 * * 1-5"],
    ["mon-fri", "07:15", "11:45", 90, "45 5 * * 1-5", "45 11 * * 1-5"],
    // Overnight: the end fires on the following days.
    ["mon-fri", "22:00", "02:00", 0, "0 22 * * 1-5", "0 2 * * 2-6"],
    ["fri", "23:30", "01:00", 0, "30 23 * * 5", "0 1 * * 6"],
    ["sat", "22:00", "02:00", 0, "0 22 * * 6", "0 2 * * 0"],
    ["daily", "23:00", "03:00", 0, "0 23 * * *", "0 3 * * *"],
    // A lead time that crosses midnight moves the start to the previous days.
    ["mon-fri", "00:15", "06:00", 30, "45 23 * * 0-4", "0 6 * * 1-5"],
    ["mon", "00:00", "04:00", 60, "0 23 * * 0", "0 4 * * 1"],
    // Lists, wrapping ranges and the week's ends.
    ["sat,sun", "10:00", "14:00", 0, "0 10 * * 0,6", "0 14 * * 0,6"],
    ["fri-mon", "10:00", "14:00", 0, "0 10 * * 0,1,5,6", "0 14 * * 0,1,5,6"],
    ["mon,wed,fri", "08:00", "09:00", 0, "0 8 * * 1,3,5", "0 9 * * 1,3,5"],
    ["mon-wed,fri", "08:00", "09:00", 0, "0 8 * * 1-3,5", "0 9 * * 1-3,5"],
  ])("%s %s-%s with %im lead: %s / %s", (days, start, end, lead, startCron, endCron) => {
    expect(cronWindow({ days, start, end }, lead)).toEqual({ start: startCron, end: endCron });
  });

  it.each([
    [{ days: "mon-fri", start: "07:00", end: "07:00" }, 0, /is empty/],
    [{ days: "mon-fri", start: "07:00", end: "11:00" }, 24 * 60, /lead time/],
    [{ days: "someday", start: "07:00", end: "11:00" }, 0, /not a day of the week/],
  ])("refuses %j with lead %i", (window, lead, message) => {
    expect(() => cronWindow(window, lead)).toThrow(message);
  });

  it("parses lead times and finds overlaps across midnight and the week's wrap", () => {
    expect([leadTimeMinutes("30m"), leadTimeMinutes("1h"), leadTimeMinutes("1h30m"), leadTimeMinutes("0m")]).toEqual([30, 60, 90, 0]);
    expect(overlappingWindows([{ days: "sat", start: "22:00", end: "03:00" }, { days: "sun", start: "02:00", end: "04:00" }])).toEqual([[0, 1]]);
    expect(overlappingWindows([{ days: "sat", start: "22:00", end: "02:00" }, { days: "sun", start: "02:00", end: "04:00" }])).toEqual([]);
    expect(overlappingWindows([{ days: "mon", start: "09:00", end: "10:00" }, { days: "tue", start: "09:30", end: "10:00" }])).toEqual([]);
    expect(overlappingWindows([{ days: "daily", start: "09:00", end: "10:00" }, { days: "tue", start: "09:30", end: "09:45" }])).toEqual([[0, 1]]);
  });
});

describe("overlay patches", () => {
  it("delete at the field an environment drops, merge maps, and merge named lists by name", () => {
    const base = { spec: { replicas: 2, template: { spec: { containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }, { name: "b", resources: {} }] } } } };
    const env = { spec: { template: { spec: { containers: [{ name: "a", resources: { limits: { memory: "2Gi" } } }, { name: "b", resources: {} }] } } } };
    expect(aspectPatch(base, env, [["spec", "replicas"]])).toEqual({ spec: { replicas: null } });
    expect(aspectPatch(base, env, [["spec", "template", "spec", "containers", "*", "resources"]])).toEqual({
      spec: { template: { spec: { containers: [{ name: "a", resources: { limits: { cpu: null, memory: "2Gi" } } }, { name: "b", resources: {} }] } } },
    });
  });
});

describe("kind constructors", () => {
  it("build the same data as the kubernetes-models classes they stand in for", async () => {
    const { KINDS } = await import("../generator/core/kinds.js");
    const { validateWithModels } = await import("../generator/validate/models.js");
    const data = { metadata: { name: "x", namespace: "ns", labels: { a: "b" }, annotations: undefined }, spec: { replicas: 2 } };
    for (const [kind, Kind] of Object.entries(KINDS)) {
      const ours = JSON.parse(JSON.stringify(new (Kind as new (d: object) => object)(data)));
      expect(ours.kind).toBe(kind);
      expect(Object.keys(ours).slice(0, 2)).toEqual(["apiVersion", "kind"]);
      expect(await validateWithModels({ apiVersion: ours.apiVersion, kind })).not.toBeUndefined();
      expect(ours.metadata).toEqual({ name: "x", namespace: "ns", labels: { a: "b" } });
    }
  });
});

describe("several aspect paths into one list", () => {
  it("meet in one item per name, in picks and in patches", async () => {
    const { aspectPatch, pick } = await import("../generator/core/patches.js");
    const paths = [["containers", "*", "image"], ["containers", "*", "args"]];
    const base = { containers: [{ name: "a", image: "x:1", args: ["--old"] }, { name: "b", image: "y:1", args: [] }] };
    const env = { containers: [{ name: "a", image: "x:2", args: ["--new"] }, { name: "b", image: "y:1", args: [] }] };
    expect(pick(env, paths)).toEqual({ containers: [{ name: "a", image: "x:2", args: ["--new"] }, { name: "b", image: "y:1", args: [] }] });
    expect(aspectPatch(base, env, paths)).toEqual({ containers: [{ name: "a", image: "x:2", args: ["--new"] }, { name: "b", image: "y:1", args: [] }] });
  });
});

describe("overlay coverage check", () => {
  it("compares objects leaving out exactly the aspect paths, into named list items", async () => {
    const { equalExcept } = await import("../generator/core/patches.js");
    const paths = [["spec", "replicas"], ["spec", "template", "spec", "containers", "*", "resources"]];
    const a = { spec: { replicas: 1, template: { spec: { containers: [{ name: "c", image: "x:1", resources: { cpu: 1 } }] } } } };
    const b = { spec: { replicas: 3, template: { spec: { containers: [{ name: "c", image: "x:1", resources: { cpu: 2 } }] } } } };
    expect(equalExcept(a, b, paths)).toBe(true);
    const c = structuredClone(b);
    c.spec.template.spec.containers[0]!.image = "x:2";
    expect(equalExcept(a, c, paths)).toBe(false);
    expect(equalExcept(a, { ...b, kind: "Deployment" }, paths)).toBe(false);
  });
});
