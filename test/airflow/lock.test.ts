import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleData } from "../helpers.js";
import { LOCK_FILE, lockOfLine } from "./venv.js";
import { SUPPORTED_LINES } from "../../generator/config/airflow-options.js";

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

describe("each supported line: its lock and its airflow.cfg option table", () => {
  it.each(SUPPORTED_LINES.map((l) => [l.line, l.release]))("Airflow %s: the lock installs %s, and its table was read from the very releases the lock installs", (line, release) => {
    const lock = pins(readFileSync(lockOfLine(line), "utf8"));
    expect(lock.get("apache-airflow"), `${lockOfLine(line)} is stale: run test/airflow/update-lock.sh ${release}`).toBe(release);
    const table = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "generator", "config", "airflow-options", `${line}.json`), "utf8")) as { packages: Record<string, string> };
    const shared = Object.keys(table.packages).filter((name) => lock.has(name));
    expect(shared).toEqual(expect.arrayContaining(["apache-airflow-core", "apache-airflow-providers-cncf-kubernetes", "apache-airflow-providers-fab", "apache-airflow-providers-amazon"]));
    for (const name of shared) {
      expect(table.packages[name], `the ${line} table read ${name} ${table.packages[name]}, the lock installs ${lock.get(name)}: run test/airflow/update-option-tables.sh ${release}`).toBe(lock.get(name));
    }
  });

  it("the locks ask for the same packages", () => {
    for (const { line } of SUPPORTED_LINES) {
      const other = readFileSync(lockOfLine(line).replace(/\.lock$/, ".in"), "utf8");
      expect(requested(other).sort(), line).toEqual(requested(inText).sort());
    }
  });
});
