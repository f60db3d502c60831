/**
 * The escape hatches: what a team adds to the generated pods that the rest of the config has no field
 * for (one more env var, a sidecar, a private registry, an admission policy's label), per workload and
 * per environment, and, as a last resort, raw Kustomize patches in an environment's overlay. The
 * Kubernetes-typed values (containers, volumes, env, tolerations, affinity) are checked against the
 * Kubernetes API's own types by `pod-rules.ts`, unknown fields included.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { IAffinity } from "kubernetes-models/v1/Affinity";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvFromSource } from "kubernetes-models/v1/EnvFromSource";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IToleration } from "kubernetes-models/v1/Toleration";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import { P, StringEnum, closed } from "./schema-kit.js";

/** A value of a Kubernetes API type, checked against that type by the pod rules. */
function KubernetesValue<T>(type: string, description: string, example?: T) {
  return Type.Unsafe<T>({ type: "object", description: `${description} (Kubernetes ${type}).`, ...(example ? { examples: [example] } : {}) });
}

const Labels = (description: string, example: Record<string, string>) =>
  Type.Record(Type.String({ pattern: P.labelKey }), Type.String({ pattern: P.labelValue }), { ...closed, description, examples: [example] });

const ContainerHatches = {
  extraEnv: Type.Optional(
    Type.Array(KubernetesValue<IEnvVar>("core/v1 EnvVar", "An env var: `name` with `value` or `valueFrom`"), {
      description: "Env vars added to the container, after the generated ones (so `$(NAME)` may refer to those).",
      examples: [[{ name: "TEAM", value: "data" }, { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]],
    }),
  ),
  extraEnvFrom: Type.Optional(
    Type.Array(KubernetesValue<IEnvFromSource>("core/v1 EnvFromSource", "A ConfigMap or Secret whose keys become env vars"), {
      description: "ConfigMaps or Secrets whose keys become env vars of the container.",
      examples: [[{ configMapRef: { name: "team-settings" } }]],
    }),
  ),
  extraVolumeMounts: Type.Optional(
    Type.Array(KubernetesValue<IVolumeMount>("core/v1 VolumeMount", "A mount of one of extraVolumes"), {
      description: "Mounts of extraVolumes (of this workload) into the container.",
      examples: [[{ name: "ca-bundle", mountPath: "/etc/ssl/team", readOnly: true }]],
    }),
  ),
};

const PodHatchFields = {
  ...ContainerHatches,
  extraVolumes: Type.Optional(
    Type.Array(KubernetesValue<IVolume>("core/v1 Volume", "A volume of the pod"), {
      description: "Volumes added to the pod; their names must differ from the generated ones (config, dags, logs, ...).",
      examples: [[{ name: "ca-bundle", configMap: { name: "team-ca-bundle" } }]],
    }),
  ),
  extraContainers: Type.Optional(
    Type.Array(KubernetesValue<IContainer>("core/v1 Container", "A sidecar container"), {
      description: "Containers run beside the main one. Pod Security restricted applies: no privilege, no root, every capability dropped.",
      examples: [[{ name: "log-shipper", image: "fluent/fluent-bit:3.2.4", resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } } }]],
    }),
  ),
  extraInitContainers: Type.Optional(
    Type.Array(KubernetesValue<IContainer>("core/v1 Container", "An init container"), {
      description: "Init containers run after the generated ones (after the wait for migrations). Pod Security restricted applies.",
      examples: [[{ name: "fetch-certs", image: "registry.example.com/tools/fetch-certs:1.0.0" }]],
    }),
  ),
  podAnnotations: Type.Optional(
    Type.Record(Type.String({ pattern: P.labelKey }), Type.String(), {
      ...closed,
      description: "Annotations on the pods (not on the workload); the generated ones (checksums, eviction) cannot be changed.",
      examples: [{ "ad.datadoghq.com/tags": '{"team":"data"}' }],
    }),
  ),
  podLabels: Type.Optional(Labels("Labels on the pods, beside the generated app.kubernetes.io ones (which cannot be changed).", { "cost-center": "data-platform" })),
  imagePullSecrets: Type.Optional(
    Type.Array(Type.String({ pattern: P.dnsSubdomain }), {
      description: "Names of docker-registry Secrets in the namespace, for a private registry.",
      examples: [["ecr-pull"]],
    }),
  ),
  nodeSelector: Type.Optional(Labels("Node labels the pods require, beside the generated placement.", { "kubernetes.io/arch": "amd64" })),
  tolerations: Type.Optional(
    Type.Array(KubernetesValue<IToleration>("core/v1 Toleration", "A toleration"), {
      description: "Tolerations added to the generated ones.",
      examples: [[{ key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" }]],
    }),
  ),
  affinity: Type.Optional(
    KubernetesValue<IAffinity>(
      "core/v1 Affinity",
      "Affinity added to the generated one: preferred terms and pod (anti-)affinity terms are appended; a required node affinity " +
        "term's expressions are added to every generated term (both must hold)",
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }] }],
          },
        },
      },
    ),
  ),
  priorityClassName: Type.Optional(
    Type.String({ pattern: P.dnsSubdomain, description: "A PriorityClass of the cluster instead of the generated one.", examples: ["business-critical"] }),
  ),
  terminationGracePeriodSeconds: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 86400, description: "How long the pod may take to stop (the generated value otherwise).", examples: [120] }),
  ),
};

