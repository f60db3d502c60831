/**
 * Validation against a directory of kubeconform-style strict JSON Schemas: built-in kinds in
 * `k8s/<kind>[-<group>]-<version>.json`, custom resources in `crds/<group>/<kind>_<version>.json`.
 * Each schema file is compiled on first use (see compiled-schema.ts) and kept for the process.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import { defaultCacheDir } from "./cache.js";
import { compileSchema } from "./compiled-schema.js";

export interface SchemaProblem {
  path: string;
  message: string;
}

export interface ObjectSchemaValidator {
  /** undefined when the directory has no schema for the object's kind. */
  validate(object: { apiVersion: string; kind: string }): SchemaProblem[] | undefined;
}

/** `compiledIn`: where compiled schemas are kept between runs. */
export function schemaDirValidator(dir: string, compiledIn = join(defaultCacheDir(), "schemas")): ObjectSchemaValidator {
  const byKind = new Map<string, ValidateFunction | null>();
  const validatorOf = (apiVersion: string, kind: string): ValidateFunction | null => {
    const key = `${apiVersion}/${kind}`;
    if (!byKind.has(key)) {
      const file = schemaFile(dir, apiVersion, kind);
      byKind.set(key, file ? compiledSchema(file, compiledIn) : null);
    }
    return byKind.get(key)!;
  };
  return {
    validate(object) {
      const fn = validatorOf(object.apiVersion, object.kind);
      if (!fn) return undefined;
      return fn(object) ? [] : (fn.errors ?? []).map(describe);
    },
  };
}

/** Compiled schemas by file, valid while the file keeps its size and modification time. */
const compiled = new Map<string, { stamp: string; validate: ValidateFunction }>();

function compiledSchema(file: string, storeDir: string): ValidateFunction {
  const stat = statSync(file);
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = compiled.get(file);
  if (known?.stamp === stamp) return known.validate;
  const validate = compileSchema(closeCustomResource(withJsPatterns(JSON.parse(readFileSync(file, "utf8"))) as Schema, file), storeDir);
  compiled.set(file, { stamp, validate });
  return validate;
}

type Schema = Record<string, unknown> & { properties?: Record<string, Schema> };

function schemaFile(dir: string, apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const k = kind.toLowerCase();
  const candidates = group
    ? [join(dir, "k8s", `${k}-${group.split(".")[0]}-${version}.json`), join(dir, "crds", group, `${k}_${version}.json`)]
    : [join(dir, "k8s", `${k}-${version}.json`)];
  return candidates.find((f) => existsSync(f));
}

/**
 * CRD patterns are Go regular expressions (RE2). One form JavaScript lacks occurs in them: a leading
 * `(?i)` for a case-insensitive pattern (the Prometheus operator's `^(?i)(abort|warn)?$`). It becomes
 * the same pattern with each letter matching both cases, in a class too (`[a-c]` gives `[a-cA-C]`).
 */
export function jsPattern(pattern: string): string {
  const flag = /^(\^?)\(\?i\)/.exec(pattern);
  if (!flag) return pattern;
  const both = (c: string) => `${c.toLowerCase()}${c.toUpperCase()}`;
  const letter = (c: string | undefined) => c !== undefined && /^[a-z]$/i.test(c);
  let out = flag[1]!;
  let inClass = false;
  for (let i = flag[0].length; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      out += c + (pattern[++i] ?? "");
    } else if (c === "[" && !inClass) {
      inClass = true;
      out += c;
    } else if (c === "]" && inClass) {
      inClass = false;
      out += c;
    } else if (inClass && letter(c) && pattern[i + 1] === "-" && letter(pattern[i + 2])) {
      const to = pattern[i + 2]!;
      out += `${c.toLowerCase()}-${to.toLowerCase()}${c.toUpperCase()}-${to.toUpperCase()}`;
      i += 2;
    } else if (letter(c)) {
      out += inClass ? both(c) : `[${both(c)}]`;
    } else {
      out += c;
    }
  }
  return out;
}

function withJsPatterns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withJsPatterns);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, key === "pattern" && typeof v === "string" ? jsPattern(v) : withJsPatterns(v)]),
  );
}

/** CRD schemas leave the top level and metadata open; a strict check closes both. */
function closeCustomResource(schema: Schema, file: string): Schema {
  if (!file.includes(`${"crds"}`)) return schema;
  const properties = { ...(schema.properties ?? {}) };
  properties.metadata = {
    type: "object",
    additionalProperties: false,
    properties: {
      name: { type: "string" },
      namespace: { type: "string" },
      labels: { type: "object", additionalProperties: { type: "string" } },
      annotations: { type: "object", additionalProperties: { type: "string" } },
      finalizers: { type: "array", items: { type: "string" } },
    },
  };
  return { ...schema, properties, additionalProperties: false };
}

function describe(e: ErrorObject): SchemaProblem {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") {
    return { path: `${e.instancePath}/${String(p.additionalProperty)}`, message: `unknown field "${String(p.additionalProperty)}"` };
  }
  return { path: e.instancePath || "/", message: e.message ?? e.keyword };
}
