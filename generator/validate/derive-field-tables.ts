/**
 * Derives the field tables the unknown-field check reads: built-in kinds from the attribute type maps
 * of `@kubernetes/client-node`'s generated models (every field of every built-in kind), the custom
 * resources the generator writes from the TypeScript declarations of the `@kubernetes-models/*`
 * packages (their runtime validators accept unknown fields; their declarations list every field).
 * Run with `npm run derive-fields` after upgrading those packages; a test fails while the committed
 * tables differ from what they declare.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type ts from "typescript";
import type { FieldTable, FieldType } from "./unknown-fields.js";
import { byCodeUnit } from "../shared/order.js";

/** Every custom resource the generator can write, with the module that declares it. */
export const CUSTOM_RESOURCES = [
  ["keda.sh/v1alpha1", "ScaledObject", "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject"],
  ["karpenter.sh/v1", "NodePool", "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"],
  ["external-secrets.io/v1", "ExternalSecret", "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret"],
  ["external-secrets.io/v1", "SecretStore", "@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore"],
  ["external-secrets.io/v1", "ClusterSecretStore", "@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore"],
  ["monitoring.coreos.com/v1", "ServiceMonitor", "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor"],
  ["monitoring.coreos.com/v1", "PrometheusRule", "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule"],
  ["argoproj.io/v1alpha1", "Application", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application"],
  ["argoproj.io/v1alpha1", "AppProject", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject"],
  ["argoproj.io/v1alpha1", "ApplicationSet", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet"],
] as const;

export const FIELD_TABLE_FILE = new URL("./field-tables.json", import.meta.url);

/** Built-in kinds a repository like this may hold (apiVersion, kind). */
export const BUILTIN_KINDS = [
  ["v1", "Namespace"], ["v1", "ServiceAccount"], ["v1", "ConfigMap"], ["v1", "Secret"], ["v1", "Service"], ["v1", "Pod"],
  ["v1", "PersistentVolumeClaim"], ["v1", "PersistentVolume"], ["v1", "LimitRange"], ["v1", "ResourceQuota"],
  ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["apps/v1", "DaemonSet"], ["batch/v1", "Job"], ["batch/v1", "CronJob"],
  ["autoscaling/v2", "HorizontalPodAutoscaler"], ["policy/v1", "PodDisruptionBudget"],
  ["networking.k8s.io/v1", "Ingress"], ["networking.k8s.io/v1", "IngressClass"], ["networking.k8s.io/v1", "NetworkPolicy"],
  ["rbac.authorization.k8s.io/v1", "Role"], ["rbac.authorization.k8s.io/v1", "RoleBinding"],
  ["rbac.authorization.k8s.io/v1", "ClusterRole"], ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding"],
  ["storage.k8s.io/v1", "StorageClass"], ["scheduling.k8s.io/v1", "PriorityClass"],
] as const;

interface Attribute {
  baseName: string;
  type: string;
}

/** `apps/v1` + `Deployment` -> client-node's model `V1Deployment`. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").at(-1)!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

async function deriveBuiltins(table: FieldTable): Promise<void> {
  const models = (await import("@kubernetes/client-node/dist/gen/models/all.js")) as Record<string, { getAttributeTypeMap?: () => Attribute[] }>;
  const describe = (type: string): FieldType => {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { items: describe(array[1]!) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { values: describe(map[1]!) };
    const attributes = models[type]?.getAttributeTypeMap?.();
    if (!attributes) return "*";
    if (!(type in table.types)) {
      table.types[type] = {};
      table.types[type] = Object.fromEntries(attributes.map((a) => [a.baseName, describe(a.type)]));
    }
    return type;
  };
  for (const [apiVersion, kind] of BUILTIN_KINDS) {
    const root = describe(modelName(apiVersion, kind));
    if (root === "*") throw new Error(`@kubernetes/client-node has no model for ${apiVersion} ${kind}`);
    table.roots[`${apiVersion}/${kind}`] = root as string;
  }
}

export async function deriveFieldTable(): Promise<FieldTable> {
  const declarations = (module: string) => fileURLToPath(import.meta.resolve(module)).replace(/\.js$/, ".d.ts");
  const files = CUSTOM_RESOURCES.map(([, , module]) => declarations(module));
  // The compiler loads only to derive (its module alone takes most of a second to load).
  const { default: ts } = await import("typescript");
  const program = ts.createProgram(files, { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const table: FieldTable = { roots: {}, types: {} };
  await deriveBuiltins(table);
  const names = new Map<ts.Type, string>();

  const describe = (type: ts.Type): FieldType => {
    const members = type.isUnion() ? type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null))) : [type];
    const objects = members.filter((t) => t.flags & ts.TypeFlags.Object);
    if (objects.length !== 1 || members.length !== 1) return "*";
    const t = objects[0]!;
    if (checker.isArrayType(t)) return { items: describe(checker.getTypeArguments(t as ts.TypeReference)[0]!) };
    const properties = checker.getPropertiesOfType(t);
    const index = t.getStringIndexType();
    if (properties.length === 0) return index ? { values: describe(index) } : "*";
    const known = names.get(t);
    if (known) return known;
    const base = t.aliasSymbol?.name ?? t.getSymbol()?.name ?? "";
    if (!/^I[A-Z]/.test(base)) return "*";
    // Two packages may declare different types under one name: keep both apart.
    let name = base;
    for (let i = 2; name in table.types; i++) name = `${base}#${i}`;
    names.set(t, name);
    table.types[name] = {};
    const fields: Record<string, FieldType> = {};
    for (const p of properties) fields[p.name] = describe(checker.getTypeOfSymbol(p));
    table.types[name] = fields;
    return name;
  };

  for (const [apiVersion, kind, module] of CUSTOM_RESOURCES) {
    const file = program.getSourceFile(declarations(module))!;
    const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!).find((s) => s.name === `I${kind}`);
    if (!symbol) throw new Error(`${module} declares no I${kind}`);
    table.roots[`${apiVersion}/${kind}`] = describe(checker.getDeclaredTypeOfSymbol(symbol)) as string;
  }
  table.roots = Object.fromEntries(Object.entries(table.roots).sort(([a], [b]) => byCodeUnit(a, b)));
  table.types = Object.fromEntries(
    Object.entries(table.types)
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([name, fields]) => [name, Object.fromEntries(Object.entries(fields).sort(([a], [b]) => byCodeUnit(a, b)))]),
  );
  return table;
}

export function fieldTableText(table: FieldTable): string {
  return `${JSON.stringify(table, null, 1)}\n`;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  writeFileSync(FIELD_TABLE_FILE, fieldTableText(await deriveFieldTable()));
}
