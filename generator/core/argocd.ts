/**
 * `argocd/`: what an Argo CD administrator applies once (`kubectl apply -k argocd/`): the namespace of the
 * environments' Applications, two projects and the root Application; and `argocd/apps/`, the one
 * auto-syncing Application per environment (or the ApplicationSet that writes them), which the root
 * Application keeps in sync from git.
 *
 * A push to this repository must not be an Argo CD administrator (Argo CD's "App of Apps is an admin-only
 * tool"; "Applications in any namespace"): the root Application may write only Applications, and only into
 * their own namespace; an Application there may use only the environment project (its `sourceNamespaces`),
 * which reaches only the environments' namespaces and kinds. The projects and the root Application are
 * outside what any Application syncs, so widening them takes an administrator again.
 */
import { AppProject, Application, ApplicationSet, Namespace } from "./kinds.js";
import type { Config } from "../config/schema.js";
import { buildManifests } from "./base.js";
import type { Manifest } from "./components/types.js";
import { labels } from "./labels.js";
import { layerFiles } from "./layer.js";
import { toKubeObject, type GeneratedFile, type KubeObject } from "./manifest.js";
import { overlayDir } from "./overlay.js";
import { secretsManifests } from "./secrets.js";
import { names } from "./names.js";
import { resolveEnvironment } from "./target.js";
import { byCodeUnit } from "../shared/order.js";
import { applicationsNamespace } from "../shared/argocd-namespaces.js";

export const ARGOCD_DIR = "argocd";
/** The Applications the root Application syncs. */
export const ARGOCD_APPS_DIR = `${ARGOCD_DIR}/apps`;
export const IN_CLUSTER = "https://kubernetes.default.svc";
const RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/**
 * Retries with backoff: a sync that fails on a transient error (a webhook not ready yet) tries again.
 * `refresh`: each retry syncs the newest commit of the branch, not the one that failed, so the commit that
 * fixes (or reverts) a refused one is taken at the next retry instead of after five more failures (5 min).
 */
const RETRY = { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" }, refresh: true };

/**
 * CreateNamespace: the namespace exists before the first wave. PruneLast: deletions wait until the
 * new objects are healthy. ServerSideApply: no 256 KiB last-applied annotation on the ConfigMap that
 * carries airflow.cfg and the pod template, and field ownership shared cleanly with the controllers.
 */
const SYNC_OPTIONS = ["CreateNamespace=true", "PruneLast=true", "ServerSideApply=true"];

/**
 * The warm-capacity placeholders' Deployment is written with `replicas: 0` and KEDA scales it: Argo CD
 * ignores that field in its diff (no OutOfSync, no self-heal back to 0 during a window), and
 * RespectIgnoreDifferences keeps a sync from writing it back once the Deployment exists.
 */
function placeholderReplicasIgnored(placeholder: string) {
  return {
    ignoreDifferences: [{ group: "apps", kind: "Deployment", name: placeholder, jsonPointers: ["/spec/replicas"] }],
    syncOptions: [...SYNC_OPTIONS, "RespectIgnoreDifferences=true"],
  };
}

interface Destination {
  environment: string;
  namespace: string;
  server?: string;
  name?: string;
  revision: string;
  prune: boolean;
  selfHeal: boolean;
  /** The placeholders' Deployment, where the environment has warm capacity. */
  placeholder?: string;
}

function destinations(config: Config): Destination[] {
  return Object.keys(config.environments).map((environment) => {
    const argo = config.argocd.environments[environment];
    const target = resolveEnvironment(config, environment);
    return {
      environment,
      namespace: target.namespace,
      ...(target.environment?.peakHours?.warmCapacity ? { placeholder: names(target).placeholder } : {}),
      ...(argo?.name ? { name: argo.name } : { server: argo?.server ?? IN_CLUSTER }),
      revision: argo?.revision ?? config.repository.revision,
      prune: argo?.automated.prune ?? true,
      selfHeal: argo?.automated.selfHeal ?? true,
    };
  });
}

function cluster(d: { server?: string; name?: string }): { server: string } | { name: string } {
  return d.name ? { name: d.name } : { server: d.server! };
}

/** Every object of every environment's build, as Argo CD will apply them. */
function environmentObjects(config: Config): KubeObject[] {
  return Object.keys(config.environments).flatMap((environment) => {
    const target = resolveEnvironment(config, environment);
    return [...buildManifests(target), ...secretsManifests(target)].map(({ object }) => object);
  });
}

type GroupKind = { group: string; kind: string };

function groupKinds(objects: readonly KubeObject[]): GroupKind[] {
  const unique = new Map<string, GroupKind>();
  for (const o of objects) {
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0]! : "";
    unique.set(`${group}/${o.kind}`, { group, kind: o.kind });
  }
  return [...unique.values()].sort((a, b) => byCodeUnit(a.group, b.group) || byCodeUnit(a.kind, b.kind));
}

