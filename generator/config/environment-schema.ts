/**
 * The parts of the config only an environment has: AWS identities, autoscaling and peak hours, and
 * `overridesOf`, which turns a top-level section into its per-environment override.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { closed, P, Quantity, StringEnum } from "./schema-kit.js";

/** Every field optional, recursively; arrays and scalars are replaced whole. */
export type Overrides<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Overrides<T[K]> } : T;

/**
 * The override form of a section: the same fields, descriptions and checks, but nothing required and
 * no defaults, so an environment states only what differs and inherits the rest.
 */
export function overridesOf<T extends TSchema>(schema: T, description: string) {
  return Type.Unsafe<Overrides<Static<T>>>({
    ...withoutDefaults(JSON.parse(JSON.stringify(schema)) as JsonSchema),
    description,
    $comment: OVERRIDE_COMMENT,
  });
}

/** Marks an override section in the published schema: its unset fields inherit the top-level values. */
export const OVERRIDE_COMMENT = "override: every unset field inherits the top-level value";

type JsonSchema = { [key: string]: unknown };

function withoutDefaults(schema: JsonSchema): JsonSchema {
  const { default: _default, required: _required, ...rest } = schema;
  const out: JsonSchema = { ...rest };
  if (rest.type === "object" && rest.properties) {
    out.properties = Object.fromEntries(
      Object.entries(rest.properties as Record<string, JsonSchema>).map(([key, value]) => [key, withoutDefaults(value)]),
    );
  }
  return out;
}

const RoleArn = (what: string) =>
  Type.Optional(
    Type.String({ pattern: P.iamRoleArn, description: `IAM role assumed by ${what} (IRSA).`, examples: ["arn:aws:iam::123456789012:role/airflow-prod-tasks"] }),
  );

export const Iam = Type.Object(
  {
    mode: StringEnum(["irsa", "podIdentity"] as const, {
      description:
        "How pods get AWS credentials: IRSA (the role ARN is written on the ServiceAccount) or EKS Pod Identity " +
        "(associations are created with the EKS API, so the manifests carry no role).",
      default: "irsa",
    }),
    roles: Type.Object(
      {
        apiServer: RoleArn("the api-server"),
        scheduler: RoleArn("the scheduler"),
        dagProcessor: RoleArn("the DAG processor"),
        triggerer: RoleArn("the triggerer"),
        worker: RoleArn("task pods (the role tasks use to reach AWS services)"),
        dagSync: RoleArn("git-sync and the DAG builder"),
        secrets: RoleArn("the External Secrets Operator to read this environment's Parameter Store entries; required with IRSA"),
      },
      { ...closed, description: "IAM role per component, for IRSA. Components without a role get no AWS credentials.", default: {} },
    ),
  },
  { ...closed, description: "AWS identities of the environment's pods.", default: {} },
);

const Bounds = (component: string, defaultUtilization: number) =>
  Type.Object(
    {
      min: Type.Integer({ minimum: 1, maximum: 100, description: `Fewest ${component} replicas, at any hour.` }),
      max: Type.Integer({ minimum: 1, maximum: 100, description: `Most ${component} replicas.` }),
      cpuUtilization: Type.Integer({
        minimum: 10,
        maximum: 100,
        description: "Average CPU use, in percent of the request, that the autoscaler keeps replicas at.",
        default: defaultUtilization,
      }),
    },
    { ...closed, required: ["min", "max"], description: `Autoscaling bounds of the ${component}.`, examples: [{ min: 2, max: 6, cpuUtilization: defaultUtilization }] },
  );

export const Autoscaling = Type.Object(
  {
    engine: StringEnum(["keda", "hpa"] as const, {
      description:
        "keda writes KEDA ScaledObjects (CPU plus the peak-hour windows); hpa writes plain autoscaling/v2 " +
        "HorizontalPodAutoscalers (CPU only, no windows) for clusters without KEDA.",
      default: "keda",
    }),
    apiServer: Type.Optional(Bounds("api-server", 70)),
    scheduler: Type.Optional(Bounds("scheduler", 80)),
    behavior: Type.Object(
      {
        scaleUpStabilizationSeconds: Type.Integer({
          minimum: 0,
          maximum: 3600,
          description: "How long a higher replica count must be wanted before scaling up.",
          default: 60,
        }),
        scaleDownStabilizationSeconds: Type.Integer({
          minimum: 0,
          maximum: 3600,
          description: "How long a lower replica count must be wanted before scaling down (prevents flapping).",
          default: 600,
        }),
      },
      { ...closed, description: "How fast the autoscaler reacts, for both engines.", default: {} },
    ),
  },
  { ...closed, description: "Autoscaling of the api-server and the scheduler.", examples: [{ engine: "keda", apiServer: { min: 2, max: 6 }, scheduler: { min: 2, max: 4 } }] },
);

const Window = Type.Object(
  {
    days: Type.String({
      pattern: P.weekDays,
      description: "Days the window starts on: mon-fri, sat,sun, mon,wed,fri or daily.",
      examples: ["mon-fri"],
    }),
    start: Type.String({ pattern: P.timeOfDay, description: "Local start time (HH:MM).", examples: ["07:00"] }),
    end: Type.String({
      pattern: P.timeOfDay,
      description: "Local end time (HH:MM). An end before the start means the window ends the next day.",
      examples: ["11:00"],
    }),
  },
  { ...closed, required: ["days", "start", "end"], description: "A peak window in the environment's time zone." },
);

