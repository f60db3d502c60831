/**
 * One environment of the generated tree, run on this host: PostgreSQL, the Secrets the ExternalSecrets
 * would produce from test parameter values, and Airflow processes started with each container's exact
 * command, args and env (adapted only by ./adaptations.ts). Every process is stopped by its id in stop().
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostLayout, serviceAddresses, type HostAddresses } from "./adaptations.js";
import { startPostgres, type Postgres } from "./postgres.js";
import { freePort, logTail, startProcess, stopProcess, type Started } from "./processes.js";
import { runProbe, type ProbeResult, type ProbeTarget } from "./probes.js";
import { containerEnv, resolveSecrets, type Container, type PodSpec, type Rendered } from "./rendered.js";
import { ensureVenv } from "./venv.js";

/** A database password with every character a URL must escape: `@:/?#%+` and a space. */
export const DATABASE_PASSWORD = "p@ss:w/rd?#%+ 1";
export const ADMIN_PASSWORD = "admin p@ss:/?#%+";

export interface ConfigReport {
  warnings: string[];
  unknown: string[];
  deprecated: string[];
  values: Record<string, string | null>;
}

export class AirflowHost {
  readonly layout: HostLayout;
  readonly secrets: Map<string, Record<string, string>>;
  readonly addresses: HostAddresses;
  private readonly processes: Started[] = [];
  private ownsDatabase = true;
  private readonly venv: string;

  private constructor(
    readonly rendered: Rendered,
    readonly root: string,
    readonly postgres: Postgres,
    readonly parameters: Record<string, string>,
    apiServerPort: number,
    /** Where the Airflow processes send statsd lines (UDP on 127.0.0.1); nothing listens unless a test starts the exporter. */
    readonly statsdPort: number,
    kubeconfig: string | undefined,
    identityProvider: HostAddresses["identityProvider"],
    lockFile: string | undefined,
  ) {
    this.venv = ensureVenv(() => {}, lockFile);
    this.layout = new HostLayout(join(root, "host"), join(this.venv, "bin"));
    this.secrets = resolveSecrets(rendered, (key) => {
      const value = parameters[key.split("/").slice(3).join("/")];
      if (value === undefined) throw new Error(`no test value for parameter ${key}`);
      return value;
    });
    this.addresses = {
      services: serviceAddresses(rendered, (service, port) => (service.endsWith("api-server") ? apiServerPort : service.endsWith("statsd") && port === 9125 ? statsdPort : undefined)),
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(identityProvider ? { identityProvider } : {}),
    };
  }