export function adminProjectName(config: Config): string {
  return `${config.name}-admin`;
}

export interface ArgocdManifests {
  /** Applied by an administrator: the Applications' namespace, the projects, the root Application. */
  bootstrap: Manifest[];
  /** Synced by the root Application. */
  apps: Manifest[];
}

export function argocdManifests(config: Config): ArgocdManifests {
  const project = config.name;
  const ns = config.argocd.namespace;
  const appsNs = applicationsNamespace(config);
  const meta = (name: string, namespace = ns) => ({ name, namespace, labels: labels(config, "argocd") });
  // What an administrator applies by hand changes only when its content does, not with every image tag.
  const { "app.kubernetes.io/version": _version, ...bootstrapLabels } = labels(config, "argocd");
  const adminMeta = (name: string) => ({ name, namespace: ns, labels: bootstrapLabels });
  const envs = destinations(config);
  const objects = environmentObjects(config);
  const appKind = config.argocd.mode === "applicationSet" ? "ApplicationSet" : "Application";

  const environmentProject = new AppProject({
    metadata: { ...adminMeta(project), finalizers: [RESOURCES_FINALIZER] },
    spec: {
      description: `Airflow ${config.name}: ${envs.map((e) => e.environment).join(", ")}`,
      sourceRepos: [config.repository.url],
      // Only the Applications of their own namespace may use this project.
      sourceNamespaces: [appsNs],
      destinations: envs.map((e) => ({ ...cluster(e), namespace: e.namespace })),
      // Exactly the kinds the builds contain: Argo CD refuses anything else.
      clusterResourceWhitelist: groupKinds(objects.filter((o) => !o.metadata.namespace)),
      namespaceResourceWhitelist: groupKinds(objects.filter((o) => o.metadata.namespace)),
      // Task pods belong to no Application: the executor creates and deletes them.
      orphanedResources: { warn: true, ignore: [{ group: "", kind: "Pod" }] },
    },
  });
  const adminProject = new AppProject({
    metadata: { ...adminMeta(adminProjectName(config)), finalizers: [RESOURCES_FINALIZER] },
    spec: {
      description: `Airflow ${config.name}: the environments' Applications, synced from ${ARGOCD_APPS_DIR}/`,
      sourceRepos: [config.repository.url],
      destinations: [{ server: IN_CLUSTER, namespace: appsNs }],
      // No cluster-scoped kind at all, and of the namespaced ones only what argocd/apps/ holds.
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: [{ group: "argoproj.io", kind: appKind }],
    },
  });
  const root = new Application({
    // No resources finalizer: deleting the root must never cascade into every environment.
    metadata: adminMeta(`${config.name}-root`),
    spec: {
      project: adminProjectName(config),
      source: { repoURL: config.repository.url, targetRevision: config.repository.revision, path: ARGOCD_APPS_DIR },
      destination: { server: IN_CLUSTER, namespace: appsNs },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
    },
  });
  const bootstrap: Manifest[] = [
    { component: "applications", object: toKubeObject(new Namespace({ metadata: { name: appsNs, labels: bootstrapLabels } })) },
    { component: "admin", object: toKubeObject(adminProject) },
    { component: project, object: toKubeObject(environmentProject) },
    { component: "root", object: toKubeObject(root) },
  ];
  const appsMeta = (name: string) => meta(name, appsNs);
  const apps: Manifest[] =
    config.argocd.mode === "applicationSet"
      ? [{ component: "environments", object: applicationSet(config, envs, appsMeta) }]
      : envs.map((e) => ({ component: e.environment, object: environmentApplication(config, e, appsMeta) }));
  return { bootstrap, apps };
}

