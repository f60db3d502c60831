/**
 * Checks data against the config JSON Schema with ajv, filling every default on the way (the one
 * place defaults are applied), and turns ajv's errors into located, readable issues.
 */
import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ConfigSchema, PATTERN_HINTS, type Config } from "./schema.js";
import { P } from "./schema-kit.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import type { ConfigSource } from "./source.js";

/** The options the config schema is compiled with, here and when the bundle precompiles it. */
export const CONFIG_AJV_OPTIONS = { allErrors: true, useDefaults: true, strict: true, strictTypes: false } as const;

/** Set in the bundled CLI (see launch.mjs), where the validator is compiled ahead of time. */
declare const precompiledConfigValidator: ValidateFunction | undefined;

let compiled: ValidateFunction | undefined;

/** The bundled CLI never takes the second branch, so it never loads ajv's compiler (a large share of start-up). */
function validator(): ValidateFunction {
  if (!compiled) {
    if (typeof precompiledConfigValidator === "function") compiled = precompiledConfigValidator;
    else {
      const { Ajv } = createRequire(import.meta.url)("ajv") as typeof import("ajv");
      compiled = new Ajv(CONFIG_AJV_OPTIONS).compile(ConfigSchema);
    }
  }
  return compiled;
}

/** Validates `source.data` in place (defaults are written into it) and returns the issues found. */
export function checkAgainstSchema(source: ConfigSource): { config?: Config; issues: ConfigIssue[] } {
  const validate = validator();
  if (validate(source.data)) return { config: source.data as Config, issues: [] };
  const issues = (validate.errors ?? []).map((e) => toIssue(e, source));
  return { issues: dedupe(issues) };
}

function toIssue(error: ErrorObject, source: ConfigSource): ConfigIssue {
  const parent = withListIndexes(source.data, pointerSegments(error.instancePath));
  const value = valueAt(source.data, parent);
  const described = describe(error, value);
  const path = described.child === undefined ? parent : [...parent, described.child];
  const at = source.locate(path, { key: described.child !== undefined });
  return { path: joinPath(path), message: described.message, ...(at ?? {}) };
}

function describe(e: ErrorObject, value: unknown): { message: string; child?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const name = String(p.additionalProperty);
      const parent = schemaAt(e.schemaPath.replace(/\/additionalProperties$/, ""));
      const namePattern = Object.keys((parent?.patternProperties as object | undefined) ?? {})[0];
      if (namePattern !== undefined) {
        return { child: name, message: `invalid name "${name}": ${PATTERN_HINTS[namePattern] ?? `must match ${namePattern}`}` };
      }
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      const guess = closest(name, allowed);
      const hint = guess ? `; did you mean "${guess}"?` : ".";
      return { child: name, message: `unknown field "${name}"${hint} Allowed: ${allowed.join(", ") || "none"}` };
    }
    case "required":
      return { child: String(p.missingProperty), message: "is required" };
    case "type": {
      const quote = [p.type].flat().includes("string") && typeof value === "number" ? NUMBER_TO_QUOTE : "";
      return { message: `must be ${[p.type].flat().join(" or ")}, found ${kindOf(value)}${quote}` };
    }
    case "enum":
      return { message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, found ${show(value)}` };
    case "pattern":
      if (typeof value === "string" && value.length > 63 && String(p.pattern) === P.dnsLabel) {
        return { message: `must be at most 63 characters (a DNS label), found ${value.length}: "${value}"` };
      }
      return { message: `${PATTERN_HINTS[String(p.pattern)] ?? `must match ${String(p.pattern)}`}, found ${show(value)}` };
    case "minimum":
    case "maximum":
      return { message: `must be ${e.keyword === "minimum" ? ">=" : "<="} ${String(p.limit)}, found ${show(value)}` };
    case "minItems":
      return { message: `must have at least ${String(p.limit)} item(s)` };
    case "minProperties":
      return { message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}` };
    case "minLength":
      return { message: "must not be empty" };
    case "maxLength":
      return { message: `must be at most ${String(p.limit)} characters, found ${String((value as string).length)}` };
    default:
      return { message: e.message ?? e.keyword };
  }
}

/** The config schema's node at an ajv schemaPath such as `#/properties/dags/properties/gitSync`. */
function schemaAt(schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = ConfigSchema;
  // ajv writes schema paths as URI fragments: each segment is percent-encoded.
  for (const segment of pointerSegments(schemaPath.replace(/^#/, "")).map((s) => decodeURIComponent(String(s)))) {
    node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return node !== null && typeof node === "object" ? (node as Record<string, unknown>) : undefined;
}

function pointerSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** JSON pointers spell list indexes as strings; make them numbers where the data holds a list. */
function withListIndexes(data: unknown, segments: readonly (string | number)[]): (string | number)[] {
  return segments.map((segment, i) =>
    typeof segment === "string" && /^\d+$/.test(segment) && Array.isArray(valueAt(data, segments.slice(0, i))) ? Number(segment) : segment,
  );
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let v = data;
  for (const s of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** YAML reads an unquoted 012345678901 (an account id) as a number, dropping its leading zero. */
const NUMBER_TO_QUOTE = ": YAML reads unquoted digits as a number (and drops leading zeros); put the value in quotes";

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${show(value)}`;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The allowed name closest to a misspelt one, if it is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
