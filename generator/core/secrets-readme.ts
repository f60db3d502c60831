/**
 * The operator's page of one environment's secrets layer: the Parameter Store entries to create,
 * the least-privilege IAM policy of the role that reads them, the Fernet key rotation and, with task
 * logs in S3, the bucket's policy and lifecycle rule.
 */
import { names } from "./names.js";
import { adminUserSecret } from "./secret-refs.js";
import { ssoRedirectUri } from "./webserver-config.js";
import { s3LogFolder } from "./airflow-cfg.js";
import { secretSpecs, type SecretParameter } from "./secrets.js";
import type { Target } from "./target.js";
import type { ParameterReaders } from "./secrets-layer.js";

export { FERNET_KEY_COMMAND };

export function secretsReadme(config: Target, readers: ParameterReaders): string {
  const env = config.environment!.name;
  const n = names(config);
  const region = config.aws.region;
  const account = config.aws.accountId ?? "<account-id>";
  const parameters = secretSpecs(config).flatMap((spec) => spec.parameters);
  const iam = config.environment?.iam;
  const podIdentity = iam?.mode === "podIdentity";
  const fernet = parameters.find((p) => p.secretName === `${config.name}-fernet-key`)!;
  const admin = parameters.find((p) => p.secretName === adminUserSecret(config).secretName);
  const reload = config.secrets.reloadOnChange;
  const others = (parameter: string) => (readers.get(parameter) ?? []).filter((e) => e !== env);
  const shared = parameters.filter((p) => others(p.parameter).length > 0);
  const sharedNote = (p: SecretParameter) => (others(p.parameter).length > 0 ? ` (**shared** with ${others(p.parameter).join(", ")})` : "");
  const fernetShared = others(fernet.parameter);
  const lines = [
    `# Secrets of the ${env} environment`,
    "",
    `The External Secrets Operator reads these AWS Systems Manager Parameter Store entries (region \`${region}\`) and`,
    `creates the Secrets the deployment reads, in namespace \`${n.namespace}\`. Nothing secret is stored in git.`,
    "Create every entry as a SecureString before the first sync:",
    "",
    "| Parameter | Type | Secret / key | Holds |",
    "|---|---|---|---|",
    ...parameters.map((p) => `| \`${p.parameter}\` | SecureString | \`${p.secretName}\` / \`${p.key}\` | ${p.purpose}${sharedNote(p)} |`),
    "",
    ...(shared.length > 0
      ? [
          `${shared.length === 1 ? "One entry is" : `${shared.length} entries are`} shared with other environments (its path has no \`{env}\`): ` +
            "changing it changes them too, and their IAM roles must be allowed to read it.",
          "",
        ]
      : []),
    "One command per entry (AWS CLI; values that span lines or must not reach the shell history are read from files):",
    "",
    "```sh",
    ...parameters.flatMap((p) => putParameter(p, region, gitHost(config.dags.gitSync.repository))),
    "```",
    "",
    "A database URL must URL-encode special characters of the password (`@` as `%40`, `/` as `%2F`).",
    "",
    ...(admin ? adminUserSection(config, admin) : []),
    ...ssoSection(config),
    `## IAM policy of the role that reads them`,
    "",
    podIdentity
      ? "With EKS Pod Identity, attach this policy to the role associated with the External Secrets Operator's own ServiceAccount " +
        "(`aws eks create-pod-identity-association --namespace <eso-namespace> --service-account <eso-service-account> --role-arn ...`)."
      : `With IRSA, attach this policy to \`${iam?.roles.secrets ?? "<secrets-role-arn>"}\`, whose trust policy must admit ` +
        `\`system:serviceaccount:${n.namespace}:${n.externalSecretsServiceAccount}\` through the cluster's OIDC provider.`,
    "",
    "```json",
    JSON.stringify(iamPolicy(parameters, region, account), null, 2),
    "```",
    "",
    "`kms:Decrypt` is needed when the parameters are encrypted with a customer-managed KMS key; the condition limits it to reads through SSM.",
    "",
    ...(s3LogFolder(config) ? taskLogsSection(config, s3LogFolder(config)!) : []),
    ...secretsBackendSection(config, account),
    "## Rotating the Fernet key",
    "",
    "Airflow decrypts with every key of a comma-separated list and encrypts with the first, so a rotation never breaks stored connections:",
    "",
    ...(fernetShared.length > 0
      ? [
          `\`${fernet.parameter}\` is shared with ${fernetShared.join(", ")}: a rotation touches ${[env, ...fernetShared].join(", ")}. ` +
            "Do steps 2 to 4 in each of them before step 5, or the environments not yet restarted cannot read what the others encrypted.",
          "",
        ]
      : []),
    `1. Generate a new key (\`${FERNET_KEY_COMMAND}\`) and set \`${fernet.parameter}\` to \`<new-key>,<old-key>\`.`,
    `2. Let the operator refresh the Secret (every ${config.secrets.refreshInterval}, or at once:`,
    `   \`kubectl -n ${n.namespace} annotate externalsecret ${fernet.secretName} force-sync=$(date +%s) --overwrite\`).`,
    reload
      ? `3. Wait for the pods to restart: Stakater Reloader rolls every Deployment that reads the Secret as soon as it changes (\`kubectl -n ${n.namespace} rollout status deployment -l app.kubernetes.io/instance=${config.name}\`).`
      : `3. Restart the Airflow pods so every process holds both keys: \`kubectl -n ${n.namespace} rollout restart deployment -l app.kubernetes.io/instance=${config.name}\`.`,
    `4. Re-encrypt the stored secrets with the new key: \`kubectl -n ${n.namespace} exec deploy/${n.component("scheduler")} -- airflow rotate-fernet-key\`.`,
    `5. Set \`${fernet.parameter}\` to \`<new-key>\` alone, refresh${reload ? " and wait for the rollout" : " and restart"} again.`,
    "",
    "Pods roll by themselves when a parameter *name* changes (a checksum of the ExternalSecrets is on every pod).",
    reload
      ? `A new *value* under the same name reaches every pod within ${config.secrets.refreshInterval} (the refresh interval) plus one rollout: each Deployment names the Secrets it reads in \`secret.reloader.stakater.com/reload\`, and Stakater Reloader (installed with \`reloadStrategy: annotations\`) restarts it when one changes; Argo CD then sees its \`reloader.stakater.com/last-reloaded-from\` pod-template annotation as drift unless it ignores that field (Reloader's Argo CD guide). Jobs and CronJobs read the value at their next run.`
      : "A new *value* under the same name needs the restart of step 3 (or `secrets.reloadOnChange: true` with Stakater Reloader installed).",
  ];
  return lines.join("\n");
}

