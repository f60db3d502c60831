/**
 * The AWS API on 127.0.0.1: moto's server (SSM Parameter Store, STS, and the rest of its services), from
 * the Python environment of `requirements.lock` (installed once into the cache like the Airflow one), and
 * the AWS CLI from the same environment pointed at it. This is where the cloud is, for the secrets suite:
 * the only test-only substitution of that path.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { ensureVenv } from "../airflow/venv.js";
import { freePort, isRunning, probe, startComponent, stopComponent, waitReady, type Component } from "../cluster/processes.js";

export const AWS_LOCK_FILE = resolve(import.meta.dirname, "requirements.lock");

/** The environment with moto and the AWS CLI, installed from the lock when missing. */
export function ensureAwsVenv(log: (line: string) => void = () => {}): string {
  return ensureVenv(log, AWS_LOCK_FILE);
}

export class Moto {
  private constructor(
    readonly component: Component,
    readonly endpoint: string,
    private readonly venv: string,
  ) {}

  /** Starts `moto_server` on a free port of 127.0.0.1, its log in `logsDir`; returns once it answers. */
  static async start(venv: string, logsDir: string, name = "moto"): Promise<Moto> {
    const port = await freePort();
    const component = startComponent(name, join(venv, "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], logsDir);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitReady(component, `${endpoint}/moto-api/`, async () => (await probe(`${endpoint}/moto-api/`))?.status === 200, 60_000);
    } catch (error) {
      await stopComponent(component);
      throw error;
    }
    return new Moto(component, endpoint, venv);
  }

  /**
   * What a shell needs to send the AWS CLI here: the endpoint for every service (the CLI and boto3 read
   * `AWS_ENDPOINT_URL`), static keys of moto's default account, and no user config or credential files.
   */
  cliEnv(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
    return {
      ...env,
      PATH: `${join(this.venv, "bin")}:${process.env.PATH ?? ""}`,
      HOME: home,
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_CONFIG_FILE: join(home, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "aws-credentials"),
      AWS_PAGER: "",
    };
  }

  /** Runs the AWS CLI; returns its parsed JSON output (or text when it prints none). Throws with its stderr. */
  aws(home: string, args: string[]): unknown {
    const run = spawnSync(join(this.venv, "bin", "aws"), [...args, "--output", "json"], { cwd: home, env: this.cliEnv(home), encoding: "utf8" });
    if (run.error || run.status !== 0) throw new Error(`aws ${args.join(" ")}: ${run.error?.message ?? run.stderr.trim()}`);
    return run.stdout.trim() ? JSON.parse(run.stdout) : undefined;
  }

  /** A parameter's decrypted value, as stored. */
  parameter(home: string, region: string, name: string): string {
    const out = this.aws(home, ["ssm", "get-parameter", "--region", region, "--name", name, "--with-decryption"]) as { Parameter: { Value: string } };
    return out.Parameter.Value;
  }

  get running(): boolean {
    return isRunning(this.component);
  }

  stop(): Promise<void> {
    return stopComponent(this.component);
  }
}
