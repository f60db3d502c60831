/**
 * Validation with the `kubernetes-models` and `@kubernetes-models/*` packages, which ship with
 * `npm ci`: types, required fields and enums of built-in kinds and of the custom resources written. They accept unknown fields, so they complement, not replace, a strict check.
 */
import type { SchemaProblem } from "./schema-dir.js";

type ModelClass = new (data: unknown) => { validate(): void };

/** The package of each custom resource group the generator writes. */
const CRD_PACKAGES: Readonly<Record<string, string>> = {
  "keda.sh": "@kubernetes-models/keda",
  "karpenter.sh": "@kubernetes-models/karpenter",
  "external-secrets.io": "@kubernetes-models/external-secrets",
  "argoproj.io": "@kubernetes-models/argo-cd",
};

const cache = new Map<string, ModelClass | null>();

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion}/${kind}`;
  if (!cache.has(key)) {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const crdPackage = group ? CRD_PACKAGES[group] : undefined;
    const specifier = crdPackage
      ? `${crdPackage}/${group}/${version}`
      : group
        ? `kubernetes-models/${group}/${version}`
        : `kubernetes-models/${version}`;
    const module = (await import(specifier).catch(() => ({}))) as Record<string, ModelClass | undefined>;
    cache.set(key, module[kind] ?? null);
  }
  return cache.get(key)!;
}

/** undefined when no model exists for the kind. */
export async function validateWithModels(object: { apiVersion: string; kind: string }): Promise<SchemaProblem[] | undefined> {
  const Model = await modelClass(object.apiVersion, object.kind);
  if (!Model) return undefined;
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (details?.length) return details.map((d) => ({ path: d.instancePath || "/", message: d.message ?? "invalid" }));
    return [{ path: "/", message: error instanceof Error ? error.message : String(error) }];
  }
}