const SSM_SECRETS_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend";
/** The backend's own defaults (SystemsManagerParameterStoreBackend.__init__); a prefix set to null turns that lookup off. */
const SSM_BACKEND_PREFIXES = { connections_prefix: "/airflow/connections", variables_prefix: "/airflow/variables", config_prefix: "/airflow/config" } as const;

/** With Parameter Store as Airflow's secrets backend, the policy each process that looks up connections and variables needs. */
function secretsBackendSection(config: Target, account: string): string[] {
  const secrets = (config.airflow.config as Record<string, Record<string, unknown> | undefined>).secrets;
  if (secrets?.backend !== SSM_SECRETS_BACKEND) return [];
  let kwargs: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(String(secrets.backend_kwargs ?? "{}"));
    if (parsed && typeof parsed === "object") kwargs = parsed as Record<string, unknown>;
  } catch {
    // An unreadable backend_kwargs leaves the backend's defaults, which Airflow would refuse anyway.
  }
  const region = typeof kwargs.region_name === "string" ? kwargs.region_name : config.aws.region;
  const prefixes = (Object.keys(SSM_BACKEND_PREFIXES) as (keyof typeof SSM_BACKEND_PREFIXES)[])
    .filter((key) => kwargs[key] !== null)
    .map((key) => `/${String(kwargs[key] ?? SSM_BACKEND_PREFIXES[key]).replace(/^\/+|\/+$/g, "")}`);
  const iam = config.environment?.iam;
  const roles: Partial<Record<string, string>> = iam?.roles ?? {};
  // Task code uses [workers] secrets_backend when it is set, else this one (Airflow's _get_custom_secret_backend).
  const ownWorkerBackend = (config.airflow.config as Record<string, Record<string, unknown> | undefined>).workers?.secrets_backend !== undefined;
  const readers = (["worker", "scheduler", "dagProcessor", "triggerer", "apiServer"] as const).filter((key) => key !== "worker" || !ownWorkerBackend);
  const policy = {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadAirflowSecretsBackend", Effect: "Allow", Action: "ssm:GetParameter", Resource: prefixes.map((p) => `arn:aws:ssm:${region}:${account}:parameter${p}/*`) },
      {
        Sid: "DecryptThroughSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: `arn:aws:kms:${region}:${account}:key/*`,
        Condition: { StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` } },
      },
    ],
  };
  return [
    "## IAM policy for the Parameter Store secrets backend",
    "",
    `\`[secrets] backend\` is Parameter Store: ${ownWorkerBackend ? "" : "task code, "}the scheduler, the dag-processor, the triggerer and the api-server look up connections, variables and config under ${prefixes.map((p) => `\`${p}/\``).join(", ")} with their own IAM identity` +
      (ownWorkerBackend ? " (task code uses `[workers] secrets_backend` instead)." : " (task code too, as `[workers] secrets_backend` is not set)."),
    iam?.mode === "podIdentity"
      ? "With EKS Pod Identity, attach this policy to the roles associated with the ServiceAccounts of the worker, scheduler, dag-processor, triggerer and api-server."
      : `With IRSA, attach this policy to ${readers.filter((key) => roles[key]).map((key) => `\`${roles[key]}\``).join(", ") || "the roles of those processes"}.` +
        (readers.some((key) => !roles[key])
          ? ` ${readers.filter((key) => !roles[key]).map((key) => `\`iam.roles.${key}\``).join(", ")}: not set, so that process has no AWS identity and its lookups fail; give it a role with this policy.`
          : ""),
    "",
    "```json",
    JSON.stringify(policy, null, 2),
    "```",
    "",
  ];
}