const PodHatches = (description: string) =>
  Type.Object(PodHatchFields, { ...closed, description, examples: [{ podLabels: { "cost-center": "data-platform" }, imagePullSecrets: ["ecr-pull"] }] });
const ContainerOnly = (description: string) =>
  Type.Object(ContainerHatches, { ...closed, description, examples: [{ extraEnv: [{ name: "GIT_SSL_CAINFO", value: "/etc/ssl/team/ca.pem" }] }] });

export const Pods = Type.Object(
  {
    apiServer: Type.Optional(PodHatches("The api-server pods (hatches of the `api-server` container).")),
    scheduler: Type.Optional(PodHatches("The scheduler pods.")),
    dagProcessor: Type.Optional(PodHatches("The DAG processor pods.")),
    triggerer: Type.Optional(PodHatches("The triggerer pods.")),
    statsd: Type.Optional(PodHatches("The statsd exporter pods.")),
    worker: Type.Optional(
      PodHatches("Every task pod (the pod template file; container `base`). terminationGracePeriodSeconds is components.worker's."),
    ),
    jobs: Type.Optional(PodHatches("The pods of every Job and CronJob: migrations, admin user, failed-pod cleanup, db clean, log retention.")),
    dagSync: Type.Optional(PodHatches("The dag-sync pods; the container fields apply to git-sync, or use gitSync and builder.")),
    gitSync: Type.Optional(ContainerOnly("The git-sync container of the dag-sync pods.")),
    builder: Type.Optional(ContainerOnly("The DAG builder container of the dag-sync pods (with dags.taskSpecs).")),
  },
  {
    ...closed,
    description:
      "Escape hatches: what the generated pods get beyond what the other fields make. An environment's hatches add to these " +
      "(lists are appended, maps merged key by key), so an environment never loses a shared one.",
    default: {},
  },
);

const JsonPatchOperation = Type.Object(
  {
    op: StringEnum(["add", "remove", "replace", "move", "copy", "test"] as const, { description: "RFC 6902 operation." }),
    path: Type.String({ pattern: "^(/[^/]*)+$", description: "JSON pointer of the field, e.g. /spec/template/metadata/annotations/team." }),
    value: Type.Optional(Type.Unknown({ description: "The value (add, replace, test).", examples: ["data"] })),
    from: Type.Optional(Type.String({ pattern: "^(/[^/]*)+$", description: "JSON pointer of the source (move, copy).", examples: ["/metadata/labels/team"] })),
  },
  { ...closed, required: ["op", "path"], description: "One JSON patch operation." },
);

const PatchTarget = Type.Object(
  {
    kind: Type.String({ pattern: "^[A-Z][A-Za-z0-9]*$", description: "Kind of the objects to patch.", examples: ["Deployment"] }),
    name: Type.Optional(Type.String({ minLength: 1, description: "Their name (a regular expression matched whole, as Kustomize does).", examples: ["airflow-scheduler"] })),
    group: Type.Optional(Type.String({ description: "API group ('' for the core group).", examples: ["apps"] })),
    version: Type.Optional(Type.String({ pattern: "^v[0-9a-z]+$", description: "API version.", examples: ["v1"] })),
    labelSelector: Type.Optional(Type.String({ minLength: 1, description: "Label selector (key=value, comma-separated).", examples: ["app.kubernetes.io/component=scheduler"] })),
  },
  { ...closed, required: ["kind"], description: "Which objects of the overlay the patch applies to; it must match at least one." },
);

export const OverlayPatch = Type.Object(
  {
    target: PatchTarget,
    strategicMerge: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "A strategic-merge patch: the fields to set, in the object's own shape (without apiVersion, kind, metadata.name).",
        examples: [{ spec: { template: { spec: { hostAliases: [{ ip: "10.0.0.10", hostnames: ["ldap.internal"] }] } } } }],
      }),
    ),
    jsonPatch: Type.Optional(
      Type.Array(JsonPatchOperation, {
        minItems: 1,
        description: "A JSON 6902 patch: operations applied in order.",
        examples: [[{ op: "add", path: "/metadata/annotations/team", value: "data" }]],
      }),
    ),
  },
  { ...closed, required: ["target"], description: "One raw Kustomize patch of the overlay: exactly one of strategicMerge and jsonPatch." },
);

export const OverlayPatches = Type.Array(OverlayPatch, {
  examples: [[{ target: { kind: "Deployment", name: "airflow-scheduler" }, jsonPatch: [{ op: "add", path: "/metadata/annotations/team", value: "data" }] }]],
  description:
    "The last resort: raw Kustomize patches written into this environment's overlay and rendered and validated like the rest, " +
    "for what no field expresses. Applied after the generated patches.",
});

export type PodsConfig = Static<typeof Pods>;
export type PodHatchesConfig = NonNullable<PodsConfig["apiServer"]>;
export type ContainerHatchesConfig = NonNullable<PodsConfig["gitSync"]>;
export type OverlayPatchConfig = Static<typeof OverlayPatch>;
