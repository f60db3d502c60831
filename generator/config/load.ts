/**
 * Config text in, a complete Config out (every default filled), or a ConfigError listing every
 * problem with its line and column. Pure: the caller reads the file.
 */
import { ConfigError, sortIssues, type ConfigIssue } from "./issues.js";
import { parseConfigText, type ConfigSource } from "./source.js";
import { checkAgainstSchema } from "./schema-check.js";
import { RULES, WARNING_RULES } from "./rules.js";
import type { Config } from "./schema.js";

export function loadConfig(text: string, fileName: string): Config {
  return loadConfigWithWarnings(text, fileName).config;
}

/** The config and the warnings about it: findings that do not stop generation but deserve a look. */
export function loadConfigWithWarnings(
  text: string,
  fileName: string,
): { config: Config; warnings: ConfigIssue[]; locate: (issue: ConfigIssue) => ConfigIssue } {
  const { source, issues: syntaxIssues } = parseConfigText(text);
  if (!source) throw new ConfigError(fileName, sortIssues(syntaxIssues));
  const { config, issues: schemaIssues } = checkAgainstSchema(source);
  const issues: ConfigIssue[] = [...syntaxIssues, ...schemaIssues];
  const lineOf = (path: string) => {
    const at = locateDotted(source, path);
    return "line" in at ? ` (line ${at.line})` : "";
  };
  // The rules also run when the schema found problems (its defaults are filled in either way), so one
  // run lists every problem; only what a schema problem already explains, or makes unreadable, is left out.
  const candidate = config ?? (source.data as Config);
  for (const rule of RULES) {
    let found: ConfigIssue[];
    try {
      found = rule(candidate, lineOf);
    } catch (error) {
      if (config) throw error;
      continue;
    }
    for (const issue of found) {
      if (!config && schemaIssues.some((s) => related(s.path, issue.path))) continue;
      issues.push({ ...issue, ...locateDotted(source, issue.path) });
    }
  }
  if (issues.length > 0 || !config) throw new ConfigError(fileName, sortIssues(issues));
  const warnings = WARNING_RULES.flatMap((rule) => rule(config, lineOf)).map((issue) => ({ ...issue, ...locateDotted(source, issue.path) }));
  return { config, warnings: sortIssues(warnings), locate: (issue) => ({ ...issue, ...locateDotted(source, issue.path) }) };
}

/** One path is the other or lies inside it. */
function related(a: string, b: string): boolean {
  const inside = (x: string, y: string) => x === y || y === "" || x.startsWith(`${y}.`) || x.startsWith(`${y}[`);
  return inside(a, b) || inside(b, a);
}

function locateDotted(source: ConfigSource, path: string) {
  const segments = path.match(/[^.[\]"]+|\[\d+\]/g)?.map((s) => (s.startsWith("[") ? Number(s.slice(1, -1)) : s)) ?? [];
  return source.locate(segments, { key: true }) ?? {};
}
