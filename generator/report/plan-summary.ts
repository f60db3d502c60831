/**
 * What `gen` did, in a few lines: one per layer or environment that changed (created, changed,
 * deleted and unchanged files there), then the totals. Layers that did not change are in the totals.
 */
import type { Plan } from "../fs/plan.js";
import type { Style } from "./style.js";
import { byCodeUnit } from "../shared/order.js";

/** base, overlays/<env>, secrets/<env>, argocd, docs, or the file itself for top-level files. */
export function layerOf(path: string): string {
  const [first, second] = path.split("/");
  if ((first === "overlays" || first === "secrets") && second) return `${first}/${second}`;
  return path.includes("/") ? first! : path;
}

export function planSummary(plan: Plan, style: Style): string[] {
  type Counts = { created: number; changed: number; deleted: number; unchanged: number };
  const layers = new Map<string, Counts>();
  const count = (paths: readonly string[], field: keyof Counts) => {
    for (const path of paths) {
      const layer = layerOf(path);
      const entry = layers.get(layer) ?? { created: 0, changed: 0, deleted: 0, unchanged: 0 };
      entry[field]++;
      layers.set(layer, entry);
    }
  };
  count(plan.create, "created");
  count(plan.update, "changed");
  count(plan.delete, "deleted");
  count(plan.unchanged, "unchanged");
  const changed = [...layers.entries()].filter(([, c]) => c.created + c.changed + c.deleted > 0);
  const width = Math.max(0, ...changed.map(([k]) => k.length));
  const lines = changed
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([layer, c]) => {
      const parts = [
        c.created ? style.green(`${c.created} created`) : "",
        c.changed ? style.yellow(`${c.changed} changed`) : "",
        c.deleted ? style.red(`${c.deleted} deleted`) : "",
        c.unchanged ? `${c.unchanged} unchanged` : "",
      ].filter(Boolean);
      return `${layer.padEnd(width)}  ${parts.join(", ")}`;
    });
  lines.push(`${plan.create.length} created, ${plan.update.length} changed, ${plan.delete.length} deleted, ${plan.unchanged.length} unchanged`);
  return lines;
}
