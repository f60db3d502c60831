/**
 * Config text in, a complete Config out (every default filled), or a ConfigError listing every
 * problem with its line and column. Pure: the caller reads the file.
 */
import { ConfigError, sortIssues, type ConfigIssue } from "./issues.js";
import { parseConfigText } from "./source.js";
import { checkAgainstSchema } from "./schema-check.js";
import { RULES } from "./rules.js";
import type { Config } from "./schema.js";

export function loadConfig(text: string, fileName: string): Config {
  const { source, issues: syntaxIssues } = parseConfigText(text);
  if (!source) throw new ConfigError(fileName, sortIssues(syntaxIssues));
  const { config, issues: schemaIssues } = checkAgainstSchema(source);
  const issues: ConfigIssue[] = [...syntaxIssues, ...schemaIssues];
  if (config) {
    for (const rule of RULES) {
      for (const issue of rule(config)) issues.push({ ...issue, ...locateDotted(source, issue.path) });
    }
  }
  if (issues.length > 0 || !config) throw new ConfigError(fileName, sortIssues(issues));
  return config;
}

function locateDotted(source: NonNullable<ReturnType<typeof parseConfigText>["source"]>, path: string) {
  const segments = path.match(/[^.[\]"]+|\[\d+\]/g)?.map((s) => (s.startsWith("[") ? Number(s.slice(1, -1)) : s)) ?? [];
  return source.locate(segments, { key: true }) ?? {};
}
