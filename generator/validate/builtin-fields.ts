/**
 * Unknown-field detection for built-in kinds, driven by the field lists of `@kubernetes/client-node`'s
 * generated models (every field of every built-in kind, with its type). Only the model files a
 * document needs are loaded, once each.
 */
import type { SchemaProblem } from "./schema-dir.js";

interface Attribute {
  baseName: string;
  type: string;
}

type ModelFields = Map<string, string> | null;

const models = new Map<string, Promise<ModelFields>>();

function loadModel(name: string): Promise<ModelFields> {
  let loaded = models.get(name);
  if (!loaded) {
    loaded = import(`@kubernetes/client-node/dist/gen/models/${name}.js`).then(
      (module: Record<string, { getAttributeTypeMap?: () => Attribute[] }>) => {
        const attributes = module[name]?.getAttributeTypeMap?.();
        return attributes ? new Map(attributes.map((a) => [a.baseName, a.type])) : null;
      },
      () => null,
    );
    models.set(name, loaded);
  }
  return loaded;
}

/** `apps/v1` + `Deployment` -> `V1Deployment`; `autoscaling/v2` + `HorizontalPodAutoscaler` -> `V2HorizontalPodAutoscaler`. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").at(-1)!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

const OPEN_TYPES = new Set(["any", "object", "RuntimeRawExtension"]);
const PRIMITIVES = new Set(["string", "number", "boolean", "Date", "IntOrString"]);

/** Built-in API groups: the core group, groups without a dot (apps, batch, policy...) and *.k8s.io. */
export function isBuiltinGroup(apiVersion: string): boolean {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
  return !group.includes(".") || group.endsWith(".k8s.io");
}

/** Problems for every field the kind does not define; undefined when the kind is not a built-in. */
export async function unknownBuiltinFields(object: { apiVersion: string; kind: string }): Promise<SchemaProblem[] | undefined> {
  if (!isBuiltinGroup(object.apiVersion)) return undefined;
  const root = modelName(object.apiVersion, object.kind);
  if (!(await loadModel(root))) return undefined;
  const problems: SchemaProblem[] = [];
  await walk(object, root, "", problems);
  return problems;
}

async function walk(value: unknown, type: string, path: string, problems: SchemaProblem[]): Promise<void> {
  if (value === null || value === undefined || OPEN_TYPES.has(type) || PRIMITIVES.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) for (const [i, item] of value.entries()) await walk(item, array[1]!, `${path}/${i}`, problems);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isRecord(value)) for (const [key, item] of Object.entries(value)) await walk(item, map[1]!, `${path}/${escape(key)}`, problems);
    return;
  }
  const fields = await loadModel(type);
  if (!fields || !isRecord(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) problems.push({ path: `${path}/${escape(key)}`, message: `unknown field "${key}"` });
    else await walk(item, fieldType, `${path}/${escape(key)}`, problems);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
