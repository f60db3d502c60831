/**
 * The Secrets Airflow reads and the keys inside them. The base wires them into containers; the
 * secrets layer creates them with ExternalSecrets. Both use this module, so a name is typed once.
 */
import type { Config } from "../config/schema.js";

export interface SecretKeyRef {
  /** Logical id, also the config key of its Parameter Store path. */
  id: "fernetKey" | "databaseUrl" | "apiSecretKey" | "jwtSecret";
  secretName: string;
  key: string;
  /** The environment variable Airflow reads it from. */
  env: string;
}

export function airflowSecrets(config: Pick<Config, "name">): Record<SecretKeyRef["id"], SecretKeyRef> {
  const n = config.name;
  return {
    fernetKey: { id: "fernetKey", secretName: `${n}-fernet-key`, key: "fernet-key", env: "AIRFLOW__CORE__FERNET_KEY" },
    databaseUrl: {
      id: "databaseUrl",
      secretName: `${n}-metadata-db`,
      key: "connection",
      env: "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    },
    apiSecretKey: { id: "apiSecretKey", secretName: `${n}-api-secret-key`, key: "api-secret-key", env: "AIRFLOW__API__SECRET_KEY" },
    jwtSecret: { id: "jwtSecret", secretName: `${n}-jwt-secret`, key: "jwt-secret", env: "AIRFLOW__API_AUTH__JWT_SECRET" },
  };
}

/** git-sync credentials: an SSH key with known_hosts, or an HTTPS username and token. */
export function gitCredentials(config: Pick<Config, "name">) {
  return {
    secretName: `${config.name}-git-credentials`,
    ssh: { keyKey: "ssh-privatekey", knownHostsKey: "known_hosts" },
    https: { usernameKey: "username", passwordKey: "password" },
  };
}

/** The first admin user's password, read only by the Job that creates the user. */
export function adminUserSecret(config: Pick<Config, "name">) {
  return { secretName: `${config.name}-admin-user`, passwordKey: "password", env: "ADMIN_PASSWORD" };
}

/** The OAuth client secret of single sign-on, read by the api-server's webserver_config.py. */
export function ssoClientSecret(config: Pick<Config, "name">) {
  return { secretName: `${config.name}-sso-client`, key: "client-secret", env: "SSO_CLIENT_SECRET" };
}
