/** `secrets/<env>/`: the store, the ExternalSecrets and the operator's page of one environment. */
import { layerFiles } from "./layer.js";
import type { GeneratedFile } from "./manifest.js";
import { secretsReadme } from "./secrets-readme.js";
import { secretSpecs, secretsDir, secretsManifests } from "./secrets.js";
import { resolveEnvironment, type Target } from "./target.js";
import type { Config } from "../config/schema.js";

/** Parameter Store name -> the environments that read it (more than one for a path without `{env}`). */
export type ParameterReaders = ReadonlyMap<string, readonly string[]>;

export function parameterReaders(config: Config): ParameterReaders {
  const readers = new Map<string, string[]>();
  for (const environment of Object.keys(config.environments)) {
    for (const p of secretSpecs(resolveEnvironment(config, environment)).flatMap((spec) => spec.parameters)) {
      const list = readers.get(p.parameter) ?? [];
      if (!list.includes(environment)) list.push(environment);
      readers.set(p.parameter, list);
    }
  }
  return readers;
}

export function secretsLayer(config: Target, readers: ParameterReaders): GeneratedFile[] {
  const dir = secretsDir(config.environment!.name);
  return [
    ...layerFiles(dir, secretsManifests(config)),
    { path: `${dir}/README.md`, format: "markdown", content: { text: secretsReadme(config, readers) } },
  ];
}
