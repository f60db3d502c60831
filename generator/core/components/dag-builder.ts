/**
 * The built-in DAG builder (dags.taskSpecs): the builder's Python package and its settings in a
 * ConfigMap, run by a container of the environment's own Airflow image as `python3 -m dag_builder`.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import { ConfigMap } from "../kinds.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { DAGS_MOUNT } from "../paths.js";
import { airflowImage } from "../pod.js";
import type { Target } from "../target.js";
import type { Manifest } from "./types.js";

/** Where the ConfigMap is mounted: the package as dag_builder/, the settings beside it. */
export const BUILDER_HOME = "/opt/dag-builder";
const PACKAGE = "dag_builder";
const SETTINGS_KEY = "settings.json";
export const BUILDER_VOLUME = "dag-builder";

/** Whether a builder (built-in or an image of the user's) writes the DAG files, rather than git-sync. */
export function usesDagBuilder(config: Target): boolean {
  return config.dags.taskSpecs !== undefined || config.dags.builder !== undefined;
}

/** The ConfigMap with the builder's files and settings, when the config uses the built-in builder. */
export function dagBuilderConfigMap(config: Target): Manifest | undefined {
  const settings = config.dags.taskSpecs;
  if (!settings) return undefined;
  const source = config.builderSource;
  if (!source || !Object.keys(source).some((file) => file === "__main__.py")) {
    throw new Error("the built-in DAG builder's Python files were not passed to generate()");
  }
  const n = names(config);
  const data: Record<string, string> = { [SETTINGS_KEY]: `${JSON.stringify(settings, null, 2)}\n` };
  for (const file of Object.keys(source).sort()) data[file] = source[file]!;
  const configMap = new ConfigMap({
    metadata: { name: n.dagBuilderConfigMap, namespace: n.namespace, labels: labels(config, "dag-sync") },
    data,
  });
  return { component: "dag-sync", object: toKubeObject(configMap) };
}

/** The container that runs the built-in builder, watching `sourcesDir` and writing the DAG volume. */
export function builtInBuilderContainer(
  config: Target,
  configMap: Manifest,
  sourcesDir: string,
  mounts: IVolumeMount[],
): { container: IContainer; volume: IVolume } {
  const files = Object.keys((configMap.object.data ?? {}) as Record<string, string>);
  const volume: IVolume = {
    name: BUILDER_VOLUME,
    configMap: {
      name: configMap.object.metadata.name!,
      items: files.map((key) => ({ key, path: key === SETTINGS_KEY ? key : `${PACKAGE}/${key}` })),
    },
  };
  const container: IContainer = {
    name: "dag-builder",
    image: airflowImage(config),
    imagePullPolicy: "IfNotPresent",
    command: ["python3", "-m", PACKAGE, "--source", sourcesDir, "--output", DAGS_MOUNT, "--config", `${BUILDER_HOME}/${SETTINGS_KEY}`],
    env: [
      { name: "PYTHONPATH", value: BUILDER_HOME },
      // The package is on a read-only volume; the pod log must show each report as it happens.
      { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
      { name: "PYTHONUNBUFFERED", value: "1" },
    ],
    volumeMounts: [...mounts, { name: BUILDER_VOLUME, mountPath: BUILDER_HOME, readOnly: true }],
  };
  return { container, volume };
}
