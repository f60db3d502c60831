/**
 * Unknown-field detection: every field of an object, at every level, must be one its kind defines.
 * The field tables come from the packages made for this (see derive-field-tables.ts): built-in kinds
 * from `@kubernetes/client-node`'s generated models, the custom resources written from the
 * `@kubernetes-models/*` declarations. Values' types, required fields and enums are the models'
 * validators' job.
 */
import tables from "./field-tables.json" with { type: "json" };
import type { SchemaProblem } from "./schema-dir.js";

/** A type: the name of an object type in `types`, a list, a map, or `*` for anything. */
export type FieldType = string | { items: FieldType } | { values: FieldType };

export interface FieldTable {
  /** `<apiVersion>/<kind>` -> its root type. */
  roots: Record<string, string>;
  types: Record<string, Record<string, FieldType>>;
}

const FIELDS = tables as FieldTable;

/** undefined when the kind is not in the tables. */
export function unknownFields(object: { apiVersion: string; kind: string }): SchemaProblem[] | undefined {
  const root = FIELDS.roots[`${object.apiVersion}/${object.kind}`];
  if (!root) return undefined;
  const problems: SchemaProblem[] = [];
  walk(object, root, "", problems);
  return problems;
}

/** The unknown fields of a value of one API type (`V1Container`, ...), at paths inside the value. */
export function unknownFieldsOf(value: unknown, type: string): SchemaProblem[] {
  if (!FIELDS.types[type]) throw new Error(`no field table for ${type}`);
  const problems: SchemaProblem[] = [];
  walk(value, type, "", problems);
  return problems;
}

function walk(value: unknown, type: FieldType, path: string, problems: SchemaProblem[]): void {
  if (value === null || value === undefined || type === "*") return;
  if (typeof type === "object") {
    if ("items" in type) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, type.items, `${path}/${i}`, problems));
    } else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) walk(item, type.values, `${path}/${escape(key)}`, problems);
    }
    return;
  }
  const fields = FIELDS.types[type];
  if (!fields || !isRecord(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const fieldType = fields[key];
    if (fieldType === undefined) problems.push({ path: `${path}/${escape(key)}`, message: `unknown field "${key}"` });
    else walk(item, fieldType, `${path}/${escape(key)}`, problems);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
