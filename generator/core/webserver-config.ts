/**
 * webserver_config.py for single sign-on: the FAB auth manager's Flask settings (OAuth sign-in, self
 * registration, group-to-role mapping) and a security manager that reads each provider's identity the
 * same way. The api-server loads it from `[fab] config_file`; the client secret is read from the
 * environment, never written here. The config's values become Python literals, never code.
 */
import type { SsoConfig, SsoProvider } from "../config/auth-schema.js";
import { ssoClientSecret } from "./secret-refs.js";
import { adminUserEnabled } from "../shared/sign-in.js";
import type { Target } from "./target.js";

export const WEBSERVER_CONFIG_KEY = "webserver_config.py";

/** The provider's name in FAB: the last step of the redirect URI and the label of the sign-in button. */
export function ssoProviderName(provider: SsoProvider): string {
  return provider;
}

/** Where the provider sends the user back: what its OAuth client must list as a redirect URI. */
export function ssoRedirectUri(host: string, provider: SsoProvider): string {
  return `https://${host}/auth/oauth-authorized/${ssoProviderName(provider)}`;
}

interface ProviderSettings {
  icon: string;
  scopes: readonly string[];
  /** Authlib's registration arguments (the client id and secret are added to them). */
  remote: Record<string, unknown>;
  /** How the identity is read: from the verified ID token (and userinfo), or GitHub's REST API. */
  reader: "oidc" | "google" | "github";
  claims: { username: string; email: string; groups: string };
}

const OIDC_SCOPES = ["openid", "email", "profile", "groups"];

function discovery(issuer: string): Record<string, unknown> {
  return { server_metadata_url: `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration` };
}

function providerSettings(sso: SsoConfig): ProviderSettings {
  const claims = (defaults: { username: string; groups: string }) => ({
    username: sso.claims?.username ?? defaults.username,
    email: sso.claims?.email ?? "email",
    groups: sso.claims?.groups ?? defaults.groups,
  });
  const oidc = claims({ username: "preferred_username", groups: "groups" });
  switch (sso.provider) {
    case "oidc":
      return { icon: "fa-openid", scopes: OIDC_SCOPES, remote: discovery(sso.issuer!), reader: "oidc", claims: oidc };
    case "okta":
      // A custom authorization server (…/oauth2/<id>) defines no `groups` scope: its groups claim is configured on the server.
      return {
        icon: "fa-circle-o",
        scopes: /\/oauth2\/[^/]+\/?$/.test(sso.issuer!) ? ["openid", "email", "profile"] : OIDC_SCOPES,
        remote: discovery(sso.issuer!),
        reader: "oidc",
        claims: oidc,
      };
    case "entra-id":
      // `oid` is the account's immutable id (preferred_username and email can be changed by the user or an admin);
      // app roles arrive in `roles`, group ids in `groups` once the app registration emits them.
      return {
        icon: "fa-windows",
        scopes: ["openid", "email", "profile"],
        remote: discovery(`https://login.microsoftonline.com/${sso.tenantId!}/v2.0`),
        reader: "oidc",
        claims: claims({ username: "oid", groups: "roles" }),
      };
    case "google":
      return {
        icon: "fa-google",
        scopes: ["openid", "email", "profile"],
        // `hd` only preselects the domain's accounts; the ID token's `hd` claim is what is checked.
        remote: { ...discovery("https://accounts.google.com"), authorize_params: { hd: sso.hostedDomain! } },
        reader: "google",
        claims: { username: "email", email: "email", groups: "email" },
      };
    case "github":
      return {
        icon: "fa-github",
        scopes: ["read:user", "user:email", "read:org"],
        remote: {
          api_base_url: "https://api.github.com/",
          access_token_url: "https://github.com/login/oauth/access_token",
          authorize_url: "https://github.com/login/oauth/authorize",
        },
        reader: "github",
        claims: { username: "login", email: "email", groups: "teams" },
      };
  }
}

/** The ports the api-server calls during a sign-in (discovery, token, keys, userinfo). */
export function ssoPorts(sso: SsoConfig): number[] {
  const settings = providerSettings(sso);
  const urls = [settings.remote.server_metadata_url, settings.remote.access_token_url, settings.remote.api_base_url].filter(
    (u): u is string => typeof u === "string",
  );
  return [...new Set(urls.map((u) => Number(new URL(u).port || 443)))];
}