function taskLogsSection(config: Target, folder: string): string[] {
  const iam = config.environment?.iam;
  const roles: Partial<Record<string, string>> = iam?.roles ?? {};
  // The first three write or read the logs and gen requires them; the scheduler and dag-processor upload logs of their own when they have a role.
  const required = ["worker", "triggerer", "apiServer"] as const;
  const optional = (["scheduler", "dagProcessor"] as const).filter((key) => roles[key]);
  const unset = (["scheduler", "dagProcessor"] as const).filter((key) => !roles[key]);
  const holders = [...required, ...optional].map((key) => roles[key] ?? `<${key}-role-arn>`);
  return [
    "## IAM policy for task logs in S3",
    "",
    `Task logs go to \`${folder}\` with each pod's own IAM identity (no connection, no keys). Task pods and the triggerer write,`,
    "the api-server reads, the scheduler and dag-processor upload their own task-related logs.",
    iam?.mode === "podIdentity"
      ? "With EKS Pod Identity, attach this policy to the roles associated with the ServiceAccounts of the worker, triggerer, api-server, scheduler and dag-processor."
      : `With IRSA, attach this policy to ${holders.map((r) => `\`${r}\``).join(", ")} (${[...required, ...optional].map((key) => `\`iam.roles.${key}\``).join(", ")}).` +
        (unset.length > 0 ? ` ${unset.map((key) => `\`iam.roles.${key}\``).join(" and ")} ${unset.length > 1 ? "are" : "is"} not set: give ${unset.length > 1 ? "them a role" : "it a role"} with this policy too for ${unset.length > 1 ? "their" : "its"} own logs to reach S3.` : ""),
    "",
    "```json",
    JSON.stringify(s3LogsPolicy(folder), null, 2),
    "```",
    "",
    ...(config.storage.logs.retention.days !== undefined ? s3LogExpirySection(config, folder, config.storage.logs.retention.days) : []),
  ];
}

