/**
 * `airflow.auth`: how people sign in to the Airflow UI and API. Without `sso`, the FAB auth manager's own
 * user database (the first admin user comes from `airflow.adminUser`); with it, sign-in through the
 * company's identity provider, the FAB auth manager mapping the provider's groups to Airflow roles.
 */
import { Type, type Static } from "@sinclair/typebox";
import { P, StringEnum, closed } from "./schema-kit.js";

/** The roles the FAB auth manager creates and keeps up to date on every api-server start. */
export const FAB_ROLES = ["Admin", "Op", "User", "Viewer", "Public"] as const;

/** Signed in, allowed nothing: what a user none of whose groups is mapped gets. */
export const DEFAULT_SSO_ROLE = "Public";

export const SSO_PROVIDERS = ["oidc", "okta", "entra-id", "google", "github"] as const;
export type SsoProvider = (typeof SSO_PROVIDERS)[number];

const Role = StringEnum(FAB_ROLES, { description: "A role of the FAB auth manager." });

const Claims = Type.Object(
  {
    username: Type.Optional(
      Type.String({
        pattern: P.claimName,
        description:
          "Claim that becomes the Airflow username (default preferred_username; oid for entra-id, the account's immutable id). " +
          "Use a claim users cannot change: FAB signs a user in as the existing user of that name (the local admin's name is refused; " +
          "email is taken only when email_verified is true).",
        examples: ["preferred_username"],
      }),
    ),
    email: Type.Optional(Type.String({ pattern: P.claimName, description: "Claim holding the e-mail address (default email).", examples: ["email"] })),
    groups: Type.Optional(
      Type.String({
        pattern: P.claimName,
        description: "Claim holding the user's groups, the keys of `roles` (default groups; roles for entra-id, its app roles).",
        examples: ["groups"],
      }),
    ),
  },
  {
    ...closed,
    description: "Which ID token or userinfo claims carry the user's identity (oidc, okta and entra-id).",
    examples: [{ username: "email", groups: "https://acme.com/claims/groups" }],
  },
);

export const Sso = Type.Object(
  {
    provider: StringEnum(SSO_PROVIDERS, {
      description:
        "The identity provider: oidc (any OpenID Connect issuer: Keycloak, Auth0, Authentik, Dex, ...), okta, entra-id " +
        "(Microsoft Entra ID), google (Google Workspace) or github (an organization's members, roles by team).",
    }),
    clientId: Type.String({
      pattern: P.oauthClientId,
      description:
        "The OAuth client (application) id registered with the provider. Its redirect URI is " +
        "https://<ingress.host>/auth/oauth-authorized/<provider>; its secret comes from Parameter Store (secrets.parameters.ssoClientSecret).",
      examples: ["0oa1b2c3d4e5f6g7h8i9"],
    }),
    issuer: Type.Optional(
      Type.String({
        pattern: P.httpsUrl,
        description:
          "The OpenID Connect issuer (oidc and okta), whose /.well-known/openid-configuration gives every endpoint and the signing keys: " +
          "https://acme.okta.com (Okta's org server) or https://acme.okta.com/oauth2/default, https://sso.example.com/realms/airflow (Keycloak).",
        examples: ["https://acme.okta.com"],
      }),
    ),
    tenantId: Type.Optional(
      Type.String({
        pattern: P.entraTenant,
        description: "The Entra ID tenant (entra-id): its id, or a verified domain like acme.onmicrosoft.com.",
        examples: ["72f988bf-86f1-41af-91ab-2d7cd011db47"],
      }),
    ),
    hostedDomain: Type.Optional(
      Type.String({
        pattern: P.hostname,
        description: "The Google Workspace domain whose accounts may sign in (google); any other Google account is refused.",
        examples: ["acme.com"],
      }),
    ),
    organization: Type.Optional(
      Type.String({
        pattern: P.githubLogin,
        description: "The GitHub organization whose members may sign in (github); `roles` is keyed by its team slugs.",
        examples: ["acme"],
      }),
    ),
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: P.oauthScope }), {
        minItems: 1,
        uniqueItems: true,
        description:
          "The scopes asked for, replacing the provider's defaults (oidc and okta: openid email profile groups; entra-id: openid email profile; " +
          "google: openid email profile; github: read:user user:email read:org).",
        examples: [["openid", "email", "profile", "groups"]],
      }),
    ),
    claims: Type.Optional(Claims),
    roles: Type.Record(Type.String({ pattern: P.ssoRoleKey }), Type.Array(Role, { minItems: 1, uniqueItems: true }), {
      ...closed,
      description:
        "Airflow roles by the provider's group: a group name or id (oidc, okta, entra-id: the groups claim), an e-mail address (google, " +
        "which has no groups) or a team slug of the organization (github). A user's roles are set again at each sign-in.",
      default: {},
      examples: [{ "airflow-admins": ["Admin"], "data-engineers": ["User"], analysts: ["Viewer"] }],
    }),
    defaultRole: StringEnum(FAB_ROLES, {
      description:
        "The role every signed-in user has on top of what `roles` maps their groups to (FAB's registration role). Public, the default, " +
        "lets a user none of whose groups is mapped sign in and see nothing.",
      default: DEFAULT_SSO_ROLE,
    }),
  },
  {
    ...closed,
    required: ["provider", "clientId"],
    description: "Single sign-on through the FAB auth manager's OAuth support.",
    examples: [{ provider: "okta", clientId: "0oa1b2c3d4e5f6g7h8i9", issuer: "https://acme.okta.com", roles: { "airflow-admins": ["Admin"] } }],
  },
);

export const Auth = Type.Object(
  { sso: Type.Optional(Sso) },
  {
    ...closed,
    description:
      "How people sign in. Without sso: FAB's own users (the first from airflow.adminUser). With sso: the identity provider; " +
      "the generator writes webserver_config.py into the airflow ConfigMap and mounts it in the api-server.",
    default: {},
  },
);

export type SsoConfig = Static<typeof Sso>;
