/**
 * The field tables derived from the installed packages, kept between runs: deriving them compiles
 * the packages' declarations (seconds), and the result is a function of the locked packages and the
 * deriving code alone, so it is stored under the hash of those, outside the repository.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { deriveFieldTable, fieldTableText } from "../generator/validate/derive-field-tables.js";
import { ROOT } from "./helpers.js";

const INPUTS = ["package-lock.json", "generator/validate/derive-field-tables.ts", "generator/validate/unknown-fields.ts"];

export async function derivedFieldTableText(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of INPUTS) hash.update(`${file}\0`).update(readFileSync(join(ROOT, file)));
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airflow-gitops", "field-tables");
  const path = join(dir, `${hash.digest("hex")}.json`);
  try {
    return readFileSync(path, "utf8");
  } catch {
    const text = fieldTableText(await deriveFieldTable());
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${path}.${process.pid}.tmp`, text);
    renameSync(`${path}.${process.pid}.tmp`, path);
    return text;
  }
}
