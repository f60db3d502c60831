/**
 * What the suite runs, read from `kustomize build` of a generated overlay: the ConfigMap's airflow.cfg
 * and task pod template, each Airflow container (command, args, env, probes, mounts), the Services,
 * and the ExternalSecrets with which test values become the Secrets pods read.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseDocument } from "yaml";
import { kustomizeBuild, type KubeDocument } from "../../generator/validate/kustomize.js";
import { renderGoTemplate } from "../go-template.js";
import { genIn, tempProject } from "../helpers.js";

export interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string; port: number | string; scheme?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [source: string]: unknown }[];
  [field: string]: unknown;
}

export interface Rendered {
  dir: string;
  environment: string;
  documents: KubeDocument[];
  airflowCfg: string;
  podTemplate: KubeDocument & { spec: PodSpec };
  namespace: string;
}

/** A temporary project from the example config, edited, generated; removed after the calling test file. */
export async function generateProject(edit: (config: import("yaml").Document) => void = () => {}): Promise<string> {
  const project = tempProject();
  const file = join(project, "airflow-gitops.yaml");
  const document = parseDocument(readFileSync(file, "utf8"));
  edit(document);
  writeFileSync(file, document.toString());
  const result = await genIn(project);
  if (result.code !== 0) throw new Error(`gen failed for the test project:\n${result.err}`);
  return project;
}

export function renderOverlay(project: string, environment: string): Rendered {
  const dir = join(project, "overlays", environment);
  const documents = kustomizeBuild(dir);
  const configMap = find(documents, "ConfigMap", (d) => typeof (d.data as Record<string, string> | undefined)?.["airflow.cfg"] === "string");
  const data = configMap.data as Record<string, string>;
  if (!data["pod_template_file.yaml"]) throw new Error(`${dir}: ConfigMap ${configMap.metadata.name} has no pod_template_file.yaml`);
  return {
    dir,
    environment,
    documents,
    airflowCfg: data["airflow.cfg"]!,
    podTemplate: parse(data["pod_template_file.yaml"]!) as Rendered["podTemplate"],
    namespace: configMap.metadata.namespace ?? "default",
  };
}

export function find(documents: KubeDocument[], kind: string, match: (d: KubeDocument) => boolean): KubeDocument {
  const found = documents.find((d) => d.kind === kind && match(d));
  if (!found) throw new Error(`the rendered overlay has no matching ${kind}`);
  return found;
}

/** The pod spec of a Deployment or Job by object name. */
export function podSpecOf(rendered: Rendered, kind: "Deployment" | "Job", name: string): PodSpec {
  const object = find(rendered.documents, kind, (d) => d.metadata.name === name);
  return (object.spec as { template: { spec: PodSpec } }).template.spec;
}

export function containerOf(spec: PodSpec, name: string): Container {
  const container = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  if (!container) throw new Error(`no container ${name} in the pod spec`);
  return container;
}

/** The Deployment whose pods carry `app.kubernetes.io/component: <component>` and its main container. */
export function component(rendered: Rendered, componentName: string): { name: string; spec: PodSpec; main: Container } {
  const object = find(
    rendered.documents,
    "Deployment",
    (d) => (d.spec as { template: { metadata: { labels?: Record<string, string> } } }).template.metadata.labels?.["app.kubernetes.io/component"] === componentName,
  );
  const spec = (object.spec as { template: { spec: PodSpec } }).template.spec;
  return { name: object.metadata.name, spec, main: spec.containers.find((c) => c.name === componentName) ?? spec.containers[0]! };
}

/**
 * The Secrets the ExternalSecrets of the overlay produce from the given parameter values (keyed by the
 * remote parameter name, e.g. `/airflow/prod/database/password`): templated keys rendered with the
 * ExternalSecret's own template (mergePolicy Replace: only the template's keys), others copied.
 */
export function resolveSecrets(rendered: Rendered, parameter: (remoteKey: string) => string): Map<string, Record<string, string>> {
  const secrets = new Map<string, Record<string, string>>();
  for (const es of rendered.documents.filter((d) => d.kind === "ExternalSecret")) {
    const spec = es.spec as {
      data: { secretKey: string; remoteRef: { key: string } }[];
      target: { name?: string; template?: { data?: Record<string, string>; mergePolicy?: string } };
    };
    const fetched: Record<string, string> = {};
    for (const item of spec.data) fetched[item.secretKey] = parameter(item.remoteRef.key);
    let data: Record<string, string> = fetched;
    const template = spec.target.template?.data;
    if (template) {
      const rendered: Record<string, string> = {};
      for (const [key, text] of Object.entries(template)) rendered[key] = renderGoTemplate(text, fetched);
      data = spec.target.template?.mergePolicy === "Merge" ? { ...fetched, ...rendered } : rendered;
    }
    secrets.set(spec.target.name ?? es.metadata.name, data);
  }
  return secrets;
}

/** A container's environment as the kubelet builds it, secretKeyRefs resolved from `secrets`. */
export function containerEnv(container: Container, secrets: Map<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value.replace(/\$\((\w+)\)/g, (m, name: string) => env[name] ?? m);
    else if (variable.valueFrom?.secretKeyRef) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      const value = secrets.get(name)?.[key];
      if (value === undefined) throw new Error(`container ${container.name}: env ${variable.name} reads Secret ${name} key ${key}, which no ExternalSecret of the overlay produces`);
      env[variable.name] = value;
    } else throw new Error(`container ${container.name}: env ${variable.name} has a source the suite does not resolve: ${JSON.stringify(variable.valueFrom)}`);
  }
  return env;
}
