/**
 * Kubernetes probes run as the kubelet runs them: the first attempt after initialDelaySeconds, then every
 * periodSeconds, each attempt bounded by timeoutSeconds; failureThreshold consecutive failures fail it.
 * HTTP: GET on 127.0.0.1 at the host port behind the named or numbered container port, 200-399 passes.
 * Exec: the command with the container's environment, exit 0 passes.
 */
import { spawn } from "node:child_process";
import { request } from "node:http";
import type { Container, Probe } from "./rendered.js";

export interface ProbeTarget {
  container: Container;
  /** host port serving a containerPort */
  hostPort(containerPort: number): number;
  execArgv(command: string[]): string[];
  env: Record<string, string>;
  /** defined once the process has exited */
  exitCode(): number | null | undefined;
}

export interface ProbeResult {
  passed: boolean;
  attempts: number;
  elapsedMs: number;
  lastFailure?: string;
}

const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };

export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const p = { ...DEFAULTS, ...probe };
  const started = Date.now();
  let attempts = 0;
  let lastFailure: string | undefined;
  await sleep(p.initialDelaySeconds * 1000);
  for (let failures = 0; failures < p.failureThreshold; ) {
    const attemptStart = Date.now();
    attempts++;
    const failure = await attempt(probe, target, p.timeoutSeconds * 1000);
    if (failure === undefined) return { passed: true, attempts, elapsedMs: Date.now() - started };
    lastFailure = failure;
    failures++;
    if (target.exitCode() !== undefined) return { passed: false, attempts, elapsedMs: Date.now() - started, lastFailure: `${failure}; the process exited with ${target.exitCode()}` };
    if (failures < p.failureThreshold) await sleep(Math.max(0, p.periodSeconds * 1000 - (Date.now() - attemptStart)));
  }
  return { passed: false, attempts, elapsedMs: Date.now() - started, lastFailure };
}

/** The longest a probe may take to pass: initialDelay + (failureThreshold - 1) × period + timeout. */
export function probeBudgetMs(probe: Probe): number {
  const p = { ...DEFAULTS, ...probe };
  return (p.initialDelaySeconds + (p.failureThreshold - 1) * p.periodSeconds + p.timeoutSeconds) * 1000;
}

export function describeProbe(probe: Probe): string {
  if (probe.httpGet) return `GET ${probe.httpGet.path} on port ${probe.httpGet.port}`;
  if (probe.exec) return `exec ${probe.exec.command.join(" ")}`;
  return JSON.stringify(probe);
}

async function attempt(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  if (probe.httpGet) {
    const named = probe.httpGet.port;
    const containerPort = typeof named === "number" ? named : target.container.ports?.find((p) => p.name === named)?.containerPort;
    if (containerPort === undefined) return `the probe names port ${named}, which container ${target.container.name} does not declare`;
    return httpAttempt(target.hostPort(containerPort), probe.httpGet.path, timeoutMs);
  }
  if (probe.exec) return execAttempt(target.execArgv(probe.exec.command), target.env, timeoutMs);
  return `unsupported probe ${JSON.stringify(probe)}`;
}

function httpAttempt(port: number, path: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 400 ? undefined : `GET ${path}: HTTP ${status} ${body.slice(0, 300)}`);
      });
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", (e) => resolve(`GET ${path}: ${e.message}`));
    req.end();
  });
}

function execAttempt(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      resolve(`exec timed out after ${timeoutMs} ms: ${output.trim().slice(-500)}`);
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve(`exec: ${e.message}`);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `exec exited ${code}: ${output.trim().split("\n").slice(-8).join("\n")}`);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
