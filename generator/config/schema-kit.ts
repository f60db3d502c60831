/**
 * Building blocks of the config schema: named patterns (with their meaning in words for error
 * messages), closed objects, string enums, quantities and resources with per-use defaults.
 */
import { Type } from "@sinclair/typebox";

/** The schedule presets Airflow 3 reads (`cron_presets` of `airflow/utils/dates.py`; `@once` and `@continuous` in `airflow/sdk/definitions/dag.py`). */
const AIRFLOW_PRESETS = ["once", "continuous", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly"] as const;

/** Every string pattern of the config, with what it means in words for error messages. */
export const PATTERNS = {
  dnsLabel: ["^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", "must be a DNS label: lower-case letters, digits and '-', starting with a letter"],
  quantity: ["^[0-9]+(\\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$", "must be a Kubernetes quantity such as 500m, 2, 512Mi or 10Gi"],
  duration: ["^([0-9]+(ms|s|m|h))+$", "must be a duration such as 30s, 5m or 1h"],
  imageTag: [
    "^(?!latest(@|$))[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?$",
    "must be an image tag (not latest), optionally pinned to a digest: 3.3.2 or 3.3.2@sha256:<64 hex digits>",
  ],
  imageRepository: [
    "^([a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
    "must be an image repository without tag or digest, like apache/airflow or registry.example.com:5000/team/airflow (the tag goes in tag)",
  ],
  imageRef: [
    "^[a-z0-9]+([._/:-][a-z0-9]+)*(:(?!latest(@|$))[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$",
    "must be an image with a tag (not latest) or a digest, like registry.example.com/team/image:1.2.3, " +
      "image:1.2.3@sha256:<64 hex digits> or image@sha256:<64 hex digits>",
  ],
  dnsSubdomain: [
    "^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    "must be a Kubernetes object name: lower-case letters, digits, '-' and '.', at most 253",
  ],
  environmentName: ["^[a-z][a-z0-9-]{0,19}$", "must be lower-case letters, digits and '-', starting with a letter, at most 20 characters"],
  airflowSection: ["^[a-z][a-z0-9_.]*$", "must be an airflow.cfg section name in lower case"],
  airflowOption: ["^[a-z][a-z0-9_]*$", "must be an airflow.cfg option name in lower case"],
  gitUrl: ["^(https://|ssh://|git@)[^\\s]+$", "must be a git URL: git@host:org/repo.git, ssh://... or https://..."],
  subPath: ["^([A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)?$", "must be a relative path without leading or trailing '/'"],
  fileSystemId: ["^fs-[0-9a-f]{8,17}$", "must be an EFS file system id like fs-0123456789abcdef0"],
  awsRegion: ["^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", "must be an AWS region like sa-east-1"],
  cidr: ["^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$", "must be an IPv4 CIDR like 10.0.0.0/8"],
  hostname: [
    "^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    "must be a lower-case DNS name such as airflow.example.com",
  ],
  iamRoleArn: ["^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$", "must be an IAM role ARN like arn:aws:iam::123456789012:role/airflow-prod"],
  acmCertificateArn: [
    "^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$",
    "must be an ACM certificate ARN like arn:aws:acm:sa-east-1:123456789012:certificate/<id>",
  ],
  timeOfDay: ["^([01][0-9]|2[0-3]):[0-5][0-9]$", "must be a 24-hour time HH:MM such as 07:00 or 18:30"],
  weekDays: [
    "^(daily|(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*)$",
    "must be days of the week such as mon-fri, sat,sun, mon,wed,fri or daily",
  ],
  leadTime: ["^(?=[0-9])([0-9]+h)?([0-9]+m)?$", "must be a duration in hours and minutes such as 30m, 1h or 1h30m"],
  labelKey: [
    "^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
    "must be a Kubernetes label key such as karpenter.sh/nodepool or node-type",
  ],
  labelValue: ["^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", "must be a Kubernetes label value: letters, digits, '-', '_' and '.', at most 63"],
  parameterPath: [
    "^/[A-Za-z0-9_.{}/-]+$",
    "must be a Parameter Store name starting with '/', like /airflow/{env}/fernet-key ({env} becomes the environment name)",
  ],
  awsAccountId: ["^[0-9]{12}$", "must be a 12-digit AWS account id"],
  airflowId: ["^[A-Za-z0-9_.-]{1,250}$", "must be an id Airflow accepts: letters, digits, '_', '-' and '.', at most 250"],
  isoDate: ["^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", "must be a date YYYY-MM-DD"],
  ianaTimeZone: ["^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", "must be an IANA time zone name such as America/Sao_Paulo or UTC"],
  airflowUsername: ["^[A-Za-z0-9_.@-]{1,64}$", "must be a login of letters, digits, '_', '.', '@' and '-', at most 64 characters"],
  email: ["^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$", "must be an e-mail address like admin@example.com"],
  httpsUrl: [
    "^https://[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*$",
    "must be an https URL without query or fragment, like https://acme.okta.com or https://sso.example.com/realms/airflow",
  ],
  oauthClientId: ["^[\\x21-\\x7e]{1,256}$", "must be an OAuth client id: visible ASCII characters, no spaces"],
  oauthScope: ["^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$", "must be one OAuth scope such as openid or read:org (no spaces, quotes or backslashes)"],
  claimName: ["^[A-Za-z0-9_.:/-]{1,128}$", "must be a claim name such as preferred_username, groups or https://example.com/claims/groups"],
  entraTenant: [
    "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+)$",
    "must be an Entra ID tenant id (a GUID) or a verified domain like acme.onmicrosoft.com; common and organizations would admit every tenant",
  ],
  githubLogin: ["^[A-Za-z0-9](-?[A-Za-z0-9]){0,38}$", "must be a GitHub organization login: letters, digits and single '-', at most 39"],
  ssoRoleKey: ["^\\S(.{0,254}\\S)?$", "must be a group, e-mail address or team slug without leading or trailing spaces, at most 256 characters"],
  s3Folder: ["^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_.{}/-]*)?$", "must be an S3 folder like s3://acme-airflow-logs/{env}"],
  cronSchedule: [
    cronSchedulePattern(),
    "must be a five-field cron schedule (minute 0-59, hour 0-23, day 1-31, month 1-12 or jan-dec, weekday 0-6 or sun-sat; " +
      "each a '*', value, range a-b or list a,b, optionally /step) such as 30 */6 * * *",
  ],
  airflowSchedule: [
    `^(@(${AIRFLOW_PRESETS.join("|")})|${cronSchedulePattern().slice(1, -1)})$`,
    `must be an Airflow preset (${AIRFLOW_PRESETS.map((p) => `@${p}`).join(", ")}) or a five-field cron schedule (minute 0-59, hour 0-23, ` +
      "day 1-31, month 1-12 or jan-dec, weekday 0-6 or sun-sat; each a '*', value, range a-b or list a,b, optionally /step) such as 0 4 * * *",
  ],
} as const satisfies Record<string, readonly [string, string]>;

/**
 * Five cron fields as the Kubernetes CronJob controller reads them: per field `*`, a value or a range a-b,
 * each optionally with /step, in a comma-separated list; months and weekdays also by name.
 */
function cronSchedulePattern(): string {
  const anyCase = (name: string) => [...name].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join("");
  const names = (list: string) => list.split(" ").map(anyCase).join("|");
  const field = (value: string) => {
    const item = `(\\*|(${value})(-(${value}))?)(/[1-9][0-9]?)?`;
    return `${item}(,${item})*`;
  };
  const fields = [
    "[0-5]?[0-9]",
    "[01]?[0-9]|2[0-3]",
    "0?[1-9]|[12][0-9]|3[01]",
    `0?[1-9]|1[0-2]|${names("jan feb mar apr may jun jul aug sep oct nov dec")}`,
    `[0-6]|${names("sun mon tue wed thu fri sat")}`,
  ];
  return `^${fields.map(field).join("[ \\t]+")}$`;
}

/** The regular expression of each pattern, by name. */
export const P = Object.fromEntries(Object.entries(PATTERNS).map(([name, [regex]]) => [name, regex])) as {
  [K in keyof typeof PATTERNS]: (typeof PATTERNS)[K][0];
};

/** What each pattern means, in words, keyed by the regular expression ajv reports. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = Object.fromEntries(Object.values(PATTERNS));

export const closed = { additionalProperties: false } as const;

/** A string enum as plain JSON Schema `enum` (clearer errors than a union of literals). */
export function StringEnum<const T extends string>(values: readonly T[], options: { description: string; default?: T }) {
  return Type.Unsafe<T>({ type: "string", enum: [...values], ...options });
}

/** A git repository URL (SSH or HTTPS), as git-sync and Argo CD clone it. */
export function GitUrl(description: string, example: string) {
  return Type.String({ pattern: P.gitUrl, description, examples: [example] });
}

export function Quantity(description: string, defaultValue: string) {
  return Type.String({ pattern: P.quantity, description, default: defaultValue });
}

const ResourceRequests = Type.Object(
  {
    cpu: Quantity("CPU request (Kubernetes quantity, e.g. 250m).", "100m"),
    memory: Quantity("Memory request (Kubernetes quantity, e.g. 512Mi).", "256Mi"),
  },
  { ...closed, description: "Resources the scheduler reserves for the container.", default: {} },
);

const ResourceLimits = Type.Object(
  {
    cpu: Type.Optional(
      Type.String({
        pattern: P.quantity,
        description: "CPU limit. Unset by default: CPU limits throttle Airflow without protecting the node.",
        examples: ["2"],
      }),
    ),
    memory: Quantity("Memory limit (Kubernetes quantity). Always set, so a leak cannot take the node down.", "512Mi"),
  },
  { ...closed, description: "Upper bounds for the container.", default: {} },
);

/** Resources with component-specific defaults, so each component's defaults live in the schema. */
export function Resources(description: string, requests: { cpu: string; memory: string }, memoryLimit: string) {
  return Type.Object(
    {
      requests: Type.Object(
        {
          cpu: Quantity("CPU request (Kubernetes quantity, e.g. 250m).", requests.cpu),
          memory: Quantity("Memory request (Kubernetes quantity, e.g. 512Mi).", requests.memory),
        },
        { ...closed, description: ResourceRequests.description, default: {} },
      ),
      limits: Type.Object(
        {
          cpu: ResourceLimits.properties.cpu,
          memory: Quantity(
            "Memory limit (Kubernetes quantity). Always set, so a leak cannot take the node down.",
            memoryLimit,
          ),
        },
        { ...closed, description: ResourceLimits.description, default: {} },
      ),
    },
    { ...closed, description, default: {} },
  );
}

export function Replicas(description: string, defaultValue: number) {
  return Type.Integer({ minimum: 1, maximum: 100, description, default: defaultValue });
}