/** The bucket's side of `storage.logs.retention`: the cluster cannot delete from S3 (the pods may only read and write). */
function s3LogExpirySection(config: Target, folder: string, days: number): string[] {
  const { bucket, prefix } = s3Location(folder);
  return [
    "## Expiring task logs in S3",
    "",
    `\`storage.logs.retention.days\` is ${days}: an S3 lifecycle rule expires the task logs under \`${folder}\` after as many days`,
    `(S3 counts from each object's creation and deletes within a day or so of the date). Save the rule as \`lifecycle.json\`:`,
    "",
    "```json",
    JSON.stringify(s3LogLifecycle(config, folder, days), null, 2),
    "```",
    "",
    `A put replaces every lifecycle rule of the bucket. Read the bucket's rules first: if it has some (another environment's`,
    `among them when environments share \`${bucket}\`), add the rule above to their \`Rules\` list in \`lifecycle.json\`; if the read`,
    "fails with `NoSuchLifecycleConfiguration`, the bucket has none.",
    "",
    "```sh",
    `aws s3api get-bucket-lifecycle-configuration --bucket ${bucket}`,
    `aws s3api put-bucket-lifecycle-configuration --bucket ${bucket} --lifecycle-configuration file://lifecycle.json`,
    "```",
    "",
    prefix
      ? `The rule's filter is the prefix \`${prefix}/\`: nothing else in the bucket expires.`
      : "The folder is the whole bucket: the rule expires every object in it.",
    "",
  ];
}

export function s3LogLifecycle(config: Target, folder: string, days: number) {
  const { prefix } = s3Location(folder);
  return {
    Rules: [
      {
        ID: `${config.name}-${config.environment!.name}-task-logs`,
        Status: "Enabled",
        Filter: { Prefix: prefix ? `${prefix}/` : "" },
        Expiration: { Days: days },
        // On a versioned bucket an expiry only hides the object behind a delete marker: the old version goes a day later.
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ],
  };
}

function s3Location(folder: string): { bucket: string; prefix: string } {
  const [bucket, ...rest] = folder.replace(/^s3:\/\//, "").split("/");
  return { bucket: bucket!, prefix: rest.filter(Boolean).join("/") };
}

export function s3LogsPolicy(folder: string) {
  const { bucket, prefix } = s3Location(folder);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadWriteTaskLogs",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: `arn:aws:s3:::${bucket}/${prefix ? `${prefix}/` : ""}*`,
      },
      {
        Sid: "ListTaskLogs",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${bucket}`,
        ...(prefix ? { Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } } } : {}),
      },
    ],
  };
}

function adminUserSection(config: Target, admin: SecretParameter): string[] {
  const n = names(config);
  const user = config.airflow.adminUser;
  return [
    "## The first admin user",
    "",
    `The Job \`${n.adminUserJob}\` runs \`airflow users create\` after the migrations on every sync and creates \`${user.username}\``,
    `(role Admin) with the password in \`${admin.parameter}\`. A user that exists already is left as it is, so later syncs`,
    "change nothing; the parameter must still exist (the Job reads its Secret on every sync), but only the first creation uses its value.",
    "Changing the username while keeping the e-mail makes the Job fail on every sync (FAB refuses a second user with that e-mail): change both.",
    "To set a new password afterwards (it asks for the password twice, so it is on no command line or shell history):",
    `\`kubectl -n ${n.namespace} exec -it deploy/${n.component("api-server")} -- airflow users reset-password --username ${user.username}\`.`,
    config.airflow.auth.sso
      ? "Single sign-on is on and `airflow.adminUser.enabled: true` keeps this local user beside it: it signs in to the API with its password (`POST /auth/token`), not to the UI, which offers only the identity provider."
      : "Single sign-on (`airflow.auth.sso`) turns the Job and this parameter off unless `airflow.adminUser.enabled` is true.",
    "",
  ];
}

function ssoSection(config: Target): string[] {
  const sso = config.airflow.auth.sso;
  const host = config.ingress.host;
  if (!sso || !host) return [];
  const roles = Object.entries(sso.roles);
  return [
    "## Single sign-on",
    "",
    `The api-server signs users in through ${sso.provider} with the OAuth client \`${sso.clientId}\`. Register this redirect URI with it:`,
    "",
    `    ${ssoRedirectUri(host, sso.provider)}`,
    "",
    roles.length > 0
      ? `Roles at each sign-in: ${roles.map(([key, value]) => `\`${key}\` → ${value.join(", ")}`).join("; ")}; every user also has ${sso.defaultRole}.`
      : `No group is mapped to a role: every user gets ${sso.defaultRole} (airflow.auth.sso.roles).`,
    config.secrets.reloadOnChange
      ? `A new client secret reaches the api-server within ${config.secrets.refreshInterval} plus one rollout (Reloader); keep the old one valid at the provider until then.`
      : `A new client secret reaches the Secret within ${config.secrets.refreshInterval}; then restart the api-server (\`kubectl -n ${names(config).namespace} rollout restart deploy/${names(config).component("api-server")}\`).`,
    "",
  ];
}

