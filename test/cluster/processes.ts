/** Starting, probing and stopping the control plane's processes, each by its process id. */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Component {
  name: string;
  pid: number;
  /** The process's start time (clock ticks since boot), to tell it from a later process reusing the pid. */
  startTime: string;
  binary: string;
  log: string;
}

/** A process's start time (clock ticks since boot), or undefined when it is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** A component that did not start or did not become ready: names it and its log. */
export class ComponentError extends Error {
  override name = "ComponentError";
  constructor(
    readonly component: string,
    readonly log: string,
    problem: string,
  ) {
    super(existsSync(log) ? `${component} ${problem}; its log: ${log}${tail(log)}` : `${component} ${problem}`);
  }
}

function tail(log: string): string {
  try {
    const lines = readFileSync(log, "utf8").trimEnd().split("\n").slice(-8);
    return lines.length && lines[0] ? `\n  last lines:\n    ${lines.join("\n    ")}` : "";
  } catch {
    return "";
  }
}

export { freePort } from "../ports.js";

/** Fails fast, naming the component, when the port it is meant to listen on is already taken. */
export function assertPortFree(component: string, port: number, log: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", () => reject(new ComponentError(component, log, `cannot listen on 127.0.0.1:${port}: the port is in use`)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/**
 * Starts a program detached (its own process group, output to its log) so it outlives a CLI that exits.
 * `env` replaces the environment it inherits when given.
 */
export function startComponent(name: string, binary: string, args: string[], logsDir: string, env?: NodeJS.ProcessEnv): Component {
  const log = join(logsDir, `${name}.log`);
  const fd = openSync(log, "a");
  try {
    const child = spawn(binary, args, { stdio: ["ignore", fd, fd], detached: true, ...(env ? { env } : {}) });
    child.unref();
    if (child.pid === undefined) throw new ComponentError(name, log, `could not be started (${binary})`);
    return { name, pid: child.pid, startTime: processStartTime(child.pid) ?? "", binary, log };
  } finally {
    closeSync(fd);
  }
}

export function isRunning(component: Component): boolean {
  return processStartTime(component.pid) === component.startTime;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs what makes a started component ready (probes, registrations); stops the component if that fails. */
export async function readyOrStopped(component: Component, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    await stopComponent(component);
    throw error;
  }
}

/** SIGTERM, then SIGKILL after a grace period; returns once the process is gone. */
export async function stopComponent(component: Component, graceMs = 10_000): Promise<void> {
  if (!isRunning(component)) return;
  try {
    process.kill(component.pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isRunning(component) && Date.now() < deadline) await sleep(100);
  if (isRunning(component)) {
    try {
      process.kill(component.pid, "SIGKILL");
    } catch {
      return;
    }
    while (isRunning(component)) await sleep(50);
  }
}

export interface TlsClient {
  ca?: string;
  cert?: string;
  key?: string;
}

/** GET a URL; resolves with the status code and body, or undefined when nothing answers. */
export function probe(url: string, tls: TlsClient = {}): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const options = url.startsWith("https:")
      ? {
          ca: tls.ca ? readFileSync(tls.ca) : undefined,
          cert: tls.cert ? readFileSync(tls.cert) : undefined,
          key: tls.key ? readFileSync(tls.key) : undefined,
          rejectUnauthorized: Boolean(tls.ca),
          timeout: 5000,
        }
      : { timeout: 5000 };
    const req = (url.startsWith("https:") ? request : httpRequest)(url, options, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Waits until `check` passes; fails naming the component (and its log) if it exits or the time runs out. */
export async function waitReady(component: Component, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (!isRunning(component)) throw new ComponentError(component.name, component.log, `exited before ${what}`);
    if (Date.now() > deadline) throw new ComponentError(component.name, component.log, `did not become ready (${what}) within ${Math.round(timeoutMs / 1000)}s`);
    await sleep(250);
  }
}
