/** How an environment's override section merges over the shared one. */

/** Objects merge key by key; arrays and scalars in the override replace the shared value. */
export function mergeOverrides<T>(shared: T, override: unknown): T {
  if (override === undefined) return shared;
  if (!isPlainObject(shared) || !isPlainObject(override)) return override as T;
  const merged: Record<string, unknown> = { ...shared };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeOverrides(shared[key], value);
  return merged as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
