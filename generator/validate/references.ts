/**
 * References inside one build: everything an object points at must be in the same build (Secrets
 * count as present when an ExternalSecret of the build produces them, with the keys it produces).
 */
import type { KubeDocument } from "./kustomize.js";
import { containersOf, podSites, selects, type PodSite } from "./pods.js";
import { CLUSTER_REFERENCES_ANNOTATION } from "../core/cluster-references.js";

export interface Finding {
  object: KubeDocument;
  path: string;
  message: string;
}

type Index = Map<string, KubeDocument>;

/**
 * Kinds that live outside namespaces. Kustomize cannot know this for custom kinds and stamps the
 * overlay's namespace on them (the API server drops it), so references to them ignore the namespace.
 */
const CLUSTER_SCOPED = new Set([
  "Namespace", "PriorityClass", "StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "IngressClass",
  "NodePool", "ClusterSecretStore",
]);

const keyOf = (kind: string, name: string, namespace?: string) => `${kind}/${CLUSTER_SCOPED.has(kind) ? "" : (namespace ?? "")}/${name}`;

export function checkReferences(objects: readonly KubeDocument[]): Finding[] {
  const index: Index = new Map(objects.map((o) => [keyOf(o.kind, o.metadata.name, o.metadata.namespace), o]));
  const has = (kind: string, name: string, namespace?: string) => index.get(keyOf(kind, name, namespace));
  const secrets = producedSecrets(objects);
  const pods = podSites(objects);
  const findings: Finding[] = [];
  const add = (object: KubeDocument, path: string, message: string) => findings.push({ object, path, message });

  for (const site of pods) checkPod(site, has, secrets, add);

  for (const o of objects) {
    const spec = (o.spec ?? {}) as Record<string, any>;
    const ns = o.metadata.namespace;
    switch (o.kind) {
      case "Service": {
        const selected = pods.filter((p) => p.namespace === ns && selects(spec.selector, p.labels));
        if (!spec.selector || selected.length === 0) {
          add(o, "/spec/selector", `selects no pod of the build (${JSON.stringify(spec.selector ?? {})})`);
          break;
        }
        for (const [i, port] of (spec.ports ?? []).entries()) {
          const target = port.targetPort ?? port.port;
          const found = selected.some((p) =>
            p.spec.containers.some((c) => (c.ports ?? []).some((cp) => (typeof target === "string" ? cp.name === target : cp.containerPort === target))),
          );
          if (!found) add(o, `/spec/ports/${i}/targetPort`, `no selected container has port ${JSON.stringify(target)}`);
        }
        break;
      }
      case "Ingress":
        for (const [r, rule] of (spec.rules ?? []).entries()) {
          for (const [p, path] of (rule.http?.paths ?? []).entries()) {
            const backend = path.backend?.service;
            if (!backend) continue;
            const service = has("Service", backend.name, ns);
            const where = `/spec/rules/${r}/http/paths/${p}/backend/service`;
            if (!service) add(o, where, `Service ${backend.name} is not in the build`);
            else if (!((service.spec as any).ports ?? []).some((sp: any) => (backend.port?.name ? sp.name === backend.port.name : sp.port === backend.port?.number))) {
              add(o, `${where}/port`, `Service ${backend.name} has no port ${JSON.stringify(backend.port)}`);
            }
          }
        }
        break;
      case "RoleBinding": {
        const roleRef = (o as any).roleRef;
        if (roleRef?.kind === "Role" && !has("Role", roleRef.name, ns)) add(o, "/roleRef", `Role ${roleRef.name} is not in the build`);
        for (const [i, subject] of ((o as any).subjects ?? []).entries()) {
          if (subject.kind === "ServiceAccount" && !has("ServiceAccount", subject.name, subject.namespace ?? ns)) {
            add(o, `/subjects/${i}`, `ServiceAccount ${subject.namespace ?? ns}/${subject.name} is not in the build`);
          }
        }
        break;
      }
      case "ScaledObject":
      case "HorizontalPodAutoscaler": {
        const ref = spec.scaleTargetRef ?? {};
        if (!has(ref.kind ?? "Deployment", ref.name, ns)) add(o, "/spec/scaleTargetRef", `${ref.kind ?? "Deployment"} ${ref.name} is not in the build`);
        break;
      }
      case "PodDisruptionBudget":
        if (!pods.some((p) => p.namespace === ns && selects(spec.selector?.matchLabels, p.labels))) add(o, "/spec/selector", "selects no pod of the build");
        break;
      case "NetworkPolicy": {
        const selector = spec.podSelector?.matchLabels;
        if (selector && Object.keys(selector).length > 0 && !pods.some((p) => p.namespace === ns && selects(selector, p.labels))) {
          add(o, "/spec/podSelector", "selects no pod of the build");
        }
        break;
      }
      case "PersistentVolumeClaim":
        if (spec.storageClassName && !has("StorageClass", spec.storageClassName)) {
          add(o, "/spec/storageClassName", `StorageClass ${spec.storageClassName} is not in the build`);
        }
        break;
      case "ExternalSecret": {
        const ref = spec.secretStoreRef ?? {};
        const kind = ref.kind ?? "SecretStore";
        if (!has(kind, ref.name, kind === "SecretStore" ? ns : undefined)) add(o, "/spec/secretStoreRef", `${kind} ${ref.name} is not in the build`);
        break;
      }
      case "SecretStore":
      case "ClusterSecretStore": {
        const sa = spec.provider?.aws?.auth?.jwt?.serviceAccountRef;
        if (sa && !has("ServiceAccount", sa.name, sa.namespace ?? ns)) {
          add(o, "/spec/provider/aws/auth/jwt/serviceAccountRef", `ServiceAccount ${sa.name} is not in the build`);
        }
        break;
      }
      case "Application": {
        // Projects live in Argo CD's namespace; an Application outside it may use one only if the project lists its namespace.
        const project = objects.find((p) => p.kind === "AppProject" && p.metadata.name === spec.project);
        if (!project) add(o, "/spec/project", `AppProject ${spec.project} is not in the build`);
        else if (project.metadata.namespace !== ns && !((project as { spec?: { sourceNamespaces?: string[] } }).spec?.sourceNamespaces ?? []).includes(ns ?? "")) {
          add(o, "/spec/project", `AppProject ${spec.project} does not list namespace ${ns} in its sourceNamespaces: Argo CD refuses this Application`);
        }
        break;
      }
    }
  }
  return findings;
}

