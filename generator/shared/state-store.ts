/** Whether a build expires the task state store: as asked, or by default where its Airflow line has one. */
import type { Config } from "../config/schema.js";
import { hasStateStore, lineOf } from "../config/airflow-options.js";

export function stateStoreCleanEnabled(airflow: Pick<Config["airflow"], "image" | "stateStoreClean">): boolean {
  return airflow.stateStoreClean.enabled ?? hasStateStore(lineOf(airflow.image.tag));
}
