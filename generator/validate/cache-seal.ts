/**
 * The validate cache repeats verdicts, so whoever can write an entry could make a broken build pass. Every
 * entry and the file-hash index are sealed with an HMAC under a key only the user can read
 * (`seal.key`, mode 0600, in a 0700 directory); a file whose seal does not verify is a miss, and a key
 * another user could read or replace is not trusted: a new one is made, which turns every old entry into a miss.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

const KEY_FILE = "seal.key";
const KEY_BYTES = 32;

export class CacheSeal {
  private constructor(private readonly key: Buffer | undefined) {}

  /** The seal of the cache in `dir`; one that cannot be had seals nothing and opens nothing. */
  static forDir(dir: string): CacheSeal {
    return new CacheSeal(trustedKey(dir));
  }

  /** `text` with its seal on the first line. */
  seal(text: string): string | undefined {
    return this.key ? `${this.mac(text)}\n${text}` : undefined;
  }

  /** The text of a sealed file, or undefined when the seal is missing or wrong. */
  open(sealed: string): string | undefined {
    if (!this.key) return undefined;
    const newline = sealed.indexOf("\n");
    if (newline < 0) return undefined;
    const given = Buffer.from(sealed.slice(0, newline), "hex");
    const text = sealed.slice(newline + 1);
    const expected = Buffer.from(this.mac(text), "hex");
    return given.length === expected.length && timingSafeEqual(given, expected) ? text : undefined;
  }

  private mac(text: string): string {
    return createHmac("sha256", this.key!).update(text).digest("hex");
  }
}

function trustedKey(dir: string): Buffer | undefined {
  const path = join(dir, KEY_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const existing = readKey(path);
    if (existing) return existing;
    rmSync(path, { force: true });
    const key = randomBytes(KEY_BYTES);
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, key);
    } finally {
      closeSync(fd);
    }
    return key;
  } catch {
    // Another run made the key this instant (read it), or the cache cannot be written (no sealing at all).
    return readKey(path);
  }
}

/** The key when it is a regular file of the current user that nobody else can read or write. */
function readKey(path: string): Buffer | undefined {
  try {
    const stat = lstatSync(path);
    const mine = process.getuid === undefined || stat.uid === process.getuid();
    if (!stat.isFile() || !mine || (stat.mode & 0o077) !== 0 || stat.size !== KEY_BYTES) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