/** Secret name (by namespace) -> the keys an ExternalSecret of the build writes into it. */
function producedSecrets(objects: readonly KubeDocument[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const es of objects.filter((o) => o.kind === "ExternalSecret")) {
    const spec = es.spec as any;
    const template = spec.target?.template;
    const fetched: string[] = (spec.data ?? []).map((d: any) => d.secretKey);
    const templated = Object.keys(template?.data ?? {});
    const keys = template?.data && template.mergePolicy !== "Merge" ? templated : [...fetched, ...templated];
    out.set(`${es.metadata.namespace}/${spec.target?.name ?? es.metadata.name}`, new Set(keys));
  }
  return out;
}

/** The keys of an object outside the build: unknown here, so every key counts as there. */
const ANY_KEY: ReadonlySet<string> = { has: () => true } as unknown as ReadonlySet<string>;

function checkPod(
  site: PodSite,
  has: (kind: string, name: string, namespace?: string) => KubeDocument | undefined,
  secrets: Map<string, Set<string>>,
  add: (object: KubeDocument, path: string, message: string) => void,
): void {
  const { spec, owner, at, namespace } = site;
  // Objects of the cluster the escape hatches name, as the generator declared them: not in any build.
  const external = new Set((site.annotations[CLUSTER_REFERENCES_ANNOTATION] ?? "").split(",").filter(Boolean));
  const outside = (kind: string, name: string) => external.has(`${kind}/${name}`);
  const secretKeys = (name: string) => (outside("Secret", name) ? ANY_KEY : secrets.get(`${namespace}/${name}`));
  const configMapData = (name: string) => {
    if (outside("ConfigMap", name)) return ANY_KEY;
    const cm = has("ConfigMap", name, namespace);
    return cm ? new Set(Object.keys({ ...(cm.data as object), ...((cm as any).binaryData ?? {}) })) : undefined;
  };
  const sa = spec.serviceAccountName ?? "default";
  if (sa !== "default" && !has("ServiceAccount", sa, namespace)) add(owner, `${at}/serviceAccountName`, `ServiceAccount ${sa} is not in the build`);
  if (spec.priorityClassName && !outside("PriorityClass", spec.priorityClassName) && !has("PriorityClass", spec.priorityClassName)) {
    add(owner, `${at}/priorityClassName`, `PriorityClass ${spec.priorityClassName} is not in the build`);
  }
  const volumeNames = new Set((spec.volumes ?? []).map((v) => v.name as string));
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const where = `${at}/volumes/${i}`;
    if (v.configMap) {
      const data = configMapData(v.configMap.name);
      if (!data) add(owner, where, `ConfigMap ${v.configMap.name} is not in the build`);
      else for (const item of v.configMap.items ?? []) if (!data.has(item.key)) add(owner, where, `ConfigMap ${v.configMap.name} has no key ${item.key}`);
    }
    if (v.secret) {
      const keys = secretKeys(v.secret.secretName);
      if (!keys) add(owner, where, `Secret ${v.secret.secretName} is produced by no ExternalSecret of the build`);
      else for (const item of v.secret.items ?? []) if (!keys.has(item.key)) add(owner, where, `Secret ${v.secret.secretName} gets no key ${item.key} from its ExternalSecret`);
    }
    if (v.persistentVolumeClaim && !outside("PersistentVolumeClaim", v.persistentVolumeClaim.claimName) && !has("PersistentVolumeClaim", v.persistentVolumeClaim.claimName, namespace)) {
      add(owner, where, `PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} is not in the build`);
    }
  }
  const containers = containersOf(spec);
  for (const [i, c] of containers.entries()) {
    const where = `${at}/${i < (spec.initContainers ?? []).length ? "initContainers" : "containers"}/${c.name}`;
    for (const m of c.volumeMounts ?? []) if (!volumeNames.has(m.name)) add(owner, `${where}/volumeMounts`, `mounts undeclared volume ${m.name}`);
    for (const e of c.env ?? []) {
      const secretRef = e.valueFrom?.secretKeyRef;
      if (secretRef) {
        const keys = secretKeys(secretRef.name);
        if (!keys) add(owner, `${where}/env/${e.name}`, `Secret ${secretRef.name} is produced by no ExternalSecret of the build`);
        else if (!keys.has(secretRef.key)) add(owner, `${where}/env/${e.name}`, `Secret ${secretRef.name} gets no key ${secretRef.key} from its ExternalSecret`);
      }
      const cmRef = e.valueFrom?.configMapKeyRef;
      if (cmRef && !configMapData(cmRef.name)?.has(cmRef.key)) add(owner, `${where}/env/${e.name}`, `ConfigMap ${cmRef.name} has no key ${cmRef.key}`);
    }
    for (const from of c.envFrom ?? []) {
      if (from.secretRef && !secretKeys(from.secretRef.name)) add(owner, `${where}/envFrom`, `Secret ${from.secretRef.name} is produced by no ExternalSecret of the build`);
      if (from.configMapRef && !configMapData(from.configMapRef.name)) add(owner, `${where}/envFrom`, `ConfigMap ${from.configMapRef.name} is not in the build`);
    }
  }
}
