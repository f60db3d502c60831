/**
 * The secrets layer of one environment (`secrets/<env>/`): a store for AWS Parameter Store and one
 * ExternalSecret per Secret the deployment reads, with exactly the names and keys of `secret-refs`.
 * No value ever appears here: only parameter names, which the External Secrets Operator resolves.
 */
import { ClusterSecretStore, ExternalSecret, SecretStore, ServiceAccount } from "./kinds.js";
import type { Manifest } from "./components/types.js";
import { labels } from "./labels.js";
import { toKubeObject } from "./manifest.js";
import { names } from "./names.js";
import { adminUserSecret, airflowSecrets, gitCredentials, ssoClientSecret } from "./secret-refs.js";
import { memoizedByObject } from "./memo.js";
import { adminUserEnabled } from "../shared/sign-in.js";
import { withSyncWaves } from "./sync-waves.js";
import type { Target } from "./target.js";

export const SECRETS_DIR = "secrets";

export function secretsDir(environment: string): string {
  return `${SECRETS_DIR}/${environment}`;
}

/** One key of a Secret and the parameter it comes from. */
export interface SecretParameter {
  secretName: string;
  /** The key in the ExternalSecret's fetched data (for a composed URL, the template's input name). */
  key: string;
  parameter: string;
  purpose: string;
}

interface SecretSpec {
  component: string;
  secretName: string;
  parameters: SecretParameter[];
  /** Keys built from the fetched values with a template instead of copied as they are. */
  template?: Record<string, string>;
}

/**
 * The SQLAlchemy URL from its parts. Go's `urlquery` escapes everything a URL's user-info part cannot
 * hold but writes a space as `+`, which user-info reads as a plus: after it every `+` is a space
 * (a plus itself became `%2B`), so it is rewritten as `%20`.
 */
export function databaseUrlTemplate(sslMode: string): string {
  const userInfo = (key: string) => `{{ .${key} | urlquery | replace "+" "%20" }}`;
  return `postgresql://${userInfo("username")}:${userInfo("password")}@{{ .host }}:{{ .port }}/{{ .name }}?sslmode=${sslMode}`;
}

export function expandParameter(path: string, environment: string): string {
  return path.replaceAll("{env}", environment);
}

/** Every Secret the build reads, as ExternalSecret specs: which parameter fills which key. */
export function secretSpecs(config: Target): SecretSpec[] {
  const env = environmentOf(config);
  const p = config.secrets.parameters;
  const at = (path: string) => expandParameter(path, env);
  const refs = airflowSecrets(config);
  const single = (component: string, ref: (typeof refs)[keyof typeof refs], path: string, purpose: string): SecretSpec => ({
    component,
    secretName: ref.secretName,
    parameters: [{ secretName: ref.secretName, key: ref.key, parameter: at(path), purpose }],
  });
  const db = p.database;
  const database: SecretSpec =
    db.source === "url"
      ? single("metadata-db", refs.databaseUrl, db.url, "metadata database URL (postgresql://<user>:<password>@<host>:5432/<database>)")
      : {
          component: "metadata-db",
          secretName: refs.databaseUrl.secretName,
          parameters: (["host", "port", "name", "username", "password"] as const).map((part) => ({
            secretName: refs.databaseUrl.secretName,
            key: part,
            parameter: at(db[part]),
            purpose: `metadata database ${part}`,
          })),
          template: { [refs.databaseUrl.key]: databaseUrlTemplate(db.sslMode) },
        };
  const specs: SecretSpec[] = [
    single("fernet-key", refs.fernetKey, p.fernetKey, "Fernet key that encrypts connections and variables"),
    database,
    single("api-secret-key", refs.apiSecretKey, p.apiSecretKey, "api-server secret key"),
    single("jwt-secret", refs.jwtSecret, p.jwtSecret, "JWT signing secret of the api-server and the scheduler"),
  ];
  if (adminUserEnabled(config.airflow)) {
    const admin = adminUserSecret(config);
    specs.push({
      component: "admin-user",
      secretName: admin.secretName,
      parameters: [{ secretName: admin.secretName, key: admin.passwordKey, parameter: at(p.adminPassword), purpose: `password of the first admin user \`${config.airflow.adminUser.username}\`` }],
    });
  }
  const sso = config.airflow.auth.sso;
  if (sso) {
    const client = ssoClientSecret(config);
    specs.push({
      component: "sso-client",
      secretName: client.secretName,
      parameters: [{ secretName: client.secretName, key: client.key, parameter: at(p.ssoClientSecret), purpose: `OAuth client secret of the ${sso.provider} client \`${sso.clientId}\` (single sign-on)` }],
    });
  }
  const git = gitCredentials(config);
  const auth = config.dags.gitSync.auth;
  const gitParameters: SecretParameter[] =
    auth === "ssh"
      ? [
          { secretName: git.secretName, key: git.ssh.keyKey, parameter: at(p.git.sshKey), purpose: "git-sync SSH private key" },
          { secretName: git.secretName, key: git.ssh.knownHostsKey, parameter: at(p.git.knownHosts), purpose: "known_hosts of the git server" },
        ]
      : auth === "https"
        ? [
            { secretName: git.secretName, key: git.https.usernameKey, parameter: at(p.git.username), purpose: "git HTTPS user" },
            { secretName: git.secretName, key: git.https.passwordKey, parameter: at(p.git.token), purpose: "git HTTPS token" },
          ]
        : [];
  if (gitParameters.length > 0) specs.push({ component: "git-credentials", secretName: git.secretName, parameters: gitParameters });
  return specs;
}

