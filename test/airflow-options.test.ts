/** The per-line option tables: consistent in themselves, and what users set is judged as Airflow reads it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { judgeOption, SUPPORTED_LINES } from "../generator/config/airflow-options.js";

describe.each(SUPPORTED_LINES)("the option table of Airflow $line", ({ line }) => {
  const table = JSON.parse(readFileSync(join(import.meta.dirname, "..", "generator", "config", "airflow-options", `${line}.json`), "utf8")) as {
    sections: Record<string, Record<string, unknown>>;
    renamed: Record<string, { new: string; oldNameStillRead: boolean }>;
    removed: Record<string, string>;
  };
  const defined = (key: string) => table.sections[key.split(".")[0]!]?.[key.slice(key.indexOf(".") + 1)] !== undefined;

  it("never calls an option it defines removed or no longer read", () => {
    expect(Object.keys(table.removed).filter(defined)).toEqual([]);
    expect(Object.entries(table.renamed).filter(([old, r]) => !r.oldNameStillRead && defined(old)).map(([old]) => old)).toEqual([]);
  });

  it("points every rename at an option it defines (Airflow follows one step only)", () => {
    expect(Object.entries(table.renamed).filter(([, r]) => !defined(r.new)).map(([old, r]) => `${old} -> ${r.new}`)).toEqual([]);
  });

  it("judges as Airflow reads: an option dropped only at an old value is kept, a rename of a rename is no longer read", () => {
    expect(judgeOption(line, "email", "email_backend")).toMatchObject({ kind: "known" });
    expect(judgeOption(line, "webserver", "page_size")).toEqual({ kind: "renamed", to: "api.fallback_page_limit", since: "3.1.0", stillRead: false });
    expect(judgeOption(line, "webserver", "auth_rate_limit")).toMatchObject({ kind: "renamed", to: "fab.auth_rate_limit" });
  });
});
