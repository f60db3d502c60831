import type { ConfigIssue } from "../config/issues.js";
import type { GeneratedFile } from "./manifest.js";

/** Two generated files with one path: only an environment's name can do it, so it is that environment's problem. */
export function pathCollisions(files: readonly GeneratedFile[], environments: readonly string[]): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const { path } of files) {
    if (!seen.has(path)) {
      seen.add(path);
      continue;
    }
    const env = environments.find((e) => path.split("/").some((part) => part === e || part.startsWith(`${e}-`) || part.includes(`-${e}`)));
    issues.push({
      path: env ? `environments.${env}` : "environments",
      message: `two generated files would both be ${path}: ${env ? `rename environment ${env}` : "rename an environment"}`,
    });
  }
  return issues;
}
