/**
 * Every container's requests must fit under its limits once an environment's overrides are merged:
 * the API server refuses such a pod (for the task pod template, every task launch).
 */
import type { Config } from "./schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import { quantityValue } from "./quantity.js";

interface ResourcePair {
  /** Path of the resources object below `components`, e.g. ["scheduler", "resources"]. */
  at: string[];
  requests: Record<string, unknown>;
  limits: Record<string, unknown>;
}

/** Every `{ requests, limits }` object below `components`, wherever it sits. */
function resourcePairs(components: unknown, at: string[] = []): ResourcePair[] {
  if (!isRecord(components)) return [];
  if (isRecord(components.requests) || isRecord(components.limits)) {
    return [{ at, requests: isRecord(components.requests) ? components.requests : {}, limits: isRecord(components.limits) ? components.limits : {} }];
  }
  return Object.entries(components).flatMap(([key, value]) => resourcePairs(value, [...at, key]));
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let v = data;
  for (const s of path) v = isRecord(v) ? v[s] : undefined;
  return v;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function check(
  requests: unknown,
  limits: unknown,
  resource: string,
  blame: (field: "requests" | "limits") => { path: string; inherited?: string } | undefined,
): ConfigIssue[] {
  if (typeof requests !== "string" || typeof limits !== "string") return [];
  const [request, limit] = [quantityValue(requests), quantityValue(limits)];
  if (request === undefined || limit === undefined || request <= limit) return [];
  const at = blame("requests") ?? blame("limits");
  if (!at) return [];
  const other = at.inherited ? ` (inherited from ${at.inherited})` : "";
  const message = at.path.includes(".requests.")
    ? `is ${requests}, above limits.${resource} ${limits}${other}: the API server refuses a pod whose request exceeds its limit`
    : `is ${limits}, below requests.${resource} ${requests}${other}: the API server refuses a pod whose request exceeds its limit`;
  return [{ path: at.path, message }];
}

/** Top-level pairs, then each environment's merged pairs where the environment sets one of the two values. */
export const requestsFitUnderLimits = (config: Config): ConfigIssue[] => {
  const issues: ConfigIssue[] = [];
  const top = config.components as unknown;
  for (const pair of resourcePairs(top)) {
    for (const resource of ["cpu", "memory"]) {
      const path = (field: string) => joinPath(["components", ...pair.at, field, resource]);
      issues.push(...check(pair.requests[resource], pair.limits[resource], resource, (field) => ({ path: path(field) })));
    }
  }
  for (const [name, env] of Object.entries(config.environments)) {
    const own = env.components as unknown;
    for (const pair of resourcePairs(top)) {
      for (const resource of ["cpu", "memory"]) {
        const ownValue = (field: string) => valueAt(own, [...pair.at, field, resource]);
        if (ownValue("requests") === undefined && ownValue("limits") === undefined) continue;
        const merged = (field: "requests" | "limits") => ownValue(field) ?? (field === "requests" ? pair.requests : pair.limits)[resource];
        const envPath = (field: string) => joinPath(["environments", name, "components", ...pair.at, field, resource]);
        const topPath = (field: string) => joinPath(["components", ...pair.at, field, resource]);
        issues.push(
          ...check(merged("requests"), merged("limits"), resource, (field) => {
            if (ownValue(field) === undefined) return undefined;
            const otherField = field === "requests" ? "limits" : "requests";
            return { path: envPath(field), ...(ownValue(otherField) === undefined ? { inherited: topPath(otherField) } : {}) };
          }),
        );
      }
    }
  }
  return issues;
};