type Meta = (name: string) => { name: string; namespace: string; labels: Record<string, string> };

function environmentApplication(config: Config, e: Destination, meta: Meta): KubeObject {
  const ignored = e.placeholder ? placeholderReplicasIgnored(e.placeholder) : undefined;
  return toKubeObject(
    new Application({
      metadata: { ...meta(`${config.name}-${e.environment}`), finalizers: [RESOURCES_FINALIZER] },
      spec: {
        project: config.name,
        source: { repoURL: config.repository.url, targetRevision: e.revision, path: overlayDir(e.environment) },
        destination: { ...cluster(e), namespace: e.namespace },
        syncPolicy: { automated: { prune: e.prune, selfHeal: e.selfHeal }, syncOptions: ignored?.syncOptions ?? SYNC_OPTIONS, retry: RETRY },
        ...(ignored ? { ignoreDifferences: ignored.ignoreDifferences } : {}),
        revisionHistoryLimit: 10,
      },
    }),
  );
}

/**
 * The list generator's values are strings, so the destination (server or name) and the booleans of
 * automated sync go through `templatePatch`, which is rendered before it is parsed as YAML.
 */
function applicationSet(config: Config, envs: readonly Destination[], meta: Meta): KubeObject {
  const placeholder = envs.find((e) => e.placeholder)?.placeholder;
  const ignored = placeholder ? placeholderReplicasIgnored(placeholder) : undefined;
  return toKubeObject(
    new ApplicationSet({
      metadata: meta(`${config.name}-environments`),
      spec: {
        goTemplate: true,
        goTemplateOptions: ["missingkey=error"],
        generators: [
          {
            list: {
              elements: envs.map((e) => ({
                environment: e.environment,
                namespace: e.namespace,
                server: e.server ?? "",
                clusterName: e.name ?? "",
                revision: e.revision,
                prune: String(e.prune),
                selfHeal: String(e.selfHeal),
              })),
            },
          },
        ],
        template: {
          metadata: { name: `${config.name}-{{.environment}}`, finalizers: [RESOURCES_FINALIZER] },
          spec: {
            project: config.name,
            source: { repoURL: config.repository.url, targetRevision: "{{.revision}}", path: `${overlayDir("{{.environment}}")}` },
            destination: { namespace: "{{.namespace}}" },
            syncPolicy: { syncOptions: ignored?.syncOptions ?? SYNC_OPTIONS, retry: RETRY },
            // The placeholders' name is the same in every environment; where there are none, nothing matches.
            ...(ignored ? { ignoreDifferences: ignored.ignoreDifferences } : {}),
            revisionHistoryLimit: 10,
          },
        },
        templatePatch: [
          "spec:",
          "  destination:",
          "    {{- if .clusterName }}",
          "    name: {{ .clusterName }}",
          "    {{- else }}",
          "    server: {{ .server }}",
          "    {{- end }}",
          "  syncPolicy:",
          "    automated:",
          "      prune: {{ .prune }}",
          "      selfHeal: {{ .selfHeal }}",
          "",
        ].join("\n"),
      },
    }),
  );
}

export function argocdLayer(config: Config): GeneratedFile[] {
  const { bootstrap, apps } = argocdManifests(config);
  return [...layerFiles(ARGOCD_DIR, bootstrap, { extraResources: ["apps"] }), ...layerFiles(ARGOCD_APPS_DIR, apps)];
}
