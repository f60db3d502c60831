/** `secrets/<env>/`: the store, the ExternalSecrets and the operator's page of one environment. */
import { layerFiles } from "./layer.js";
import type { GeneratedFile } from "./manifest.js";
import { secretsReadme } from "./secrets-readme.js";
import { secretsDir, secretsManifests } from "./secrets.js";
import type { Target } from "./target.js";

export function secretsLayer(config: Target): GeneratedFile[] {
  const dir = secretsDir(config.environment!.name);
  return [...layerFiles(dir, secretsManifests(config)), { path: `${dir}/README.md`, format: "markdown", content: { text: secretsReadme(config) } }];
}
