import { stringify } from "yaml";

/** YAML text for a document embedded in a ConfigMap (the pod template), in the same style as the files. */
export function embeddedYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, indent: 2 });
}
