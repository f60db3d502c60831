/**
 * The pure core: a complete Config in, every generated file out (as data; rendering to text is the
 * caller's). No file system, process, clock or environment access below this point.
 */
import type { Config } from "../config/schema.js";
import { argocdLayer } from "./argocd.js";
import { baseLayer } from "./base.js";
import { overlayLayer } from "./overlay.js";
import { parameterReaders, secretsLayer } from "./secrets-layer.js";
import { resolveEnvironment, type BuilderSource, type Target } from "./target.js";
import type { GeneratedFile } from "./manifest.js";

/** Top-level directories the generator owns completely: stale files in them are deleted. */
export const OWNED_DIRS = ["base", "overlays", "secrets", "argocd"] as const;

/** `builderSource` is required when the config uses the built-in DAG builder (dags.taskSpecs). */
export function generate(shared: Config, builderSource?: BuilderSource): GeneratedFile[] {
  const config: Target = builderSource ? { ...shared, builderSource } : shared;
  const readers = parameterReaders(config);
  return [
    ...baseLayer(config),
    ...Object.keys(config.environments).flatMap((environment) => [
      ...overlayLayer(config, environment),
      ...secretsLayer(resolveEnvironment(config, environment), readers),
    ]),
    ...argocdLayer(config),
  ];
}

export type { GeneratedFile } from "./manifest.js";
export type { BuilderSource } from "./target.js";