function environmentOf(config: Target): string {
  const env = config.environment?.name;
  if (!env) throw new Error("the secrets layer belongs to an environment");
  return env;
}

export const secretsManifests = memoizedByObject(function secretsManifests(config: Target): Manifest[] {
  const n = names(config);
  const env = environmentOf(config);
  const iam = config.environment?.iam;
  const irsa = (iam?.mode ?? "irsa") === "irsa";
  const cluster = config.secrets.store === "ClusterSecretStore";
  const storeName = cluster ? n.clusterSecretStore : n.secretStore;
  const provider = {
    aws: {
      service: "ParameterStore" as const,
      region: config.aws.region,
      ...(irsa
        ? {
            auth: {
              jwt: {
                serviceAccountRef: { name: n.externalSecretsServiceAccount, ...(cluster ? { namespace: n.namespace } : {}) },
              },
            },
          }
        : {}),
    },
  };
  const store = cluster
    ? new ClusterSecretStore({
        metadata: { name: storeName, labels: labels(config, "external-secrets") },
        // Only this environment's namespace may read through the store.
        spec: { provider, conditions: [{ namespaces: [n.namespace] }] },
      })
    : new SecretStore({ metadata: { name: storeName, namespace: n.namespace, labels: labels(config, "external-secrets") }, spec: { provider } });

  const manifests: Manifest[] = [{ component: "parameter-store", object: toKubeObject(store) }];
  if (irsa) {
    const role = iam?.roles.secrets;
    if (!role) throw new Error(`environment ${env}: IRSA needs iam.roles.secrets`);
    manifests.push({
      component: "external-secrets",
      object: toKubeObject(
        new ServiceAccount({
          metadata: {
            name: n.externalSecretsServiceAccount,
            namespace: n.namespace,
            labels: labels(config, "external-secrets"),
            annotations: { "eks.amazonaws.com/role-arn": role, "eks.amazonaws.com/sts-regional-endpoints": "true" },
          },
          automountServiceAccountToken: false,
        }),
      ),
    });
  }
  for (const spec of secretSpecs(config)) {
    manifests.push({ component: spec.component, object: externalSecret(config, spec, storeName, cluster ? "ClusterSecretStore" : "SecretStore") });
  }
  return withSyncWaves(manifests);
});

function externalSecret(config: Target, spec: SecretSpec, storeName: string, storeKind: "SecretStore" | "ClusterSecretStore") {
  const n = names(config);
  return toKubeObject(
    new ExternalSecret({
      metadata: { name: spec.secretName, namespace: n.namespace, labels: labels(config, "external-secrets") },
      spec: {
        refreshInterval: config.secrets.refreshInterval,
        refreshPolicy: "Periodic",
        secretStoreRef: { name: storeName, kind: storeKind },
        target: {
          name: spec.secretName,
          creationPolicy: "Owner",
          deletionPolicy: "Retain",
          ...(spec.template
            ? { template: { type: "Opaque", engineVersion: "v2", mergePolicy: "Replace", data: spec.template } }
            : {}),
        },
        // The operator's defaults, written out so Argo CD sees no drift against older ESO versions.
        data: spec.parameters.map((p) => ({
          secretKey: p.key,
          remoteRef: { key: p.parameter, conversionStrategy: "Default", decodingStrategy: "None", metadataPolicy: "None" },
        })),
      },
    }),
  );
}
