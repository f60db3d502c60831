import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleData } from "../helpers.js";
import { LOCK_FILE } from "./venv.js";

const lockText = readFileSync(LOCK_FILE, "utf8");
const inText = readFileSync(join(import.meta.dirname, "requirements.in"), "utf8");

/** `name==version` entries of a pip requirements file, names normalised as PyPI does. */
function pins(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)/gm)) out.set(m[1]!.toLowerCase().replace(/[._]+/g, "-"), m[2]!);
  return out;
}

function requested(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((l) => l.split(/[=<>!~\[; ]/)[0]!.toLowerCase().replace(/[._]+/g, "-"));
}

describe("Python lock for real Airflow (test/airflow/requirements.lock)", () => {
  it("locks apache-airflow at the example config's image tag (stale lock otherwise)", () => {
    const tag = String(((exampleData().airflow as Record<string, unknown>).image as Record<string, unknown>).tag);
    const locked = pins(lockText).get("apache-airflow");
    expect(
      locked,
      `requirements.lock pins apache-airflow ${locked} but airflow-gitops.yaml uses image tag ${tag}: the lock is stale, run test/airflow/update-lock.sh ${tag}`,
    ).toBe(tag);
    expect(pins(inText).get("apache-airflow"), "requirements.in pins another apache-airflow than the lock").toBe(tag);
  });

  it("locks every requested package, each entry with hashes", () => {
    const locked = pins(lockText);
    for (const name of requested(inText)) expect(locked.has(name), `${name} is in requirements.in but not in requirements.lock`).toBe(true);
    const entries = lockText.split(/\n(?=[A-Za-z0-9])/).filter((e) => /^[A-Za-z0-9]/.test(e));
    expect(entries.length).toBe(locked.size);
    for (const entry of entries) expect(entry, `no hash for ${entry.split(" ")[0]}`).toMatch(/--hash=sha256:[0-9a-f]{64}/);
  });
});

describe("airflow.cfg option tables (generator/config/airflow-options/<line>.json)", () => {
  it("the example's line was read from the very releases the lock installs (stale table otherwise)", () => {
    const tag = String(((exampleData().airflow as Record<string, unknown>).image as Record<string, unknown>).tag);
    const line = tag.split(".").slice(0, 2).join(".");
    const table = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "generator", "config", "airflow-options", `${line}.json`), "utf8")) as { packages: Record<string, string> };
    const locked = pins(lockText);
    const shared = Object.keys(table.packages).filter((name) => locked.has(name));
    expect(shared).toEqual(expect.arrayContaining(["apache-airflow-core", "apache-airflow-providers-cncf-kubernetes", "apache-airflow-providers-fab", "apache-airflow-providers-amazon"]));
    for (const name of shared) {
      expect(table.packages[name], `the ${line} table read ${name} ${table.packages[name]}, the lock installs ${locked.get(name)}: run test/airflow/update-option-tables.sh ${tag}`).toBe(locked.get(name));
    }
  });
});