  static async start(
    rendered: Rendered,
    options: {
      kubeconfig?: string;
      identityProvider?: HostAddresses["identityProvider"];
      parameters?: (defaults: Record<string, string>) => Record<string, string>;
      /** The Python environment's lock: the example's line by default (see venv.ts lockOfLine). */
      lockFile?: string;
      /** Another host whose PostgreSQL and parameter values this one uses (an upgrade: same database, same keys); it stops them. */
      databaseOf?: AirflowHost;
    } = {},
  ): Promise<AirflowHost> {
    const root = mkdtempSync(join(tmpdir(), "airflow-gitops-airflow-"));
    const shared = options.databaseOf;
    if (shared) {
      const host = new AirflowHost(rendered, root, shared.postgres, shared.parameters, await freePort(), await freePort(), options.kubeconfig, options.identityProvider, options.lockFile);
      host.ownsDatabase = false;
      return host;
    }
    let postgres: Postgres | undefined;
    try {
      postgres = await startPostgres({ database: "airflow", username: "airflow", password: DATABASE_PASSWORD });
      const defaults: Record<string, string> = {
        "fernet-key": randomBytes(32).toString("base64url") + "=",
        "api-secret-key": randomBytes(24).toString("hex"),
        "jwt-secret": randomBytes(32).toString("hex"),
        "database/host": postgres.host,
        "database/port": String(postgres.port),
        "database/name": postgres.database,
        "database/username": postgres.username,
        "database/password": postgres.password,
        "git/ssh-key": "unused by Airflow",
        "git/known-hosts": "unused by Airflow",
        "admin-password": ADMIN_PASSWORD,
        "sso/client-secret": randomBytes(24).toString("hex"),
      };
      const parameters = options.parameters ? options.parameters(defaults) : defaults;
      return new AirflowHost(rendered, root, postgres, parameters, await freePort(), await freePort(), options.kubeconfig, options.identityProvider, options.lockFile);
    } catch (error) {
      await postgres?.stop();
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  get apiServerPort(): number {
    const api = [...this.addresses.services.values()].find((s) => s.serviceName.split(".")[0]!.endsWith("api-server"));
    if (!api) throw new Error("the overlay has no api-server Service");
    return api.hostPort;
  }

  /** command + args on this host, `$(VAR)` references expanded from the container's env as the kubelet does. */
  argv(container: Container): string[] {
    const env = this.env(container);
    return this.layout.argv(container).map((a) => a.replace(/\$\$|\$\((\w+)\)/g, (m, name?: string) => (name === undefined ? "$" : (env[name] ?? m))));
  }

  /** The environment a container sees on this host. */
  env(container: Container, extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.layout.env(containerEnv(container, this.secrets)), ...extra };
  }

  prepare(spec: PodSpec, container: Container): void {
    this.layout.mount(spec, container, this.rendered, this.addresses);
  }

  /** Runs a container's command to completion. */
  run(spec: PodSpec, container: Container, options: { timeoutMs?: number; env?: Record<string, string>; argv?: string[]; remount?: boolean } = {}): Promise<{ code: number; output: string; ms: number }> {
    if (options.remount !== false) this.prepare(spec, container);
    const argv = options.argv ?? this.argv(container);
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { env: this.env(container, options.env), timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 << 20, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === "number" ? ((error as { code: number }).code) : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}`, ms: Date.now() - started });
      });
    });
  }

  /** What Airflow makes of the configuration a container sees (see config_check.py). */
  async configReport(spec: PodSpec, container: Container): Promise<ConfigReport> {
    const result = await this.run(spec, container, { argv: [join(this.venv, "bin", "python"), join(import.meta.dirname, "config_check.py")], timeoutMs: 180_000 });
    const mark = "config-check-report: ";
    const json = result.output.split("\n").reverse().find((l) => l.startsWith(mark))?.slice(mark.length);
    if (result.code !== 0 || !json) throw new Error(`config check of ${container.name} failed (exit ${result.code}):\n${result.output.slice(-3000)}`);
    const report = JSON.parse(json) as ConfigReport;
    // Airflow's logging routes Python warnings through its own handlers: read them from the output too.
    const logged = result.output.split("\n").filter((l) => /\[(warning|error|critical)\s*\]/i.test(l));
    return { ...report, warnings: [...report.warnings, ...logged.map((l) => l.replace(/^\S+Z\s+/, "").trim())] };
  }

  /** Starts a long-running container; its log is kept in the host tree. */
  startContainer(spec: PodSpec, container: Container, label = container.name): Started {
    this.prepare(spec, container);
    const argv = this.argv(container);
    mkdirSync(join(this.root, "logs"), { recursive: true });
    const started = startProcess(label, argv[0]!, argv.slice(1), { env: this.env(container), logFile: join(this.root, "logs", `${label}.log`) });
    this.processes.push(started);
    return started;
  }

  probeTarget(container: Container, process: Started): ProbeTarget {
    const env = this.env(container);
    return {
      container,
      env,
      exitCode: () => process.exitCode(),
      execArgv: (command) => command.map((a) => this.layout.hostText(a)),
      hostPort: (containerPort) => {
        const name = container.ports?.find((p) => p.containerPort === containerPort)?.name;
        const served = [...this.addresses.services.values()].find((s) => s.targetPort === containerPort || (name !== undefined && s.targetPort === name));
        if (!served) throw new Error(`container ${container.name}: no Service of the overlay targets port ${containerPort}`);
        return served.hostPort;
      },
    };
  }

  async probe(kind: "startupProbe" | "readinessProbe" | "livenessProbe", container: Container, process: Started): Promise<ProbeResult | undefined> {
    const probe = container[kind];
    if (!probe) return undefined;
    return runProbe(probe, this.probeTarget(container, process));
  }

  logOf(process: Started, lines = 60): string {
    return `--- ${process.name} log (${process.logFile}) ---\n${logTail(process.logFile, lines)}`;
  }

  /** The long-running containers started here that have not exited. */
  runningProcesses(): Started[] {
    return this.processes.filter((p) => p.exitCode() === undefined);
  }

  async stopProcess(process: Started): Promise<void> {
    await stopProcess(process);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => stopProcess(p)));
    if (this.ownsDatabase) await this.postgres.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
