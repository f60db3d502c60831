import jsyaml from "js-yaml";

/**
 * Canonical YAML text of plain data: keys in insertion order, block sequences indented under their
 * key, no line folding, no anchors, double quotes where quoting is needed. One function for every
 * generated file and for YAML embedded in ConfigMaps. js-yaml's dumper is several times faster than a
 * document model, which matters at hundreds of environments.
 */
export function yamlText(value: unknown): string {
  return jsyaml.dump(value, { indent: 2, lineWidth: -1, noRefs: true, quotingType: '"' });
}
