/**
 * The checks of one rendered build: schema (types, required fields, enums, unknown fields), the
 * embedded task pod template as a Pod, references inside the build, and policy.
 */
import type { KubeDocument } from "./kustomize.js";
import { validateWithModels } from "./models.js";
import { embeddedPods } from "./pods.js";
import { checkPolicy } from "./policy.js";
import { checkReferences, type Finding } from "./references.js";
import type { ObjectSchemaValidator, SchemaProblem } from "./schema-dir.js";
import { unknownFields } from "./unknown-fields.js";
import type { Problem } from "./validate.js";

/** Every problem of one rendered build. */
export async function validateBuild(target: string, objects: readonly KubeDocument[], strict?: ObjectSchemaValidator): Promise<Problem[]> {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (object: KubeDocument, path: string, message: string) => {
    const problem = { target, object: `${object.kind}/${object.metadata.name}`, path, message };
    const key = `${problem.object} ${path} ${message}`;
    if (!seen.has(key)) (seen.add(key), problems.push(problem));
  };
  for (const o of objects) {
    for (const p of await schemaProblems(o, strict)) add(o, p.path, p.message);
  }
  for (const { owner, key, pod } of embeddedPods(objects)) {
    for (const p of await schemaProblems(pod, strict)) add(owner, `/data/${key}${p.path === "/" ? "" : p.path}`, `(as a Pod) ${p.message}`);
  }
  const findings: Finding[] = [...checkReferences(objects), ...checkPolicy(objects)];
  for (const f of findings) add(f.object, f.path, f.message);
  return problems;
}

async function schemaProblems(object: KubeDocument, strict?: ObjectSchemaValidator): Promise<SchemaProblem[]> {
  if (!object || typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    return [{ path: "/", message: "not a Kubernetes object (apiVersion and kind are required)" }];
  }
  const typed = await validateWithModels(object);
  const unknown = unknownFields(object);
  const problems: SchemaProblem[] = [...(typed ?? []), ...(unknown ?? [])];
  if (typed === undefined && unknown === undefined) problems.push({ path: "/", message: `no schema is known for ${object.apiVersion} ${object.kind}` });
  if (strict) problems.push(...(strict.validate(object) ?? []));
  return problems;
}
