/**
 * `argocd/`: the AppProject, one auto-syncing Application per environment (or one ApplicationSet that
 * writes them), and a root Application over this directory, so `kubectl apply -k argocd/` bootstraps
 * everything and later changes to argocd/ sync themselves.
 */
import { AppProject, Application, ApplicationSet } from "./kinds.js";
import type { Config } from "../config/schema.js";
import { buildManifests } from "./base.js";
import type { Manifest } from "./components/types.js";
import { labels } from "./labels.js";
import { layerFiles } from "./layer.js";
import { toKubeObject, type GeneratedFile, type KubeObject } from "./manifest.js";
import { overlayDir } from "./overlay.js";
import { secretsManifests } from "./secrets.js";
import { SYNC_WAVE_ANNOTATION } from "./sync-waves.js";
import { resolveEnvironment } from "./target.js";
import { byCodeUnit } from "../shared/order.js";

export const ARGOCD_DIR = "argocd";
export const IN_CLUSTER = "https://kubernetes.default.svc";
const RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/** Retries with backoff: a sync that fails on a transient error (a webhook not ready yet) tries again. */
const RETRY = { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } };

/**
 * CreateNamespace: the namespace exists before the first wave. PruneLast: deletions wait until the
 * new objects are healthy. ServerSideApply: no 256 KiB last-applied annotation on the ConfigMap that
 * carries airflow.cfg and the pod template, and field ownership shared cleanly with the controllers.
 */
const SYNC_OPTIONS = ["CreateNamespace=true", "PruneLast=true", "ServerSideApply=true"];

interface Destination {
  environment: string;
  namespace: string;
  server?: string;
  name?: string;
  revision: string;
  prune: boolean;
  selfHeal: boolean;
}

function destinations(config: Config): Destination[] {
  return Object.keys(config.environments).map((environment) => {
    const argo = config.argocd.environments[environment];
    return {
      environment,
      namespace: resolveEnvironment(config, environment).namespace,
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

export function argocdManifests(config: Config): Manifest[] {
  const project = config.name;
  const ns = config.argocd.namespace;
  const meta = (name: string) => ({ name, namespace: ns, labels: labels(config, "argocd") });
  const envs = destinations(config);
  const objects = environmentObjects(config);
  const selfObjects: GroupKind[] = [
    { group: "argoproj.io", kind: "AppProject" },
    { group: "argoproj.io", kind: config.argocd.mode === "applicationSet" ? "ApplicationSet" : "Application" },
    ...(config.argocd.mode === "applicationSet" ? [{ group: "argoproj.io", kind: "Application" }] : []),
  ];

  const appProject = new AppProject({
    metadata: { ...meta(project), annotations: { [SYNC_WAVE_ANNOTATION]: "-1" }, finalizers: [RESOURCES_FINALIZER] },
    spec: {
      description: `Airflow ${config.name}: ${envs.map((e) => e.environment).join(", ")}`,
      sourceRepos: [config.repository.url],
      destinations: [
        ...envs.map((e) => ({ ...cluster(e), namespace: e.namespace })),
        { server: IN_CLUSTER, namespace: ns },
      ],
      // Exactly the kinds the builds contain: Argo CD refuses anything else.
      clusterResourceWhitelist: groupKinds(objects.filter((o) => !o.metadata.namespace)),
      namespaceResourceWhitelist: groupKinds(objects.filter((o) => o.metadata.namespace)).concat(selfObjects),
      // Task pods belong to no Application: the executor creates and deletes them.
      orphanedResources: { warn: true, ignore: [{ group: "", kind: "Pod" }] },
    },
  });

  const manifests: Manifest[] = [{ component: "airflow", object: toKubeObject(appProject) }];
  if (config.argocd.mode === "applicationSet") {
    manifests.push({ component: "environments", object: applicationSet(config, envs, meta) });
  } else {
    for (const e of envs) manifests.push({ component: e.environment, object: environmentApplication(config, e, meta) });
  }
  manifests.push({
    component: "root",
    object: toKubeObject(
      new Application({
        // No resources finalizer: deleting the root must never cascade into every environment.
        metadata: meta(`${config.name}-root`),
        spec: {
          project,
          source: { repoURL: config.repository.url, targetRevision: config.repository.revision, path: ARGOCD_DIR },
          destination: { server: IN_CLUSTER, namespace: ns },
          syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
        },
      }),
    ),
  });
  return manifests;
}

type Meta = (name: string) => { name: string; namespace: string; labels: Record<string, string> };

function environmentApplication(config: Config, e: Destination, meta: Meta): KubeObject {
  return toKubeObject(
    new Application({
      metadata: { ...meta(`${config.name}-${e.environment}`), finalizers: [RESOURCES_FINALIZER] },
      spec: {
        project: config.name,
        source: { repoURL: config.repository.url, targetRevision: e.revision, path: overlayDir(e.environment) },
        destination: { ...cluster(e), namespace: e.namespace },
        syncPolicy: { automated: { prune: e.prune, selfHeal: e.selfHeal }, syncOptions: SYNC_OPTIONS, retry: RETRY },
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
            syncPolicy: { syncOptions: SYNC_OPTIONS, retry: RETRY },
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
  return layerFiles(ARGOCD_DIR, argocdManifests(config));
}
