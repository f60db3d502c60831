/**
 * Rules of single sign-on that JSON Schema cannot express, over what each environment resolves to (an
 * environment may override any field): each provider's own fields, the auth manager it runs in, and the
 * host the provider sends users back to.
 */
import type { Config } from "./schema.js";
import type { SsoConfig, SsoProvider } from "./auth-schema.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import type { Rule } from "./rules.js";
import { FAB_AUTH_MANAGER } from "../shared/airflow-settings.js";
import { mergeOverrides } from "../shared/overrides.js";
import { environmentSso } from "../shared/sign-in.js";
import { WEBSERVER_CONFIG_PATH } from "../shared/airflow-settings.js";
import { PATTERNS } from "./schema-kit.js";

type ProviderField = "issuer" | "tenantId" | "hostedDomain" | "organization" | "claims";

/** The fields each provider needs, and those it has no use for. */
const FIELDS: Record<SsoProvider, { needs: ProviderField[]; takes: ProviderField[] }> = {
  oidc: { needs: ["issuer"], takes: ["issuer", "claims"] },
  okta: { needs: ["issuer"], takes: ["issuer", "claims"] },
  "entra-id": { needs: ["tenantId"], takes: ["tenantId", "claims"] },
  google: { needs: ["hostedDomain"], takes: ["hostedDomain"] },
  github: { needs: ["organization"], takes: ["organization"] },
};

const ROLE_KEYS: Partial<Record<SsoProvider, { pattern: RegExp; what: string }>> = {
  google: { pattern: new RegExp(PATTERNS.email[0]), what: "an e-mail address (Google sends no groups)" },
  github: { pattern: /^[a-z0-9][a-z0-9_-]*$/, what: "a team slug of the organization (lower-case, like data-platform)" },
};

interface ResolvedSso {
  environment: string;
  sso: Partial<SsoConfig>;
  /** Where a field is set: in the environment's override or at the top level. */
  at: (field: string, ...rest: (string | number)[]) => string;
}

function resolvedSso(config: Config): ResolvedSso[] {
  const top = config.airflow.auth.sso;
  return Object.entries(config.environments).flatMap(([environment, env]) => {
    const own = env.airflow?.auth?.sso as Partial<SsoConfig> | undefined;
    const sso = environmentSso(top, own);
    if (!sso) return [];
    const alone = own !== undefined && (top === undefined || sso === own);
    const at = (field: string, ...rest: (string | number)[]) =>
      joinPath([...(own && (own[field as keyof SsoConfig] !== undefined || alone) ? ["environments", environment] : []), "airflow", "auth", "sso", field, ...rest]);
    return [{ environment, sso, at }];
  });
}

const providerFieldsFit: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  // A top-level field is reported once, not once per environment that inherits it.
  const add = (issue: ConfigIssue) => issues.has(issue.path) || issues.set(issue.path, issue);
  for (const { environment, sso, at } of resolvedSso(config)) {
    const where = (path: string) => (path.startsWith("environments.") ? ` (environment ${environment})` : "");
    if (!sso.provider || !sso.clientId) {
      const path = at(sso.provider ? "clientId" : "provider");
      add({ path, message: `is required for single sign-on${where(path)}` });
      continue;
    }
    const fields = FIELDS[sso.provider];
    for (const field of fields.needs) {
      if (sso[field] === undefined) add({ path: at(field), message: `is required with provider ${sso.provider}${where(at(field))}` });
    }
    for (const field of ["issuer", "tenantId", "hostedDomain", "organization", "claims"] as const) {
      if (sso[field] !== undefined && !fields.takes.includes(field)) {
        add({ path: at(field), message: `has no meaning for provider ${sso.provider}: remove it (it takes ${fields.takes.join(", ")})` });
      }
    }
    const port = sso.issuer !== undefined ? /^https:\/\/[^/:]+:(\d+)/.exec(sso.issuer)?.[1] : undefined;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) add({ path: at("issuer"), message: `has port ${port}: a port is 1 to 65535` });
    const keys = ROLE_KEYS[sso.provider];
    for (const key of Object.keys(sso.roles ?? {})) {
      if (keys && !keys.pattern.test(key)) add({ path: at("roles", key), message: `must be ${keys.what} with provider ${sso.provider}` });
    }
  }
  return [...issues.values()];
};

/**
 * OAuth sign-in is the FAB auth manager's, reading webserver_config.py where `[fab] config_file` points by
 * default; another auth manager, or another path, would leave the api-server on password sign-in.
 */
const ssoNeedsFab: Rule = (config) => {
  const issues = new Map<string, ConfigIssue>();
  for (const { environment, at } of resolvedSso(config)) {
    const env = config.environments[environment]!;
    const ownFile = env.airflow?.config?.fab?.config_file;
    if (ownFile !== undefined || config.airflow.config.fab?.config_file !== undefined) {
      const path = joinPath([...(ownFile !== undefined ? ["environments", environment] : []), "airflow", "config", "fab", "config_file"]);
      issues.set(path, { path, message: `is set by the generator while airflow.auth.sso is on (at ${at("provider")}): the api-server reads its sign-in settings from ${WEBSERVER_CONFIG_PATH}` });
    }
    const own = env.airflow?.config?.core?.auth_manager;
    const manager = String(own ?? config.airflow.config.core?.auth_manager ?? FAB_AUTH_MANAGER);
    if (manager === FAB_AUTH_MANAGER) continue;
    const path = joinPath([...(own !== undefined ? ["environments", environment] : []), "airflow", "config", "core", "auth_manager"]);
    issues.set(path, { path, message: `is ${manager}, but airflow.auth.sso (at ${at("provider")}) signs in through the FAB auth manager, ${FAB_AUTH_MANAGER}` });
  }
  return [...issues.values()];
};

/** The provider sends users back to the api-server by its public URL, which its OAuth client must list. */
const ssoNeedsHost: Rule = (config) =>
  resolvedSso(config).flatMap(({ environment, sso, at }) => {
    const host = mergeOverrides(config.ingress, config.environments[environment]!.ingress).host;
    return host || !sso.provider
      ? []
      : [
          {
            path: at("provider"),
            message:
              `needs ingress.host in environment ${environment}: the identity provider sends users back to ` +
              `https://<ingress.host>/auth/oauth-authorized/${sso.provider}, which its OAuth client must list`,
          },
        ];
  });

export const AUTH_RULES: readonly Rule[] = [providerFieldsFit, ssoNeedsFab, ssoNeedsHost];
