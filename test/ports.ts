/**
 * Ports for the servers the suites start on 127.0.0.1. A port found free and then closed can be taken
 * before its server binds it: by an outgoing connection (the kernel hands those out from the ephemeral
 * range) or by another test file running at the same time. So ports come from below the ephemeral range,
 * and each is reserved across processes by a file naming the process that holds it until that process ends.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive } from "../generator/fs/lock.js";

const RESERVED = join(tmpdir(), "airflow-gitops-ports");
const LOWEST = 10_000;
const held: string[] = [];

/** The first port of the kernel's ephemeral range (`ip_local_port_range`), where no chosen port may lie. */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > LOWEST + 1000) return first;
  } catch {
    // Not Linux: the IANA range.
  }
  return 49_152;
}

/** Takes the reservation of `port` unless a living process holds it. */
function reserve(port: number): boolean {
  const file = join(RESERVED, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.push(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(file, "utf8") || "0");
      if (holder && alive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nothing listens on, outside the ephemeral range, reserved for this process. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVED, { recursive: true });
  const span = ephemeralStart() - LOWEST;
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * span);
    if (!reserve(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOWEST} and ${LOWEST + span} after 200 tries (reservations in ${RESERVED})`);
}

process.once("exit", () => {
  for (const file of held) rmSync(file, { force: true });
});

