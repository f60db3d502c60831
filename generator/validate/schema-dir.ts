/**
 * Validation against a directory of kubeconform-style strict JSON Schemas: built-in kinds in
 * `k8s/<kind>[-<group>]-<version>.json`, custom resources in `crds/<group>/<kind>_<version>.json`.
 * Each schema file is compiled once per process, on first use: compiling the larger ones (every kind
 * that embeds a pod template) takes far longer than checking many objects against them.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

export interface SchemaProblem {
  path: string;
  message: string;
}

export interface ObjectSchemaValidator {
  /** undefined when the directory has no schema for the object's kind. */
  validate(object: { apiVersion: string; kind: string }): SchemaProblem[] | undefined;
}

export function schemaDirValidator(dir: string): ObjectSchemaValidator {
  const byKind = new Map<string, ValidateFunction | null>();
  const validatorOf = (apiVersion: string, kind: string): ValidateFunction | null => {
    const key = `${apiVersion}/${kind}`;
    if (!byKind.has(key)) {
      const file = schemaFile(dir, apiVersion, kind);
      byKind.set(key, file ? compiledSchema(file) : null);
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

let ajv: Ajv | undefined;
/** Compiled schemas by file, valid while the file keeps its size and modification time. */
const compiled = new Map<string, { stamp: string; validate: ValidateFunction }>();

function compiledSchema(file: string): ValidateFunction {
  const stat = statSync(file);
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = compiled.get(file);
  if (known?.stamp === stamp) return known.validate;
  // Without ajv's code optimisation, compiling these large schemas takes about half as long; each
  // validates only the few objects of its kind, so the slower checks cost far less than that saves.
  ajv ??= new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false } });
  const validate = ajv.compile(closeCustomResource(JSON.parse(readFileSync(file, "utf8")) as Schema, file));
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
