/**
 * docs/config.md: every field of airflow-gitops.yaml from the published JSON Schema (path, type,
 * default, description, example), so the reference can never disagree with what the loader accepts.
 */
import { OVERRIDE_COMMENT } from "../config/environment-schema.js";

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  $comment?: string;
};

interface Row {
  path: string;
  type: string;
  required: boolean;
  defaultValue: string;
  description: string;
  example: string;
}

/** Placeholder segment names for the maps of the config. */
const MAP_KEYS: Readonly<Record<string, string>> = {
  environments: "<env>",
  "argocd.environments": "<env>",
  "airflow.config": "<section>",
  "environments.<env>.airflow.config": "<section>",
  labels: "<label>",
};

export function configReference(schema: Schema): string {
  const sections: { name: string; rows: Row[] }[] = [];
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const rows: Row[] = [];
    walk(sub, name, (schema.required ?? []).includes(name), rows);
    sections.push({ name, rows });
  }
  const lines = [
    "# Configuration reference",
    "",
    `Every field of \`airflow-gitops.yaml\`, generated from its JSON Schema (\`airflow-gitops.schema.json\`). ${schema.description ?? ""}`,
    "Fields without a default are required where marked; every other field takes its default when left out.",
    "An environment's override sections (`environments.<env>.airflow`, `.ingress`, `.storage`, `.secrets`,",
    "`.components`) take the same fields as the top-level sections; each field left out inherits the top-level value.",
    "",
    ...sections.map((s) => `- [\`${s.name}\`](#${s.name.toLowerCase()})`),
  ];
  for (const section of sections) {
    lines.push("", `## ${section.name}`, "", "| Field | Type | Default | Description | Example |", "|---|---|---|---|---|");
    for (const row of section.rows) {
      const name = `\`${row.path}\`${row.required ? " (required)" : ""}`;
      lines.push(`| ${name} | ${cell(row.type)} | ${cell(row.defaultValue)} | ${cell(row.description)} | ${cell(row.example)} |`);
    }
  }
  return lines.join("\n");
}

function walk(schema: Schema, path: string, required: boolean, rows: Row[]): void {
  if (schema.$comment === OVERRIDE_COMMENT) {
    const section = path.split(".").at(-1)!;
    rows.push({ path, type: "object", required, defaultValue: "", description: `${schema.description ?? ""} Same fields as \`${section}\`.`, example: "" });
    return;
  }
  rows.push({
    path,
    type: typeOf(schema),
    required: required && schema.default === undefined,
    defaultValue: schema.default === undefined || isEmptyObject(schema.default) ? "" : code(schema.default),
    description: schema.description ?? "",
    example: schema.examples?.length ? code(schema.examples[0]) : "",
  });
  for (const [name, sub] of Object.entries(schema.properties ?? {})) walk(sub, `${path}.${name}`, (schema.required ?? []).includes(name), rows);
  for (const sub of Object.values(schema.patternProperties ?? {})) {
    if (sub.properties || sub.patternProperties) walk(sub, `${path}.${MAP_KEYS[path] ?? "<name>"}`, false, rows);
  }
  // The fields of each list item (peak windows: days, start, end).
  for (const [name, sub] of Object.entries(schema.items?.properties ?? {})) walk(sub, `${path}[].${name}`, (schema.items?.required ?? []).includes(name), rows);
}

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((v) => code(v)).join(" | ");
  if (schema.type === "array") return `list of ${schema.items ? typeOf(schema.items) : "values"}`;
  if (schema.type === "object" && schema.patternProperties && !schema.properties) {
    const [sub] = Object.values(schema.patternProperties);
    return `map of ${sub ? typeOf(sub) : "values"}`;
  }
  const type = [schema.type ?? "any"].flat().join(" or ");
  const range =
    schema.minimum !== undefined || schema.maximum !== undefined ? ` (${schema.minimum ?? ""}..${schema.maximum ?? ""})` : "";
  return `${type}${range}`;
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}

function code(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

/** Table cells cannot hold pipes or newlines. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
