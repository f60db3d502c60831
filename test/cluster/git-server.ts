/**
 * A git server on 127.0.0.1 over https, standing in for the repository's host (GitHub or the like): git's
 * own smart-HTTP program (`git http-backend`, run per request as CGI) behind a Node TLS server. It serves
 * every repository below `root` read-only and anonymously: `https://127.0.0.1:<port>/<name>.git` is the
 * working repository `<root>/<name>`, so a commit there is what the next fetch sees.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import { join } from "node:path";

export interface GitServerOptions {
  root: string;
  cert: string;
  key: string;
  /** Fixed port (to start it again where clients expect it); a free one when absent. */
  port?: number;
}

export class GitServer {
  private server?: Server;
  private readonly sockets = new Set<Duplex>();
  private readonly children = new Set<ChildProcess>();
  port = 0;

  constructor(private readonly options: GitServerOptions) {}

  url(name: string): string {
    return `https://127.0.0.1:${this.port}/${name}.git`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer({ cert: readFileSync(this.options.cert), key: readFileSync(this.options.key) }, (req, res) => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const match = /^\/([\w.-]+)\.git(\/.*)$/.exec(url.pathname);
      if (!match || !["GET", "POST"].includes(req.method ?? "")) {
        res.writeHead(404).end();
        return;
      }
      const child = spawn("git", ["http-backend"], {
        env: {
          PATH: process.env.PATH,
          HOME: this.options.root,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_PROJECT_ROOT: this.options.root,
          GIT_HTTP_EXPORT_ALL: "1",
          PATH_INFO: `/${match[1]}/.git${match[2]}`,
          REQUEST_METHOD: req.method,
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
          ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) } : {}),
          ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        },
        stdio: ["pipe", "pipe", "ignore"],
      });
      this.children.add(child);
      child.on("exit", () => this.children.delete(child));
      child.on("error", () => res.destroy());
      req.pipe(child.stdin!);
      child.stdin!.on("error", () => {});
      // CGI output: header lines, an empty line, then the body.
      let head = Buffer.alloc(0);
      let headerDone = false;
      child.stdout!.on("data", (chunk: Buffer) => {
        if (headerDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const text = head.toString("latin1");
        const end = text.search(/\r?\n\r?\n/);
        if (end < 0) return;
        const separator = /\r?\n\r?\n/.exec(text.slice(end))![0].length;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of text.slice(0, end).split(/\r?\n/)) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        headerDone = true;
        const rest = head.subarray(end + separator);
        if (rest.length) res.write(rest);
      });
      child.stdout!.on("end", () => (headerDone ? res.end() : res.writeHead(502).end()));
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.options.port = this.port;
    this.server = server;
  }

  /** Stops listening, drops open connections and ends any request still running (its git process, by pid). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    for (const child of this.children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    await closed;
  }
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const server = new GitServer(options);
  await server.start();
  return server;
}

/** `git` in a repository below the server's root, with a fixed identity and no user or system config. */
export function gitEnv(root: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: join(root, ".home"),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "airflow-gitops e2e",
    GIT_AUTHOR_EMAIL: "e2e@example.invalid",
    GIT_COMMITTER_NAME: "airflow-gitops e2e",
    GIT_COMMITTER_EMAIL: "e2e@example.invalid",
  };
}
