/** How people sign in, as both the config rules and the core read it. */
import type { Config } from "../config/schema.js";
import { DEFAULT_SSO_ROLE, type SsoConfig } from "../config/auth-schema.js";
import { mergeOverrides } from "./overrides.js";

type SignIn = Pick<Config["airflow"], "adminUser" | "auth">;

/** The first admin user's Job: on unless single sign-on is, where a local password user is the exception. */
export function adminUserEnabled(airflow: SignIn): boolean {
  return airflow.adminUser.enabled ?? !airflow.auth.sso;
}

/**
 * An environment's single sign-on: its override merged over the shared one, or the override alone when it
 * names another provider (the shared provider's issuer, tenant or roles mean nothing to that one).
 */
export function environmentSso<T extends { provider?: string }>(shared: T | undefined, own: Partial<T> | undefined): Partial<T> | undefined {
  if (own?.provider !== undefined && shared !== undefined && own.provider !== shared.provider) return own;
  return mergeOverrides<Partial<T> | undefined>(shared, own);
}

/**
 * An environment's Airflow section with its single sign-on resolved and the schema's defaults filled in:
 * an environment that alone signs in states it in an override section, where the schema gives no defaults.
 */
export function resolveSignIn<T extends SignIn>(merged: T, shared: SsoConfig | undefined, own: Partial<SsoConfig> | undefined): T {
  const sso = environmentSso(shared, own);
  if (!sso) return merged;
  const complete = { ...sso, roles: sso.roles ?? {}, defaultRole: sso.defaultRole ?? DEFAULT_SSO_ROLE } as SsoConfig;
  return { ...merged, auth: { ...merged.auth, sso: complete } };
}