export function webserverConfig(config: Target): string | undefined {
  const sso = config.airflow.auth.sso;
  if (!sso) return undefined;
  const settings = providerSettings(sso);
  const name = ssoProviderName(sso.provider);
  const remote = {
    client_id: sso.clientId,
    client_secret: new PythonCode(`os.environ[${JSON.stringify(ssoClientSecret(config).env)}]`),
    ...settings.remote,
    client_kwargs: {
      scope: (sso.scopes ?? settings.scopes).join(" "),
      // PKCE: an authorization code is useless to whoever intercepts it without the verifier.
      ...(settings.reader !== "github" ? { code_challenge_method: "S256" } : {}),
    },
  };
  const roles = Object.fromEntries(Object.keys(sso.roles).sort().map((key) => [key, sso.roles[key]!]));
  const lines = [
    `"""Sign-in through ${sso.provider} (airflow.auth.sso), read by the api-server from [fab] config_file. Generated: edit the config, not this file."""`,
    "",
    "import logging",
    "import os",
    "",
    "from flask_appbuilder.security.manager import AUTH_OAUTH",
    "",
    "from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride",
    "",
    "log = logging.getLogger(__name__)",
    "",
    "AUTH_TYPE = AUTH_OAUTH",
    "# A first sign-in creates the user; every sign-in sets its roles from the provider's groups again.",
    "AUTH_USER_REGISTRATION = True",
    `AUTH_USER_REGISTRATION_ROLE = ${py(sso.defaultRole)}`,
    "AUTH_ROLES_SYNC_AT_LOGIN = True",
    `AUTH_ROLES_MAPPING = ${py(roles, 0)}`,
    "",
    `OAUTH_PROVIDERS = [`,
    `    {`,
    `        "name": ${py(name)},`,
    `        "icon": ${py(settings.icon)},`,
    `        "token_key": "access_token",`,
    `        "remote_app": ${py(remote, 2)},`,
    `    }`,
    `]`,
    "",
    `CLIENT_ID = ${py(sso.clientId)}`,
    "# A provider's user with a local user's name would sign in as that user: refused.",
    `RESERVED_USERNAMES = ${py(reservedUsernames(config))}`,
    `USERNAME_CLAIM = ${py(settings.claims.username)}`,
    `EMAIL_CLAIM = ${py(settings.claims.email)}`,
    `GROUPS_CLAIM = ${py(settings.claims.groups)}`,
    ...(sso.hostedDomain ? [`HOSTED_DOMAIN = ${py(sso.hostedDomain)}`] : []),
    ...(sso.organization ? [`ORGANIZATION = ${py(sso.organization.toLowerCase())}`] : []),
    "",
    "",
    ...READERS[settings.reader],
    "",
    "",
    "class SingleSignOnSecurityManager(FabAirflowSecurityManagerOverride):",
    "    def get_oauth_user_info(self, provider, resp):",
    "        return read_identity(self.oauth_remotes[provider], resp)",
    "",
    "",
    "SECURITY_MANAGER_CLASS = SingleSignOnSecurityManager",
    "",
  ];
  return lines.join("\n");
}

/** The local users the generator creates, whose names no provider's user may take (FAB matches names without case). */
function reservedUsernames(config: Target): string[] {
  return adminUserEnabled(config.airflow) ? [config.airflow.adminUser.username.toLowerCase()] : [];
}

/** An expression written into the file as it is (the one place: the secret's env lookup). */
class PythonCode {
  constructor(readonly code: string) {}
}

const NAMES = [
  "",
  "",
  "def _names(claims):",
  '    return {"first_name": str(claims.get("given_name") or ""), "last_name": str(claims.get("family_name") or "")}',
];

