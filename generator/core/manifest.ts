/** A generated file: where it goes and the object (or data) it holds. Text rendering happens later. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface GeneratedFile {
  /** Relative to the output root, with forward slashes. */
  path: string;
  format: "yaml" | "json" | "markdown" | "svg";
  /** The object to serialize; for markdown and svg, `{ text }`. */
  content: object;
}

/** A constructed object as plain JSON data: undefined fields dropped, nothing shared with the input. */
export function toKubeObject(object: { apiVersion: string; kind: string }): KubeObject {
  return JSON.parse(JSON.stringify(object)) as KubeObject;
}

/** Files are named `<component>-<kind>.yaml`, lower case. */
export function manifestFileName(component: string, object: KubeObject): string {
  return `${component}-${object.kind.toLowerCase()}.yaml`;
}
