/**
 * Single sign-on, run for real: the prod overlay with `airflow.auth.sso` (a generic OpenID Connect issuer,
 * groups mapped to roles, the local admin kept beside it), its api-server started with its exact command,
 * env and the webserver_config.py the generator wrote, and a real OpenID provider from PyPI
 * (oidc-provider-mock, on 127.0.0.1) in place of the company's. Users sign in through the provider's
 * authorization-code flow as a browser would; the roles Airflow gives them and what their tokens may do
 * are read back from the api-server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { checkProbes } from "../airflow/checks.js";
import { ADMIN_PASSWORD, AirflowHost } from "../airflow/harness.js";
import { freePort, logTail, startProcess, stopProcess, type Started } from "../airflow/processes.js";
import { component, podSpecOf, renderOverlay, generateProject, type Rendered } from "../airflow/rendered.js";
import { ensureVenv, venvPython } from "../airflow/venv.js";
import { tempDir } from "../temp-dirs.js";

const ISSUER = "https://idp.acme.test/realms/airflow";
const SSO = {
  provider: "oidc",
  clientId: "airflow-prod",
  issuer: ISSUER,
  roles: { "airflow-admins": ["Admin"], analysts: ["Viewer"] },
};

/** A browser's cookie jar for one site: what Set-Cookie gave, sent back on every request. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
    return response;
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

describe("single sign-on through a real OpenID provider", () => {
  let rendered: Rendered;
  let host: AirflowHost;
  let provider: Started;
  let providerUrl: string;
  let api: Started;
  let apiUrl: string;

  beforeAll(async () => {
    const project = await generateProject((doc) => {
      doc.setIn(["airflow", "auth"], doc.createNode({ sso: SSO }));
      doc.setIn(["airflow", "adminUser", "enabled"], true);
      // The URL composed from parts carries the suite's PostgreSQL password escaped.
      doc.setIn(["secrets", "parameters", "database"], doc.createNode({ source: "parts" }));
    });
    rendered = renderOverlay(project, "prod");
    const port = await freePort();
    providerUrl = `http://127.0.0.1:${port}`;
    const logs = tempDir("airflow-gitops-oidc-");
    provider = startProcess("oidc-provider", venvPython(ensureVenv()), ["-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", String(port)], {
      env: { PATH: "/usr/bin:/bin", HOME: logs },
      logFile: join(logs, "oidc-provider.log"),
    });
    host = await AirflowHost.start(rendered, { identityProvider: { issuer: ISSUER, served: providerUrl } });
    const migrations = rendered.documents.find((d) => d.kind === "Job" && /migrat/.test(d.metadata.name))!;
    const job = podSpecOf(rendered, "Job", migrations.metadata.name);
    const migrate = await host.run(job, job.containers[0]!);
    if (migrate.code !== 0) throw new Error(`the migration Job's command failed:\n${migrate.output.slice(-3000)}`);
    // The admin Job's pod has no webserver_config.py; on this host the api-server's would be beside it once mounted.
    const admin = rendered.documents.find((d) => d.kind === "Job" && JSON.stringify(d.spec).includes("airflow users create"))!;
    const adminJob = podSpecOf(rendered, "Job", admin.metadata.name);
    const created = await host.run(adminJob, adminJob.containers[0]!, { timeoutMs: 300_000 });
    if (created.code !== 0) throw new Error(`the admin-user Job's command failed:\n${created.output.slice(-3000)}`);
    await waitFor(async () => (await fetch(`${providerUrl}/.well-known/openid-configuration`)).ok, `the OpenID provider at ${providerUrl}`, () => logTail(provider.logFile));
  }, 600_000);

  afterAll(async () => {
    if (provider) await stopProcess(provider);
    await host?.stop();
  });

  it("the api-server loads the generated webserver_config.py and passes its probes", async () => {
    const { spec, main } = component(rendered, "api-server");
    expect(main.volumeMounts?.map((m) => m.mountPath)).toContain("/opt/airflow/webserver_config.py");
    api = host.startContainer(spec, main, "api-server");
    apiUrl = `http://127.0.0.1:${host.apiServerPort}`;
    await checkProbes(host, main, api, "api-server");
  });

  it("the login page offers the provider and nothing else", async () => {
    const page = await (await fetch(`${apiUrl}/auth/login/`)).text();
    expect(page, host.logOf(api)).toContain('id="btn-signin-oidc"');
    expect(page).toContain("Sign In with oidc");
    expect(page).not.toMatch(/type="password"/);
  });

  it("a user of a mapped group signs in and gets that group's role; the token opens what the role may", async () => {
    const alice = await signIn("alice", ["airflow-admins"]);
    expect(await rolesOf(alice.token!, "alice")).toEqual(["Admin", "Public"]);
    expect((await api_(alice.token!, "/api/v2/dags")).status).toBe(200);
    expect((await api_(alice.token!, "/auth/fab/v1/users")).status).toBe(200);

    const bob = await signIn("bob", ["analysts", "unmapped"]);
    expect(await rolesOf(alice.token!, "bob")).toEqual(["Public", "Viewer"]);
    expect((await api_(bob.token!, "/api/v2/dags")).status).toBe(200);
    expect((await api_(bob.token!, "/auth/fab/v1/users")).status).toBe(403);
  });

  it("a user of no mapped group signs in with the default role and may do nothing", async () => {
    const carol = await signIn("carol", []);
    expect(await rolesOf((await signIn("alice", ["airflow-admins"])).token!, "carol")).toEqual(["Public"]);
    expect((await api_(carol.token!, "/api/v2/dags")).status).toBe(403);
  });

  it("roles follow the provider's groups at every sign-in", async () => {
    await signIn("dave", ["airflow-admins"]);
    const dave = await signIn("dave", ["analysts"]);
    expect(await rolesOf((await signIn("alice", ["airflow-admins"])).token!, "dave")).toEqual(["Public", "Viewer"]);
    expect((await api_(dave.token!, "/auth/fab/v1/users")).status).toBe(403);
  });

  it("a provider's user named like the local admin is refused, in any case", async () => {
    const impostor = await signIn("ADMIN", ["airflow-admins"], { refused: true });
    expect(impostor.token).toBeUndefined();
    expect(logTail(api.logFile, 400)).toContain("whose username ADMIN is a local user's");
  });

  it("the local admin kept beside single sign-on gets API tokens with its password", async () => {
    const token = (password: string) =>
      fetch(`${apiUrl}/auth/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
    expect((await token(ADMIN_PASSWORD)).status).toBeLessThan(300);
    expect((await token(`${ADMIN_PASSWORD}-wrong`)).status).toBe(401);
  });

  /** The authorization-code flow as a browser walks it: Airflow → provider (user `sub` authorizes) → Airflow. */
  async function signIn(sub: string, groups: string[], expect_: { refused?: boolean } = {}): Promise<{ token: string | undefined }> {
    const claims = { preferred_username: sub, email: `${sub}@acme.test`, given_name: sub, family_name: "Tester", groups };
    const put = await fetch(`${providerUrl}/users/${sub}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(claims) });
    expect(put.status).toBe(204);
    const browser = new Browser();
    const start = await browser.get(`${apiUrl}/auth/login/oidc?next=`);
    const authorize = start.headers.get("location") ?? "";
    expect(start.status, `GET /auth/login/oidc: ${await start.text()}\n${host.logOf(api)}`).toBe(302);
    expect(authorize.startsWith(`${providerUrl}/oauth2/authorize?`), authorize).toBe(true);
    const request = new URL(authorize).searchParams;
    expect(request.get("client_id")).toBe(SSO.clientId);
    expect(request.get("redirect_uri")).toBe(`${apiUrl}/auth/oauth-authorized/oidc`);
    expect(request.get("scope")).toBe("openid email profile groups");
    expect(request.get("code_challenge_method")).toBe("S256");

    const granted = await fetch(authorize, { method: "POST", redirect: "manual", body: new URLSearchParams({ sub }) });
    const callback = granted.headers.get("location") ?? "";
    expect(granted.status, `the provider's answer: ${await granted.text()}`).toBe(302);
    expect(callback.startsWith(`${apiUrl}/auth/oauth-authorized/oidc?`), callback).toBe(true);

    const back = await browser.get(callback);
    const token = browser.cookie("_token");
    if (expect_.refused) {
      expect(back.status).toBe(302);
      expect(back.headers.get("location")).toMatch(/\/auth\/login\/?$/);
      expect(token).toBeUndefined();
      return { token };
    }
    expect(back.status, `the callback: ${await back.text()}\n${host.logOf(api)}`).toBe(302);
    expect(token, `no _token cookie after the callback (to ${back.headers.get("location")})\n${host.logOf(api)}`).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    return { token: token! };
  }

  function api_(token: string, path: string): Promise<Response> {
    return fetch(`${apiUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  }

  async function rolesOf(adminToken: string, username: string): Promise<string[]> {
    const response = await api_(adminToken, `/auth/fab/v1/users/${username}`);
    const body = await response.text();
    expect(response.status, body).toBe(200);
    return (JSON.parse(body) as { roles: { name: string }[] }).roles.map((r) => r.name).sort();
  }
});

async function waitFor(check: () => Promise<boolean>, what: string, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
