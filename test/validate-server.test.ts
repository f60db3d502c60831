/**
 * `validate --server` without a cluster: how the API server's refusals are read, how objects are
 * placed for a dry run, which files an object comes from, and the user errors of the command line.
 * The dry runs themselves run against a real control plane in test/e2e/validate-server.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { KubeDocument } from "../generator/validate/kustomize.js";
import { formatServerProblem, serverReportText, type ServerReport } from "../generator/validate/server.js";
import { dryRunRequest, isRecreatedHook, missingKindLines } from "../generator/validate/server-plan.js";
import { fieldPointer, readStatus, statusOf } from "../generator/validate/server-status.js";
import { kustomizationSources, sourcesOf } from "../generator/validate/sources.js";
import { ROOT, committedBuild, runCli } from "./helpers.js";

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "airflow-scheduler", namespace: "airflow" },
  spec: { template: { spec: { containers: [{ name: "init" }, { name: "scheduler", resources: { requests: { cpu: "2" } } }] } } },
} as unknown as KubeDocument;

describe("reading the API server's refusals", () => {
  it("reads an Invalid status cause by cause, each field a JSON pointer into the object sent", () => {
    const status = statusOf(
      JSON.stringify({
        kind: "Status",
        status: "Failure",
        reason: "Invalid",
        code: 422,
        message: 'Deployment.apps "airflow-scheduler" is invalid: spec.template.spec.containers[1].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        details: {
          name: "airflow-scheduler",
          kind: "Deployment",
          causes: [
            { reason: "FieldValueInvalid", message: 'Invalid value: "2": must be less than or equal to cpu limit of 1', field: "spec.template.spec.containers[1].resources.requests" },
            { reason: "FieldValueInvalid", message: "Invalid value: 0: must be greater than 0", field: "metadata.labels[app.kubernetes.io/name]" },
          ],
        },
      }),
      422,
    );
    expect(readStatus(status, deployment)).toEqual({
      kind: "rejected",
      rejections: [
        { path: "/spec/template/spec/containers/1/resources/requests", message: 'Invalid value: "2": must be less than or equal to cpu limit of 1' },
        { path: "/metadata/labels/app.kubernetes.io~1name", message: "Invalid value: 0: must be greater than 0" },
      ],
    });
  });

  it("reads server-side apply's schema errors, naming list entries by key, one rejection per field", () => {
    const message =
      'failed to create typed patch object (airflow/airflow-scheduler; apps/v1, Kind=Deployment): errors:\n  .spec.template.spec.containers[name="scheduler"].resourcez: field not declared in schema\n  .spec.replicas: expected numeric (int or float), got string';
    expect(readStatus({ code: 500, message }, deployment)).toEqual({
      kind: "rejected",
      rejections: [
        { path: "/spec/template/spec/containers/1/resourcez", message: 'unknown field "resourcez"' },
        { path: "/spec/replicas", message: "expected numeric (int or float), got string" },
      ],
    });
  });

  it("reads strict decoding's unknown fields", () => {
    const message = 'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy", unknown field "spec.foo"';
    expect(readStatus({ code: 400, reason: "BadRequest", message }, deployment)).toEqual({
      kind: "rejected",
      rejections: [
        { path: "/spec/template/spec/containers/0/imagePullPolicyy", message: 'unknown field "imagePullPolicyy"' },
        { path: "/spec/foo", message: 'unknown field "foo"' },
      ],
    });
  });

  it("keeps a message that names no field whole, on the object", () => {
    const message = 'admission webhook "validate.example.com" denied the request: no';
    expect(readStatus({ code: 400, message }, deployment)).toEqual({ kind: "rejected", rejections: [{ path: "/", message }] });
  });

  it("tells a missing namespace and an existing object apart from a rejection", () => {
    expect(readStatus({ code: 404, reason: "NotFound", message: 'namespaces "airflow" not found', details: { name: "airflow", kind: "namespaces" } }, deployment)).toEqual({
      kind: "namespace-missing",
      namespace: "airflow",
    });
    expect(readStatus({ code: 409, reason: "AlreadyExists", message: 'jobs.batch "airflow-migrations" already exists' }, deployment)).toEqual({ kind: "already-exists" });
    expect(readStatus({ code: 404, reason: "NotFound", message: 'configmaps "x" not found', details: { name: "x", kind: "configmaps" } }, deployment).kind).toBe("rejected");
  });

  it("keeps a body that is not a Status as its text", () => {
    expect(statusOf("upstream connect error", 503)).toEqual({ code: 503, message: "upstream connect error" });
    expect(statusOf('{"kind":"Status","message":"m","reason":"Forbidden"}', 403)).toEqual({ code: 403, kind: "Status", message: "m", reason: "Forbidden" });
  });

  it("leaves a list selector it cannot place as written", () => {
    expect(fieldPointer('.spec.template.spec.containers[name="gone"].image', deployment)).toBe('/spec/template/spec/containers/name="gone"/image');
    expect(fieldPointer("", deployment)).toBe("/");
  });
});

describe("placing objects for a dry run", () => {
  const missing = new Set(["airflow"]);

  it("checks a namespaced object of a missing namespace in the stand-in, without touching the rendered object", () => {
    const request = dryRunRequest(deployment, true, missing, "default");
    expect(request).toMatchObject({ method: "apply", standIn: "default" });
    expect(request.body.metadata.namespace).toBe("default");
    expect(deployment.metadata.namespace).toBe("airflow");
  });

  it("keeps an object in its own namespace when the cluster has it", () => {
    const request = dryRunRequest(deployment, true, new Set(), "default");
    expect(request.standIn).toBeUndefined();
    expect(request.body.metadata.namespace).toBe("airflow");
  });

  it("drops the namespace kustomize stamps on a cluster-scoped kind", () => {
    const nodePool = { apiVersion: "karpenter.sh/v1", kind: "NodePool", metadata: { name: "peak", namespace: "airflow" } } as KubeDocument;
    const request = dryRunRequest(nodePool, false, missing, "default");
    expect(request.body.metadata.namespace).toBeUndefined();
    expect(request.standIn).toBeUndefined();
  });

  it("creates a hook Argo CD deletes before it creates it, and applies everything else", () => {
    const job = (annotations: Record<string, string>) => ({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "m", annotations } }) as KubeDocument;
    expect(isRecreatedHook(job({ "argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation" }))).toBe(true);
    expect(isRecreatedHook(job({ "argocd.argoproj.io/hook": "PreSync" }))).toBe(true);
    expect(isRecreatedHook(job({ "argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded" }))).toBe(false);
    expect(isRecreatedHook(job({}))).toBe(false);
    expect(dryRunRequest(job({ "argocd.argoproj.io/hook": "Sync" }), true, new Set(), "default").method).toBe("create");
  });

  it("says once per API group which kinds the cluster lacks", () => {
    const lines = missingKindLines([
      { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", groupMissing: true, objects: ["overlays/dev ScaledObject/a", "overlays/prod ScaledObject/a"] },
      { apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", groupMissing: false, objects: ["overlays/dev ExternalSecret/x"] },
      { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication", groupMissing: true, objects: ["overlays/dev TriggerAuthentication/t"] },
    ]);
    expect(lines).toEqual([
      "external-secrets.io: ExternalSecret (external-secrets.io/v1, 1 object): the group is served but not these kinds or versions",
      "keda.sh: ScaledObject (keda.sh/v1alpha1, 2 objects), TriggerAuthentication (keda.sh/v1alpha1, 1 object): the API group is not served",
    ]);
  });
});

describe("the files an object comes from", () => {
  const sources = kustomizationSources(ROOT, join(ROOT, "overlays/prod"));
  const rendered = committedBuild("overlays/prod");
  const find = (name: string) => rendered.find((o) => o.kind === "Deployment" && o.metadata.name === name)!;

  it("names the files that define the rejected field, the patch applied last first", () => {
    const apiServer = find("airflow-api-server");
    const containers = (apiServer.spec as any).template.spec.containers as { name: string }[];
    const index = containers.findIndex((c) => c.name === "api-server");
    const files = sourcesOf(apiServer, `/spec/template/spec/containers/${index}/resources/limits`, sources);
    expect(files[0]).toBe("overlays/prod/api-server-deployment-resources.yaml");
    expect(files).toEqual(["overlays/prod/api-server-deployment-resources.yaml", "base/api-server-deployment.yaml"]);
    const whole = sourcesOf(apiServer, "/", sources);
    expect(whole[0]).toBe("base/api-server-deployment.yaml");
    expect(whole).toContain("overlays/prod/api-server-deployment-replicas.yaml");
    expect(whole.every((f) => f.startsWith("base/") || f.startsWith("overlays/prod/"))).toBe(true);
    expect(sourcesOf(apiServer, "/spec/replicas", sources)[0]).toBe("overlays/prod/api-server-deployment-replicas.yaml");
    expect(sourcesOf(find("airflow-scheduler"), `/spec/template/spec/containers/0/resources/limits`, sources)[0]).toBe("base/scheduler-deployment.yaml");
  });

  it("finds objects of the secrets layer and of argocd/", () => {
    const es = rendered.find((o) => o.kind === "ExternalSecret")!;
    expect(sourcesOf(es, "/spec", sources).some((f) => f.startsWith("secrets/prod/"))).toBe(true);
    const argo = kustomizationSources(ROOT, join(ROOT, "argocd"));
    const project = committedBuild("argocd").find((o) => o.kind === "AppProject")!;
    expect(sourcesOf(project, "/spec", argo)[0]).toMatch(/^argocd\//);
  });
});

describe("the report", () => {
  const report: ServerReport = {
    cluster: { context: "local", server: "https://127.0.0.1:6443", version: "v1.35.0" },
    targets: [{ target: "overlays/prod", objects: 3, failed: 1, unchecked: 1 }],
    problems: [
      {
        target: "overlays/prod",
        object: "Deployment/airflow-scheduler",
        namespace: "airflow",
        path: "/spec/template/spec/containers/0/resources/requests",
        message: 'Invalid value: "2": must be less than or equal to cpu limit of 1',
        sources: ["overlays/prod/scheduler-deployment-resources.yaml", "base/scheduler-deployment.yaml"],
      },
    ],
    missingKinds: [{ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", groupMissing: true, objects: ["overlays/prod ScaledObject/airflow-scheduler"] }],
    standIns: [{ namespace: "airflow", checkedIn: "default", objects: 2 }],
    notes: [],
    passed: 1,
    failed: 1,
    unchecked: 1,
    timings: { kustomizeMs: 1, checksMs: 1 },
  };

  it("prints each rejection with object, namespace, field, message and source, then what the cluster lacks and the stand-in", () => {
    expect(formatServerProblem(report.problems[0]!)).toBe(
      'overlays/prod Deployment/airflow-scheduler /spec/template/spec/containers/0/resources/requests: Invalid value: "2": must be less than or equal to cpu limit of 1 (namespace airflow; from overlays/prod/scheduler-deployment-resources.yaml, base/scheduler-deployment.yaml)',
    );
    expect(serverReportText(report).summary).toEqual([
      "the cluster does not serve these kinds (install their CRDs); their objects were not checked:",
      "  keda.sh: ScaledObject (keda.sh/v1alpha1, 1 object): the API group is not served",
      "namespace airflow does not exist in the cluster: its 2 object(s) were checked in namespace default",
      "server dry run on context local (https://127.0.0.1:6443, Kubernetes v1.35.0): 1 accepted, 1 rejected, 1 not checked (overlays/prod)",
    ]);
  });
});

describe("validate --server user errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-server-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A kubeconfig whose one context points at `server`, with a token (never sent anywhere that answers). */
  function kubeconfig(server: string, skipTlsVerify = false): string {
    const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: c, cluster: {server: ${JSON.stringify(server)}, insecure-skip-tls-verify: ${skipTlsVerify}}}]`,
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: local, context: {cluster: c, user: u}}]",
        "current-context: local",
      ].join("\n"),
    );
    return file;
  }

  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it("names a kubeconfig file that does not exist", async () => {
    const result = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", join(dir, "nope")]);
    expect(result).toMatchObject({ code: 1, err: `kubeconfig ${join(dir, "nope")}: no such file` });
  });

  it("names an unknown context and the ones there are", async () => {
    const result = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", kubeconfig("https://127.0.0.1:1"), "--context", "prod"]);
    expect(result).toMatchObject({ code: 1, err: "--context prod: no such context in the kubeconfig; it has: local" });
  });

  it("says in one line that the cluster cannot be reached, without a stack", async () => {
    const port = await closedPort();
    const result = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", kubeconfig(`https://127.0.0.1:${port}`)]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^cannot reach the cluster of context local at https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(result.err).not.toMatch(/\n/);
  });

  /**
   * The CLI as its own process against a server that misbehaves: it must exit 1 with one line soon after
   * the deadline (an open socket would keep a process alive after an in-process deadline had passed).
   */
  async function validateAgainst(handler: (socket: Socket) => void, scheme = "https"): Promise<{ code: number | null; err: string; seconds: number }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      handler(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const started = performance.now();
    try {
      const child = spawn(process.execPath, [join(ROOT, "generator", "launch.mjs"), "validate", "--dir", ROOT, "--server", "--request-timeout", "1", "--kubeconfig", kubeconfig(`${scheme}://127.0.0.1:${port}`, true)], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      return { code, err: err.trim(), seconds: (performance.now() - started) / 1000 };
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  const withinDeadline = (port: string) => new RegExp(`^cannot reach the cluster of context local at ${port}: no complete answer within 1 s \\(--request-timeout\\)$`);

  it("stops at the deadline, in one line, when the server accepts the connection and never answers", async () => {
    const result = await validateAgainst(() => {});
    expect(result.code).toBe(1);
    expect(result.err).toMatch(withinDeadline("https://127\\.0\\.0\\.1:\\d+"));
    expect(result.seconds).toBeLessThan(10);
  });

  it("stops at the deadline when the answer comes a byte at a time (slow loris)", async () => {
    const answer = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"gitVersion": "v1.35.0"' + " ".repeat(99_000);
    const result = await validateAgainst((socket) => {
      let at = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || at >= answer.length) return clearInterval(timer);
        socket.write(answer[at++]!);
      }, 20);
      socket.on("close", () => clearInterval(timer));
    }, "http");
    expect(result.code).toBe(1);
    expect(result.err).toMatch(withinDeadline("http://127\\.0\\.0\\.1:\\d+"));
    expect(result.seconds).toBeLessThan(10);
  });

  it("says in one line that the server does not speak TLS", async () => {
    const result = await validateAgainst((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^cannot reach the cluster of context local at https:\/\/127\.0\.0\.1:\d+: .*(wrong version number|packet length too long|EPROTO)/);
    expect(result.err).not.toMatch(/\n/);
  });

  it("stops at the deadline when the version answers and discovery then hangs", async () => {
    const result = await validateAgainst((socket) => {
      socket.once("data", (request: Buffer) => {
        if (!request.toString().startsWith("GET /version")) return;
        const body = JSON.stringify({ gitVersion: "v1.35.0" });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        socket.end();
      });
    }, "http");
    expect(result.code).toBe(1);
    expect(result.err).toBe("discovery failed: no complete answer within 1 s (--request-timeout)");
    expect(result.seconds).toBeLessThan(10);
  });

  it("refuses a request timeout that is not a positive number of seconds", async () => {
    expect(await runCli(["validate", "--dir", ROOT, "--server", "--request-timeout", "soon"])).toMatchObject({
      code: 1,
      err: "--request-timeout soon: a number of seconds above 0 and at most 3600",
    });
  });

  it("says in one line that the cluster refused the credentials", async () => {
    const server = createHttpServer((_, response) => {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const result = await runCli(["validate", "--dir", ROOT, "--server", "--kubeconfig", kubeconfig(`http://127.0.0.1:${port}`, true)]);
      expect(result).toMatchObject({ code: 1, err: `the cluster of context local at http://127.0.0.1:${port}: the credentials were refused (401 Unauthorized)` });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("refuses --context without --server, and --schemas with it", async () => {
    expect(await runCli(["validate", "--dir", ROOT, "--context", "x"])).toMatchObject({ code: 1, err: "--context, --kubeconfig and --request-timeout apply to --server only" });
    expect(await runCli(["validate", "--dir", ROOT, "--server", "--schemas", dir])).toMatchObject({ code: 1, err: "--schemas applies to the local checks only, not with --server" });
  });
});
