/**
 * Strict schemas compiled to validator code once per machine, not once per run. Compiling the
 * larger upstream schemas (every kind that embeds a pod template, Argo CD's ApplicationSet) takes
 * seconds; loading the code ajv wrote for them takes milliseconds. The code is stored under the
 * digest of everything that decides it (the schema, ajv's version and options), so a stored file
 * is either the right code or not found; one that does not load is compiled again.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Ajv, Options, ValidateFunction } from "ajv";

/** Bump when the stored form changes. */
const FORMAT = 1;

// Without ajv's code optimisation, compiling these large schemas takes about half as long; each
// validates only the few objects of its kind, so the slower checks cost far less than that saves.
const OPTIONS: Options = { allErrors: true, strict: false, validateFormats: false, code: { source: true, optimize: false } };

const require = createRequire(import.meta.url);
let ajv: Ajv | undefined;

/** A validator for `schema`, from code stored in `storeDir` when an earlier run compiled the same schema. */
export function compileSchema(schema: object, storeDir: string): ValidateFunction {
  const key = createHash("sha256")
    .update(`${FORMAT}\0${(require("ajv/package.json") as { version: string }).version}\0${JSON.stringify(OPTIONS)}\0${JSON.stringify(schema)}`)
    .digest("hex");
  const file = join(storeDir, key.slice(0, 2), `${key}.cjs`);
  const stored = load(file);
  if (stored) return stored;
  // ajv's compiler loads only when a schema has to be compiled.
  ajv ??= new (require("ajv") as typeof import("ajv")).Ajv(OPTIONS);
  const validate = ajv.compile(schema);
  const { default: standaloneCode } = require("ajv/dist/standalone/index.js") as typeof import("ajv/dist/standalone/index.js");
  store(file, standaloneCode(ajv, validate));
  return validate;
}

function load(file: string): ValidateFunction | undefined {
  try {
    const module = { exports: {} as unknown };
    // The code is ajv's standalone CommonJS module; its few runtime helpers come from this project's ajv.
    new Function("require", "module", "exports", readFileSync(file, "utf8"))(require, module, module.exports);
    return typeof module.exports === "function" ? (module.exports as ValidateFunction) : undefined;
  } catch {
    return undefined;
  }
}

/** Written beside its place and renamed, so a concurrent run never loads half a file. */
function store(file: string, code: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const staging = `${file}.${process.pid}.tmp`;
    writeFileSync(staging, code);
    renameSync(staging, file);
  } catch {
    // A store that cannot be written only costs the next run the compile.
  }
}