/** The host of a git URL: git@host:org/repo.git, ssh://user@host:22/org/repo.git or https://host/org/repo.git. */
function gitHost(url: string): string {
  const scp = /^[^@/]+@([^:/]+):/.exec(url);
  if (scp) return scp[1]!;
  const port = /^ssh:\/\/(?:[^@/]+@)?([^:/]+):(\d+)/.exec(url);
  if (port) return `-p ${port[2]} ${port[1]}`;
  return /^[a-z]+:\/\/(?:[^@/]+@)?([^:/]+)/.exec(url)?.[1] ?? "<git-host>";
}

/** 32 random bytes as URL-safe base64: a Fernet key, with nothing beyond coreutils. */
const FERNET_KEY_COMMAND = "head -c 32 /dev/urandom | base64 | tr '+/' '-_'";
const RANDOM_SECRET_COMMAND = "head -c 48 /dev/urandom | base64 | tr -d '\\n'";

/** The command that creates one entry, preceded by how to produce its value where that takes a step. */
function putParameter(p: SecretParameter, region: string, host: string): string[] {
  // `--value=`: a value starting with "-" (1 Fernet key in 64) would otherwise be read as an option.
  const put = (value: string) => `aws ssm put-parameter --region ${region} --type SecureString --name ${p.parameter} --value=${value}`;
  const file = p.parameter.split("/").filter(Boolean).slice(-2).join("-");
  if (/Fernet/.test(p.purpose)) return [put(`"$(${FERNET_KEY_COMMAND})"`)];
  if (/secret key|signing secret/.test(p.purpose)) return [put(`"$(${RANDOM_SECRET_COMMAND})"`)];
  if (/SSH private key/.test(p.purpose)) {
    // file:// keeps the key's final newline, without which OpenSSH refuses the key.
    return ["# a deploy key: ssh-keygen -t ed25519 -N '' -C git-sync -f git-sync-key (add git-sync-key.pub to the repository)", put("file://git-sync-key")];
  }
  if (/known_hosts/.test(p.purpose)) return [`ssh-keyscan ${host} > known_hosts   # check the fingerprints against the host's published ones`, put("file://known_hosts")];
  if (/database URL/.test(p.purpose)) {
    return [
      `# ${file}: one line, postgresql://<user>:<password>@<host>:5432/<database>, the password URL-encoded`,
      put(`"$(cat ${file})"`),
    ];
  }
  const part = /database (host|port|name|username)$/.exec(p.purpose)?.[1];
  if (part) return [put(part === "port" ? "5432" : `'<${part === "name" ? "database" : part === "username" ? "user" : "host"}>'`)];
  if (/HTTPS user/.test(p.purpose)) return [put("'<user>'")];
  return [`# ${file}: the ${p.purpose}`, put(`"$(cat ${file})"`)];
}

function iamPolicy(parameters: readonly SecretParameter[], region: string, account: string) {
  const arn = (name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;
  const prefix = commonDirectory(parameters.map((p) => p.parameter));
  const resources = prefix.split("/").length > 2 ? [arn(`${prefix}/*`)] : [...new Set(parameters.map((p) => arn(p.parameter)))].sort();
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadAirflowParameters", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: resources },
      {
        Sid: "DecryptThroughSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: `arn:aws:kms:${region}:${account}:key/*`,
        Condition: { StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` } },
      },
    ],
  };
}

/** The deepest directory (`/airflow/prod`) that holds every parameter, or "" if they share none. */
function commonDirectory(paths: readonly string[]): string {
  const split = paths.map((p) => p.split("/").slice(0, -1));
  const first = split[0] ?? [];
  let depth = 0;
  while (depth < first.length && split.every((s) => s[depth] === first[depth])) depth++;
  return first.slice(0, depth).join("/");
}
