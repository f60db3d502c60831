/**
 * PostgreSQL from Debian's packages (`apt-get install postgresql`), started on 127.0.0.1 at a free port
 * with a throwaway data directory, TLS on (the generated URL asks for `sslmode=require`), one database
 * and one password-authenticated role. PostgreSQL refuses to run as root: as root, initdb and the server
 * run as the `postgres` user (setpriv, no fork, so the server's process id is the one stopped).
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort, logTail, startProcess, stopProcess, type Started } from "./processes.js";

export interface Postgres {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  logFile: string;
  /** Runs one query as the database's role over TLS; rows as tab-separated lines. */
  sql(query: string): string;
  stop(): Promise<void>;
}

const PG_ROOT = "/usr/lib/postgresql";

export function postgresBin(): string {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, "bin", "postgres"))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`PostgreSQL is not installed (no ${PG_ROOT}/<version>/bin/postgres): apt-get install postgresql`);
  return join(PG_ROOT, newest, "bin");
}

function asServerUser(): string[] {
  if (userInfo().uid !== 0) return [];
  return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"];
}

function run(argv: string[], what: string): string {
  const [command, ...args] = argv;
  try {
    return execFileSync(command!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`PostgreSQL: ${what} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export async function startPostgres(credentials: { database: string; username: string; password: string }): Promise<Postgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-pg-"));
  const data = join(dir, "data");
  const prefix = asServerUser();
  if (prefix.length) chownSync(dir, Number(run(["id", "-u", "postgres"], "id").trim()), Number(run(["id", "-g", "postgres"], "id").trim()));
  let server: Started | undefined;
  const stop = async () => {
    if (server) await stopProcess(server, 20_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run([...prefix, join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"], "initdb");
    run([...prefix, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", join(data, "server.key"), "-out", join(data, "server.crt")], "a self-signed certificate");
    run([...prefix, "chmod", "600", join(data, "server.key")], "chmod server.key");
    const port = await freePort();
    const logFile = join(dir, "postgres.log");
    writeFileSync(logFile, "");
    if (prefix.length) run(["chown", "postgres:postgres", logFile], "chown log");
    server = startProcess("postgres", prefix[0] ?? join(bin, "postgres"), [...prefix.slice(1), ...(prefix.length ? [join(bin, "postgres")] : []),
      "-D", data, "-h", "127.0.0.1", "-p", String(port), "-k", dir, "-c", "ssl=on", "-c", "fsync=off", "-c", "max_connections=200"], { env: { PATH: process.env.PATH }, logFile });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        run([join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", String(port)], "pg_isready");
        break;
      } catch (error) {
        if (server.exitCode() !== undefined || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${logTail(logFile)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const psql = (sql: string) => run([...prefix, join(bin, "psql"), "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], "psql");
    psql(`CREATE ROLE ${ident(credentials.username)} LOGIN PASSWORD ${literal(credentials.password)}`);
    psql(`CREATE DATABASE ${ident(credentials.database)} OWNER ${ident(credentials.username)}`);
    const sql = (query: string) =>
      execFileSync(join(bin, "psql"), ["-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, PGHOST: "127.0.0.1", PGPORT: String(port), PGDATABASE: credentials.database, PGUSER: credentials.username, PGPASSWORD: credentials.password, PGSSLMODE: "require" },
      }).trim();
    return { host: "127.0.0.1", port, ...credentials, logFile, sql, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
