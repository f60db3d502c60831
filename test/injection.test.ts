/**
 * A config value stays a value: no control character reaches a file, no `$(VAR)` a kubelet would expand,
 * no namespace the cluster or Argo CD owns. Each class is tested over every field, not one instance.
 */
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { generate } from "../generator/core/index.js";
import { joinPath } from "../generator/config/issues.js";
import { exampleData, exampleProblems, loadForCore } from "./helpers.js";

type Path = (string | number)[];

/** Every string leaf of `data` with its path. */
function stringLeaves(data: unknown, at: Path = []): Path[] {
  if (typeof data === "string") return [at];
  if (Array.isArray(data)) return data.flatMap((item, i) => stringLeaves(item, [...at, i]));
  if (data && typeof data === "object") return Object.entries(data).flatMap(([k, v]) => stringLeaves(v, [...at, k]));
  return [];
}

function setAt(data: any, path: Path, value: unknown): void {
  const parent = path.slice(0, -1).reduce((node, key) => node[key], data);
  parent[path.at(-1)!] = value;
}

function getAt(data: any, path: Path): any {
  return path.reduce((node, key) => node[key], data);
}

/** The example with the optional free-text fields switched on, so they are covered too. */
function richExample(): any {
  const data = exampleData() as any;
  data.airflow.adminUser = { username: "admin", email: "admin@acme.com", firstName: "Ada", lastName: "Admin" };
  return data;
}

/** Every string a kubelet expands (`command`, `args`, `env[].value`) of every container the tree creates. */
function expandedStrings(objects: unknown[]): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    for (const key of ["containers", "initContainers"]) {
      for (const c of (record[key] as Record<string, any>[] | undefined) ?? []) {
        out.push(...(c.command ?? []), ...(c.args ?? []), ...(c.env ?? []).flatMap((e: { value?: string }) => (e.value === undefined ? [] : [e.value])));
      }
    }
    for (const value of Object.values(record)) {
      // The pod template file travels as YAML text in a ConfigMap.
      if (typeof value === "string" && /^kind: Pod$/m.test(value)) visit(parse(value));
      else visit(value);
    }
  };
  objects.forEach(visit);
  return out;
}

/** `$(NAME)` references Kubernetes would expand: a `$(` after an even run of `$` (`$$` is a literal `$`). */
function references(strings: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const s of strings) for (const m of s.matchAll(/(\$*)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) if (m[1]!.length % 2 === 0) found.add(m[2]!);
  return found;
}

function objectsOf(data: unknown): unknown[] {
  return generate(loadForCore(stringify(data))).flatMap((file) => (file.format === "yaml" ? [file.content] : []));
}

describe("control characters", () => {
  it("are refused in every string of the config, with the field and its line", () => {
    const leaves = stringLeaves(richExample());
    expect(leaves.length).toBeGreaterThan(40);
    for (const path of leaves) {
      for (const bad of ["\n[secrets]\nbackend = x", "a\rb", "a\u0000b", "a\u2028b"]) {
        const problems = exampleProblems((d) => {
          Object.assign(d, richExample());
          setAt(d, path, `${getAt(d, path)}${bad}`);
        });
        // Refused by the field's own pattern where it has one, else by the control-character rule.
        expect(problems.some((p) => p.includes(` ${joinPath(path)}: `)), `${joinPath(path)} ${JSON.stringify(bad)}: ${problems.join("; ")}`).toBe(true);
      }
    }
  });

  it("names an airflow.cfg value that would write a new section, at its line", () => {
    const problems = exampleProblems((d) => (d.airflow.config.core.parallelism = "64\n[secrets]\nbackend = evil"));
    expect(problems).toEqual([expect.stringMatching(/^airflow-gitops\.yaml:\d+:\d+ airflow\.config\.core\.parallelism: contains a newline/)]);
  });

  it("are refused in keys too", () => {
    const problems = exampleProblems((d) => (d.environments.prod.peakHours.nodePool.labels["team\nx"] = "data"));
    expect(problems.some((p) => p.includes("environments.prod.peakHours.nodePool.labels"))).toBe(true);
  });
});

describe("$(VAR) in values that reach a container", () => {
  it("is never expanded by Kubernetes, whichever field it is written in", () => {
    const baseline = references(expandedStrings(objectsOf(richExample())));
    let reached = 0;
    for (const path of stringLeaves(richExample())) {
      const data = richExample();
      setAt(data, path, `${getAt(data, path)}$(FERNET_KEY)`);
      if (exampleProblems((d) => Object.assign(d, data)).length > 0) continue; // the field's pattern refuses `$`
      const strings = expandedStrings(objectsOf(data));
      if (strings.some((s) => s.includes("$(FERNET_KEY)"))) reached++;
      expect(references(strings), path.join(".")).toEqual(baseline);
    }
    // The test means something only if values do reach containers: admin user, git-sync and more.
    expect(reached).toBeGreaterThanOrEqual(5);
  });
});

describe("reserved namespaces", () => {
  it.each([
    ["kube-system", /Kubernetes system/],
    ["default", /default namespace/],
    ["argocd", /Argo CD namespace/],
    ["external-secrets", /External Secrets/],
  ])("refuses %s as an environment's namespace, at its line", (namespace, why) => {
    const problems = exampleProblems((d) => (d.environments.dev.namespace = namespace));
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^airflow-gitops\\.yaml:\\d+:\\d+ environments\\.dev\\.namespace: namespace "${namespace}" is .*${why.source}`))]);
  });

  it("refuses a reserved top-level namespace once, not again for every environment inheriting it", () => {
    const problems = exampleProblems((d) => {
      d.namespace = "kube-public";
      delete d.environments.prod.namespace;
      d.environments.dev.namespace = "airflow-dev";
    });
    expect(problems.filter((p) => p.includes("kube-public"))).toEqual([expect.stringMatching(/^airflow-gitops\.yaml:\d+:\d+ namespace: namespace "kube-public"/)]);
  });

  it("follows argocd.namespace", () => {
    expect(exampleProblems((d) => ((d.argocd.namespace = "gitops"), (d.environments.dev.namespace = "gitops")))).toEqual([
      expect.stringContaining('environments.dev.namespace: namespace "gitops" is the Argo CD namespace'),
    ]);
  });
});
