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
  format: "yaml" | "json" | "markdown";
  /** The object to serialize; for markdown, `{ text }`. */
  content: object;
}

/** Anything with a toJSON, like the kubernetes-models classes, or a plain object. */
interface Serializable {
  toJSON(): unknown;
}

export function toKubeObject(model: Serializable | KubeObject): KubeObject {
  const plain = "toJSON" in model && typeof model.toJSON === "function" ? model.toJSON() : model;
  return JSON.parse(JSON.stringify(plain)) as KubeObject;
}

/** Files are named `<component>-<kind>.yaml`, lower case. */
export function manifestFileName(component: string, object: KubeObject): string {
  return `${component}-${object.kind.toLowerCase()}.yaml`;
}
