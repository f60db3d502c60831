/**
 * Single sign-on (airflow.auth.sso): webserver_config.py for each provider in the airflow ConfigMap,
 * mounted in the api-server with the client secret from its ExternalSecret; the admin-user Job off unless
 * kept; each provider's fields, the auth manager and the ingress host checked with file, field and line.
 * (A full sign-in through a real OpenID provider: test/e2e/airflow-sso.test.ts.)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { generate } from "../generator/core/index.js";
import { secretsManifests } from "../generator/core/secrets.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { renderAll } from "../generator/render/render.js";
import { editYaml, exampleProblems, exampleWith, genIn, snapshot, tempProject } from "./helpers.js";

const OKTA = { provider: "okta", clientId: "0oa1b2c3d4e5f6g7h8i9", issuer: "https://acme.okta.com", roles: { "airflow-admins": ["Admin"], "data-engineers": ["User", "Viewer"] } };
const PROVIDERS: Record<string, object> = {
  oidc: { provider: "oidc", clientId: "airflow", issuer: "https://sso.example.com/realms/airflow/", claims: { username: "email", groups: "https://example.com/groups" } },
  okta: OKTA,
  "entra-id": { provider: "entra-id", clientId: "11111111-2222-3333-4444-555555555555", tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47", roles: { "Airflow.Admin": ["Admin"] } },
  google: { provider: "google", clientId: "123-abc.apps.googleusercontent.com", hostedDomain: "acme.com", roles: { "alice@acme.com": ["Admin"] } },
  github: { provider: "github", clientId: "Iv1.0123456789abcdef", organization: "Acme", roles: { "data-platform": ["Op"] } },
};

const withSso = (sso: object, more: (d: any) => void = () => {}) =>
  exampleWith((d) => {
    d.airflow.auth = { sso };
    more(d);
  });
const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const webserverConfigOf = (c: Config, env = "prod"): string | undefined => find(objectsOf(c, env), "ConfigMap", "airflow-config").data["webserver_config.py"];

/** Python's own parser on the file (a quoting mistake is a syntax error here, not in the pod); returns the named constant's value. */
function pythonConstant(text: string, name: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-sso-"));
  try {
    writeFileSync(join(dir, "webserver_config.py"), text);
    const script =
      "import ast, json, sys\n" +
      "tree = ast.parse(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1])\n" +
      "values = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}\n" +
      "print(json.dumps(ast.literal_eval(values[sys.argv[2]]) if sys.argv[2] in values else None))\n";
    return JSON.parse(execFileSync("python3", ["-c", script, join(dir, "webserver_config.py"), name], { encoding: "utf8" }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("single sign-on", () => {
  for (const [name, sso] of Object.entries(PROVIDERS)) {
    it(`writes a webserver_config.py for ${name} that Python parses`, () => {
      const text = webserverConfigOf(withSso(sso))!;
      expect(pythonConstant(text, "AUTH_ROLES_MAPPING")).toEqual((sso as { roles?: object }).roles ?? {});
      expect(text).toContain("AUTH_TYPE = AUTH_OAUTH");
      expect(text).toContain(`"name": "${name}"`);
      expect(text).toContain('"client_secret": os.environ["SSO_CLIENT_SECRET"]');
      expect(text).toContain("SECURITY_MANAGER_CLASS = SingleSignOnSecurityManager");
    });
  }

  it("takes each provider's endpoints and claims from its preset or the config", () => {
    const text = (name: string) => webserverConfigOf(withSso(PROVIDERS[name]!))!;
    expect(text("oidc")).toContain('"server_metadata_url": "https://sso.example.com/realms/airflow/.well-known/openid-configuration"');
    expect(text("oidc")).toContain('USERNAME_CLAIM = "email"\nEMAIL_CLAIM = "email"\nGROUPS_CLAIM = "https://example.com/groups"');
    expect(text("entra-id")).toContain('"server_metadata_url": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"');
    expect(text("entra-id")).toContain('GROUPS_CLAIM = "roles"');
    expect(text("google")).toContain('"authorize_params": {\n                "hd": "acme.com",\n            },');
    expect(text("google")).toContain('HOSTED_DOMAIN = "acme.com"');
    expect(text("github")).toContain('"authorize_url": "https://github.com/login/oauth/authorize"');
    expect(text("github")).toContain('ORGANIZATION = "acme"');
    expect(text("okta")).toContain('AUTH_ROLES_MAPPING = {\n    "airflow-admins": ["Admin"],\n    "data-engineers": ["User", "Viewer"],\n}');
    expect(text("okta")).toContain('"scope": "openid email profile groups"');
    expect(text("okta")).toContain('AUTH_USER_REGISTRATION_ROLE = "Public"');
  });

  it("writes the config's strings as Python literals, never as code", () => {
    const hostile = `"] + __import__("os").system("id") + ["\\'""" é`;
    const text = webserverConfigOf(withSso({ ...OKTA, roles: { [hostile]: ["Admin"] } }))!;
    expect(pythonConstant(text, "AUTH_ROLES_MAPPING")).toEqual({ [hostile]: ["Admin"] });
  });

  it("mounts webserver_config.py in the api-server only, with the client secret from its ExternalSecret", () => {
    const config = withSso(OKTA);
    const objects = objectsOf(config, "prod");
    const api = find(objects, "Deployment", "airflow-api-server").spec.template.spec.containers[0];
    expect(api.volumeMounts).toContainEqual({ name: "config", mountPath: "/opt/airflow/webserver_config.py", subPath: "webserver_config.py", readOnly: true });
    expect(api.env).toContainEqual({ name: "SSO_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: "airflow-sso-client", key: "client-secret" } } });
    for (const other of ["airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]) {
      const container = find(objects, "Deployment", other).spec.template.spec.containers[0];
      expect(JSON.stringify(container), other).not.toMatch(/webserver_config|SSO_CLIENT_SECRET/);
    }
    expect(find(objects, "Deployment", "airflow-api-server").metadata.annotations["secret.reloader.stakater.com/reload"]).toContain("airflow-sso-client");
    const es = secretsManifests(resolveEnvironment(config, "prod")).find((m) => m.object.metadata.name === "airflow-sso-client")!.object as any;
    expect(es.spec.data).toEqual([expect.objectContaining({ secretKey: "client-secret", remoteRef: expect.objectContaining({ key: "/airflow/prod/sso/client-secret" }) })]);
    const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
    expect(readme).toContain("| `/airflow/prod/sso/client-secret` | SecureString | `airflow-sso-client` / `client-secret` |");
    expect(readme).toContain("    https://airflow.acme.com/auth/oauth-authorized/okta");
  });

  it("turns the admin-user Job off, unless airflow.adminUser.enabled keeps it beside single sign-on", () => {
    const off = withSso(OKTA);
    expect(find(objectsOf(off, "prod"), "Job", "airflow-create-admin-user")).toBeUndefined();
    expect(secretsManifests(resolveEnvironment(off, "prod")).some((m) => m.object.metadata.name === "airflow-admin-user")).toBe(false);
    const kept = withSso(OKTA, (d) => (d.airflow.adminUser = { enabled: true }));
    expect(find(objectsOf(kept, "prod"), "Job", "airflow-create-admin-user")).toBeDefined();
    expect(renderAll(generate(kept)).get("secrets/prod/README.md")).toContain("keeps this local user beside it");
  });

  it("opens the api-server's egress to an issuer on a port other than 443", () => {
    const policy = (c: Config) => find(objectsOf(c, "prod"), "NetworkPolicy", "airflow-egress-identity-provider");
    expect(policy(withSso(OKTA))).toBeUndefined();
    const keycloak = policy(withSso({ provider: "oidc", clientId: "airflow", issuer: "https://keycloak.acme.internal:8443/realms/airflow" }));
    expect(keycloak.spec.podSelector.matchLabels["app.kubernetes.io/component"]).toBe("api-server");
    expect(keycloak.spec.egress[0].ports).toEqual([{ protocol: "TCP", port: 8443 }]);
  });

  it("can be one environment's: the other keeps its password sign-in and its admin Job", () => {
    const config = exampleWith((d) => (d.environments.prod.airflow.auth = { sso: OKTA }));
    expect(webserverConfigOf(config, "dev")).toBeUndefined();
    expect(find(objectsOf(config, "dev"), "Job", "airflow-create-admin-user")).toBeDefined();
    expect(webserverConfigOf(config, "prod")).toContain('"name": "okta"');
    const files = renderAll(generate(config));
    const prodPatches = [...files.keys()].filter((f) => f.startsWith("overlays/prod/"));
    expect(prodPatches).toContain("overlays/prod/airflow-configmap-webserver-config-py.yaml");
    expect(prodPatches).toContain("overlays/prod/admin-user-job-delete.yaml");
    expect([...files.keys()]).toContain("secrets/prod/sso-client-externalsecret.yaml");
    expect([...files.keys()]).not.toContain("secrets/dev/sso-client-externalsecret.yaml");
  });

  it("lets an environment name another provider, taking nothing of the shared one's", () => {
    const config = withSso(OKTA, (d) => (d.environments.dev.airflow = { auth: { sso: { provider: "github", clientId: "Iv1.dev", organization: "acme" } } }));
    const dev = webserverConfigOf(config, "dev")!;
    expect(dev).toContain('"name": "github"');
    expect(dev).not.toContain("okta.com");
    expect(pythonConstant(dev, "AUTH_ROLES_MAPPING")).toEqual({});
    expect(webserverConfigOf(config, "prod")).toContain('"name": "okta"');
  });

  it("asks Okta's custom authorization servers for no groups scope, uses PKCE, refuses the local admin's name", () => {
    const custom = webserverConfigOf(withSso({ ...OKTA, issuer: "https://acme.okta.com/oauth2/default" }))!;
    expect(custom).toContain('"client_kwargs": {\n                "scope": "openid email profile",\n                "code_challenge_method": "S256",\n            },');
    expect(webserverConfigOf(withSso(PROVIDERS.github!))).not.toContain("code_challenge_method");
    expect(pythonConstant(webserverConfigOf(withSso(OKTA))!, "RESERVED_USERNAMES")).toEqual([]);
    expect(pythonConstant(webserverConfigOf(withSso(OKTA, (d) => (d.airflow.adminUser = { enabled: true, username: "Root" })))!, "RESERVED_USERNAMES")).toEqual(["root"]);
    expect(pythonConstant(webserverConfigOf(withSso(PROVIDERS["entra-id"]!))!, "USERNAME_CLAIM")).toBe("oid");
  });

  it("takes an environment's own client id over the shared one", () => {
    const config = withSso(OKTA, (d) => (d.environments.dev.airflow = { auth: { sso: { clientId: "0oadev" } } }));
    expect(webserverConfigOf(config, "dev")).toContain('"client_id": "0oadev"');
    expect(webserverConfigOf(config, "prod")).toContain('"client_id": "0oa1b2c3d4e5f6g7h8i9"');
  });
});

describe("single sign-on: bad input", () => {
  const problems = (sso: object, more: (d: any) => void = () => {}) =>
    exampleProblems((d) => {
      d.airflow.auth = { sso };
      more(d);
    });

  it("names each provider's missing or misplaced field", () => {
    expect(problems({ provider: "oidc", clientId: "airflow" })).toEqual([expect.stringMatching(/^airflow-gitops\.yaml:\d+:\d+ airflow\.auth\.sso\.issuer: is required with provider oidc/)]);
    expect(problems({ provider: "github", clientId: "x", organization: "acme", issuer: "https://github.com" })).toEqual([
      expect.stringMatching(/airflow\.auth\.sso\.issuer: has no meaning for provider github: remove it \(it takes organization\)/),
    ]);
    expect(problems({ provider: "google", clientId: "x", hostedDomain: "acme.com", roles: { admins: ["Admin"] } })).toEqual([
      expect.stringMatching(/airflow\.auth\.sso\.roles\.admins: must be an e-mail address \(Google sends no groups\) with provider google/),
    ]);
    expect(problems({ provider: "entra-id", clientId: "x", tenantId: "acme.onmicrosoft.com", claims: { groups: "groups" } })).toEqual([]);
  });

  it("refuses what the schema can tell: an http issuer, a multi-tenant Entra ID, an unknown role or provider, an unknown key", () => {
    expect(problems({ ...OKTA, issuer: "http://acme.okta.com" })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.issuer: must be an https URL/)]);
    expect(problems({ provider: "entra-id", clientId: "x", tenantId: "common" })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.tenantId: must be an Entra ID tenant id .* common and organizations would admit every tenant/)]);
    expect(problems({ ...OKTA, roles: { admins: ["Superuser"] } })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.roles\.admins\[0\]: must be one of "Admin", "Op", "User", "Viewer", "Public", found "Superuser"/)]);
    expect(problems({ ...OKTA, provider: "auth0" })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.provider: must be one of "oidc", "okta", "entra-id", "google", "github", found "auth0"/)]);
    expect(problems({ ...OKTA, clientSecret: "hunter2" })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.clientSecret: unknown field "clientSecret". Allowed: provider, clientId, /)]);
  });

  it("needs the FAB auth manager and an ingress host in every environment that signs in", () => {
    const keycloak = "airflow.providers.keycloak.auth_manager.keycloak_auth_manager.KeycloakAuthManager";
    expect(problems(OKTA, (d) => (d.environments.prod.airflow.config.core = { auth_manager: keycloak }))).toEqual([
      expect.stringMatching(/environments\.prod\.airflow\.config\.core\.auth_manager: is .*KeycloakAuthManager, but airflow\.auth\.sso .*signs in through the FAB auth manager/),
    ]);
    expect(problems(OKTA, (d) => delete d.environments.dev.ingress.host)).toEqual([
      expect.stringMatching(/airflow\.auth\.sso\.provider: needs ingress\.host in environment dev: .*https:\/\/<ingress\.host>\/auth\/oauth-authorized\/okta/),
    ]);
  });

  it("refuses an issuer port out of range and a [fab] config_file of the user's while signing in", () => {
    expect(problems({ ...OKTA, issuer: "https://acme.okta.com:99999" })).toEqual([expect.stringMatching(/airflow\.auth\.sso\.issuer: has port 99999: a port is 1 to 65535/)]);
    expect(problems(OKTA, (d) => (d.airflow.config.fab = { config_file: "/opt/airflow/mine.py" }))).toEqual([
      expect.stringMatching(/airflow\.config\.fab\.config_file: is set by the generator while airflow\.auth\.sso is on .*\/opt\/airflow\/webserver_config\.py/),
    ]);
  });

  it("reports at the environment a field its own provider needs", () => {
    expect(problems(OKTA, (d) => (d.environments.dev.airflow = { auth: { sso: { provider: "github", clientId: "x" } } }))).toEqual([
      expect.stringMatching(/environments\.dev\.airflow\.auth\.sso\.organization: is required with provider github \(environment dev\)/),
    ]);
  });

  it("points at the environment's override when only an environment signs in", () => {
    expect(exampleProblems((d) => (d.environments.prod.airflow.auth = { sso: { clientId: "x" } }))).toEqual([
      expect.stringMatching(/environments\.prod\.airflow\.auth\.sso\.provider: is required for single sign-on/),
    ]);
  });

  it("writes nothing when the config is refused", async () => {
    const dir = tempProject();
    editYaml(dir, "airflow-gitops.yaml", (d) => (d.airflow.auth = { sso: { provider: "okta", clientId: "x" } }));
    const before = snapshot(dir);
    const result = await genIn(dir);
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/airflow-gitops\.yaml:\d+:\d+ airflow\.auth\.sso\.issuer: is required with provider okta/);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, "base"))).toBe(false);
  });
});
