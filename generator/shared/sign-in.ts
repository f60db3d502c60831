/** How people sign in, as both the config rules and the core read it. */
import type { Config } from "../config/schema.js";
import { DEFAULT_SSO_ROLE } from "../config/auth-schema.js";

type SignIn = Pick<Config["airflow"], "adminUser" | "auth">;

/** The first admin user's Job: on unless single sign-on is, where a local password user is the exception. */
export function adminUserEnabled(airflow: SignIn): boolean {
  return airflow.adminUser.enabled ?? !airflow.auth.sso;
}

/**
 * An environment's single sign-on with the schema's defaults filled in: an environment that alone signs
 * in states it in an override section, where the schema gives no defaults.
 */
export function withSsoDefaults<T extends SignIn>(airflow: T): T {
  const sso = airflow.auth.sso;
  if (!sso || (sso.roles && sso.defaultRole)) return airflow;
  return { ...airflow, auth: { ...airflow.auth, sso: { ...sso, roles: sso.roles ?? {}, defaultRole: sso.defaultRole ?? DEFAULT_SSO_ROLE } } };
}
