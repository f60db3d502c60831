/** The app.kubernetes.io labels: the full set on objects, the stable subset in selectors. */
import { tagVersion } from "../config/image-tag.js";
import type { Config } from "../config/schema.js";
import type { Part } from "./names.js";

export const MANAGED_BY = "airflow-gitops";

/** Only labels that never change for the life of a workload (selectors are immutable). */
export function selectorLabels(config: Pick<Config, "name">, component: Part): Record<string, string> {
  return {
    "app.kubernetes.io/name": "airflow",
    "app.kubernetes.io/instance": config.name,
    "app.kubernetes.io/component": component,
  };
}

export function labels(config: Pick<Config, "name" | "airflow">, component: Part): Record<string, string> {
  return {
    ...selectorLabels(config, component),
    "app.kubernetes.io/part-of": "airflow",
    "app.kubernetes.io/managed-by": MANAGED_BY,
    "app.kubernetes.io/version": tagVersion(config.airflow.image.tag),
  };
}

/** Selects every pod of this Airflow instance, whatever its component. */
export function instanceSelector(config: Pick<Config, "name">): Record<string, string> {
  return { "app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": config.name };
}