const Taint = Type.Object(
  {
    key: Type.String({ pattern: P.labelKey, description: "Taint key.", examples: ["dedicated"] }),
    value: Type.String({ pattern: P.labelValue, description: "Taint value.", default: "" }),
    effect: StringEnum(["NoSchedule", "PreferNoSchedule", "NoExecute"] as const, {
      description: "Taint effect.",
      default: "NoSchedule",
    }),
  },
  { ...closed, required: ["key"], description: "The pool's taint: only pods that tolerate it run there.", examples: [{ key: "dedicated", value: "airflow-peak", effect: "NoSchedule" }] },
);

const Karpenter = Type.Object(
  {
    nodeClassName: Type.String({
      pattern: P.dnsLabel,
      description: "EC2NodeClass the pool launches nodes with.",
      default: "default",
    }),
    capacityTypes: Type.Array(StringEnum(["on-demand", "spot", "reserved"] as const, { description: "A capacity type." }), {
      minItems: 1,
      uniqueItems: true,
      description: "Capacity types the pool may buy.",
      default: ["on-demand"],
    }),
    instanceCategories: Type.Array(Type.String({ pattern: "^[a-z]$" }), {
      minItems: 1,
      uniqueItems: true,
      description: "EC2 instance categories (c compute, m general, r memory).",
      default: ["c", "m", "r"],
    }),
    limits: Type.Optional(
      Type.Object(
        {
          cpu: Type.String({ pattern: P.quantity, description: "Most CPU the pool may hold in total.", examples: ["256"] }),
          memory: Type.String({ pattern: P.quantity, description: "Most memory the pool may hold in total.", examples: ["1024Gi"] }),
        },
        { ...closed, required: ["cpu", "memory"], description: "Caps on the pool's total size.", examples: [{ cpu: "256", memory: "1024Gi" }] },
      ),
    ),
    consolidateAfter: Type.String({
      pattern: P.duration,
      description: "How long a node must be empty or underused before Karpenter removes it.",
      default: "5m",
    }),
    expireAfter: Type.String({ pattern: P.duration, description: "Nodes are replaced after this age.", default: "720h" }),
  },
  { ...closed, description: "Also write the Karpenter NodePool (karpenter.sh/v1) of the peak pool; without it the pool is one the platform runs (an EKS node group, a NodePool of its own).", examples: [{ nodeClassName: "default" }] },
);

const NodePool = Type.Object(
  {
    labels: Type.Record(Type.String({ pattern: P.labelKey }), Type.String({ pattern: P.labelValue }), {
      ...closed,
      minProperties: 1,
      description:
        "Labels of the peak pool's nodes: task pods prefer them and placeholders require them " +
        "(`karpenter.sh/nodepool: <pool>` or an EKS node-group label).",
      examples: [{ "karpenter.sh/nodepool": "airflow-peak" }],
    }),
    taint: Type.Optional(Taint),
    karpenter: Type.Optional(Karpenter),
  },
  { ...closed, required: ["labels"], description: "The node pool that absorbs the peak.", examples: [{ labels: { "karpenter.sh/nodepool": "airflow-peak" } }] },
);

const WarmCapacity = Type.Object(
  {
    placeholders: Type.Integer({ minimum: 1, maximum: 500, description: "Placeholder pods kept during each window." }),
    cpu: Quantity("CPU each placeholder reserves.", "1"),
    memory: Quantity("Memory each placeholder reserves.", "2Gi"),
    leadTime: Type.String({
      pattern: P.leadTime,
      description: "How long before each window the placeholders start, so nodes are ready for the rush (at most 12h).",
      default: "30m",
    }),
    image: Type.String({ pattern: P.imageRef, description: "Image of the placeholder pods.", default: "registry.k8s.io/pause:3.10" }),
  },
  {
    ...closed,
    required: ["placeholders"],
    description:
      "Warm capacity: pause pods with a negative priority that hold peak-pool nodes from shortly before each " +
      "window to its end; real pods evict them at once.",
    examples: [{ placeholders: 6, cpu: "2", memory: "8Gi", leadTime: "30m" }],
  },
);

export const PeakHours = Type.Object(
  {
    timezone: Type.String({
      pattern: P.ianaTimeZone,
      description: "IANA time zone the windows are written in.",
      examples: ["America/Sao_Paulo"],
    }),
    windows: Type.Array(Window, { minItems: 1, description: "The peak windows; they must not overlap." }),
    replicas: Type.Object(
      {
        apiServer: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "api-server replicas during every window.", examples: [4] })),
        scheduler: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Scheduler replicas during every window.", examples: [3] })),
      },
      { ...closed, description: "Replicas held during the windows (between the autoscaling min and max).", default: {} },
    ),
    warmCapacity: Type.Optional(WarmCapacity),
    nodePool: Type.Optional(NodePool),
    controlPlaneNodes: Type.Object(
      {
        key: Type.String({ pattern: P.labelKey, description: "Node label that names the capacity type.", default: "karpenter.sh/capacity-type" }),
        values: Type.Array(Type.String({ pattern: P.labelValue }), {
          minItems: 1,
          description: "Values the control plane requires (use eks.amazonaws.com/capacityType: [ON_DEMAND] on managed node groups).",
          default: ["on-demand"],
        }),
      },
      { ...closed, description: "The control plane requires on-demand nodes, so a spot reclaim never stops it.", default: {} },
    ),
  },
  {
    ...closed,
    required: ["timezone", "windows"],
    description: "Peak hours: scale up before the daily rush and down after it.",
    examples: [{ timezone: "America/Sao_Paulo", windows: [{ days: "mon-fri", start: "07:00", end: "11:00" }], replicas: { apiServer: 4 } }],
  },
);

export type IamConfig = Static<typeof Iam>;
export type AutoscalingConfig = Static<typeof Autoscaling>;
export type PeakHoursConfig = Static<typeof PeakHours>;
export type PeakWindow = Static<typeof Window>;