/** Python for each way of reading an identity; FAB refuses the sign-in when it gets no username. */
const READERS: Record<ProviderSettings["reader"], string[]> = {
  oidc: [
    "def read_identity(remote, token):",
    "    # Authlib verified the ID token (signature, issuer, audience, nonce) before this is called.",
    '    claims = dict(token.get("userinfo") or {})',
    '    if not claims.get("sub"):',
    '        log.error("single sign-on: the provider returned no verified ID token")',
    "        return {}",
    '    if remote.load_server_metadata().get("userinfo_endpoint"):',
    "        info = dict(remote.userinfo(token=token))",
    '        if info.get("sub") != claims["sub"]:',
    '            log.error("single sign-on: the userinfo subject differs from the ID token\'s")',
    "            return {}",
    "        claims.update(info)",
    '    audience = claims.get("aud")',
    "    if CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):",
    '        log.error("single sign-on: the ID token is for %s, not this client", audience)',
    "        return {}",
    "    username = claims.get(USERNAME_CLAIM)",
    "    if not username:",
    '        log.error("single sign-on: the provider sent no %s claim for subject %s", USERNAME_CLAIM, claims["sub"])',
    "        return {}",
    '    if USERNAME_CLAIM == "email" and claims.get("email_verified") is not True:',
    '        log.warning("single sign-on: refused subject %s, whose e-mail (the username) is not verified", claims["sub"])',
    "        return {}",
    "    if str(username).lower() in RESERVED_USERNAMES:",
    '        log.warning("single sign-on: refused subject %s, whose username %s is a local user\'s", claims["sub"], username)',
    "        return {}",
    "    groups = claims.get(GROUPS_CLAIM) or []",
    "    if isinstance(groups, str):",
    "        groups = [groups]",
    '    return {"username": str(username), "email": str(claims.get(EMAIL_CLAIM) or ""), "role_keys": [str(g) for g in groups], **_names(claims)}',
    ...NAMES,
  ],
  google: [
    "def read_identity(remote, token):",
    "    # Authlib verified the ID token (signature, issuer, audience, nonce) before this is called.",
    '    claims = dict(token.get("userinfo") or {})',
    '    if claims.get("hd") != HOSTED_DOMAIN or claims.get("email_verified") is not True or not claims.get("email"):',
    '        log.warning("single sign-on: refused a Google account outside %s or with an unverified e-mail", HOSTED_DOMAIN)',
    "        return {}",
    '    email = str(claims["email"])',
    "    if email.lower() in RESERVED_USERNAMES:",
    '        log.warning("single sign-on: refused %s, a local user\'s name", email)',
    "        return {}",
    '    return {"username": email, "email": email, "role_keys": [email], **_names(claims)}',
    ...NAMES,
  ],
  github: [
    "def _pages(remote, path, token):",
    "    items, page = [], 1",
    "    while True:",
    '        response = remote.get(path, params={"per_page": 100, "page": page}, token=token)',
    "        response.raise_for_status()",
    "        batch = response.json()",
    "        items.extend(batch)",
    "        if len(batch) < 100:",
    "            return items",
    "        page += 1",
    "",
    "",
    "def read_identity(remote, token):",
    '    membership = remote.get(f"user/memberships/orgs/{ORGANIZATION}", token=token)',
    "    # Billing managers have an active membership too, but are not members.",
    '    if membership.status_code != 200 or membership.json().get("state") != "active" or membership.json().get("role") not in ("admin", "member"):',
    '        log.warning("single sign-on: refused a GitHub user who is not an active member of %s", ORGANIZATION)',
    "        return {}",
    '    user = remote.get("user", token=token)',
    "    user.raise_for_status()",
    "    user = user.json()",
    '    if str(user["login"]).lower() in RESERVED_USERNAMES:',
    '        log.warning("single sign-on: refused GitHub user %s, a local user\'s name", user["login"])',
    "        return {}",
    '    emails = [e for e in _pages(remote, "user/emails", token) if e.get("verified")]',
    '    email = next((e["email"] for e in emails if e.get("primary")), emails[0]["email"] if emails else "")',
    '    teams = [t["slug"] for t in _pages(remote, "user/teams", token) if t["organization"]["login"].lower() == ORGANIZATION]',
    '    name = str(user.get("name") or user["login"]).split(" ", 1)',
    "    return {",
    '        "username": str(user["login"]),',
    '        "email": email,',
    '        "first_name": name[0],',
    '        "last_name": name[1] if len(name) > 1 else "",',
    '        "role_keys": teams,',
    "    }",
  ],
};

/**
 * A Python literal of a JSON-like value (a JSON string is a valid Python string): on one line, or with
 * `indent`, one entry per line at that depth.
 */
function py(value: unknown, indent?: number): string {
  const pad = (n: number) => "    ".repeat(n);
  if (value instanceof PythonCode) return value.code;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => py(v)).join(", ")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    if (indent === undefined) return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${py(v)}`).join(", ")}}`;
    return `{\n${entries.map(([k, v]) => `${pad(indent + 1)}${JSON.stringify(k)}: ${py(v, indent + 1)},`).join("\n")}\n${pad(indent)}}`;
  }
  throw new Error(`webserver_config.py: no Python literal for ${String(value)}`);
}
