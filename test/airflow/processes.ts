/** Processes the Airflow suite starts: own process group, log to a file, stopped by process id. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";

export interface Started {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  exitCode(): number | null | undefined;
}

export { freePort } from "../ports.js";

/** Starts `command args` in its own process group, stdout and stderr appended to `logFile`. */
export function startProcess(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string }): Started {
  const fd = openSync(options.logFile, "a");
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (c, signal) => {
      code = c ?? (signal ? -1 : null);
      resolve(code);
    });
    child.once("error", () => {
      code = -1;
      resolve(-1);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return { name, pid: child.pid, logFile: options.logFile, child, exited, exitCode: () => code };
}

/** SIGTERM to the process group of `pid`, SIGKILL after the grace period; resolves once it has exited. */
export async function stopProcess(started: Started, graceMs = 15_000): Promise<void> {
  if (started.exitCode() !== undefined) return;
  signalGroup(started.pid, "SIGTERM");
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
  if ((await Promise.race([started.exited, timer])) === "timeout") {
    signalGroup(started.pid, "SIGKILL");
    await started.exited;
  }
  // children that left the group's leader behind (workers of a server) go with the group
  signalGroup(started.pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** The last lines of a log file, for failure messages. */
export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
