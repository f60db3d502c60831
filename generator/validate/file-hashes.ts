/**
 * A stat-keyed index of file hashes, kept beside the validate cache like git's index: for each path,
 * the file's size, modification and change times, inode and device when it was hashed, and its
 * SHA-256. A file whose stat still matches is not read again; any difference and it is read and hashed.
 *
 * The racy case (as git calls it): a file rewritten within one timestamp tick keeps its stat, so an
 * entry is trusted only when the file's times are safely older (by more than the coarsest common
 * timestamp granularity) than the moment its hash was taken; a younger one is hashed again, every run,
 * until it is old enough. The moment is taken from the clock before the first file is examined, so it
 * is never later than any read whose hash the index records.
 *
 * Any write sets the change time to the clock (no program can set it back, unlike the modification
 * time), so outside that window a changed file never shows the stat it was hashed at.
 *
 * The index is written beside its place and renamed; an index that does not parse as this format is
 * ignored, so a damaged one only costs reading the files again.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import { dirname } from "node:path";

const FORMAT = "airflow-gitops file hashes 1";

/** Timestamps this close to the index's moment may share a tick with a later rewrite (FAT has 2 s ticks). */
export const RACY_WINDOW_MS = 2000;

export type StatFile = (path: string) => BigIntStats | undefined;

const statFile: StatFile = (path) => statSync(path, { bigint: true, throwIfNoEntry: false });

interface Stored {
  format: string;
  /** Milliseconds since the epoch before the first file of the run that wrote the index was examined. */
  examinedAt: number;
  /** Path → [stat signature, sha256]. */
  files: Record<string, [string, string]>;
  /** Content hash of a file → a value derived from that content (e.g. the paths a kustomization names). */
  derived: Record<string, unknown>;
  /** What derived them (the deriving code's version): values derived otherwise are not used. */
  derivedBy: string;
}

export interface IndexOptions {
  stat?: StatFile;
  /** The moment before the first file is examined (the clock, unless a test says otherwise). */
  now?: number;
  /** The version of the code that derives values (see `derived`); values of another version are dropped. */
  derivedBy?: string;
  /** Seals the stored index so that a hand-edited one is not believed (see cache-seal.ts). */
  seal?: Seal;
}

/** What FileHashIndex needs of a CacheSeal. */
export interface Seal {
  seal(text: string): string | undefined;
  open(sealed: string): string | undefined;
}

export class FileHashIndex {
  /** Files read and hashed in this run (the rest came from the index). */
  hashed = 0;
  private readonly examinedAt: number;
  private readonly previous: Stored;
  private readonly current = new Map<string, [string, string]>();
  private readonly derivedValues = new Map<string, unknown>();
  private changed = false;

  private readonly stat: StatFile;
  private readonly derivedBy: string;
  private readonly seal: Seal | undefined;

  constructor(
    /** Where the index is kept; undefined keeps nothing between runs. */
    readonly path: string | undefined,
    options: IndexOptions = {},
  ) {
    this.stat = options.stat ?? statFile;
    this.examinedAt = options.now ?? Date.now();
    this.derivedBy = options.derivedBy ?? "";
    this.seal = options.seal;
    this.previous = (path && readIndex(path, this.seal)) || { format: FORMAT, examinedAt: 0, files: {}, derived: {}, derivedBy: "" };
    if (this.previous.derivedBy !== this.derivedBy) this.previous.derived = {};
  }

  /** The SHA-256 (hex) of a file's content; throws as readFileSync does when it cannot be read. */
  hash(file: string): string {
    const known = this.current.get(file);
    if (known) return known[1];
    const stat = this.stat(file);
    const signature = stat ? statSignature(stat) : "";
    const stored = this.previous.files[file];
    if (stat && stored && stored[0] === signature && !racy(stat, this.previous.examinedAt)) {
      this.current.set(file, stored);
      return stored[1];
    }
    const hash = sha256(readFileSync(file));
    this.hashed++;
    this.changed = true;
    if (stat) this.current.set(file, [signature, hash]);
    return hash;
  }

  /**
   * A value derived from a file's content (`derive` is given the text), remembered under the hash of
   * the very text it was derived from, so it can never be paired with other content.
   */
  derived<T>(file: string, derive: (text: string) => T): T {
    const known = this.previous.derived[this.hash(file)] as T | undefined;
    if (known !== undefined) {
      this.derivedValues.set(this.hash(file), known);
      return known;
    }
    const text = readFileSync(file, "utf8");
    const value = derive(text);
    this.derivedValues.set(sha256(text), value);
    this.changed = true;
    return value;
  }

  /**
   * Writes the index when this run hashed anything: the entries of this run, and those of the previous
   * index not looked at that were safely old then (so still are) and whose file is unchanged.
   */
  save(): void {
    if (!this.path || !this.changed) return;
    const files: Record<string, [string, string]> = {};
    for (const [file, stored] of Object.entries(this.previous.files)) {
      if (this.current.has(file)) continue;
      const stat = this.stat(file);
      if (stat && statSignature(stat) === stored[0] && !racy(stat, this.previous.examinedAt)) files[file] = stored;
    }
    for (const [file, stored] of this.current) files[file] = stored;
    const hashes = new Set(Object.values(files).map((stored) => stored[1]));
    const derived = Object.fromEntries([...Object.entries(this.previous.derived).filter(([hash]) => hashes.has(hash)), ...this.derivedValues]);
    const staging = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const text = JSON.stringify({ format: FORMAT, examinedAt: this.examinedAt, files, derived, derivedBy: this.derivedBy } satisfies Stored);
      const sealed = this.seal ? this.seal.seal(text) : text;
      if (sealed === undefined) return;
      writeFileSync(staging, sealed);
      renameSync(staging, this.path);
    } catch {
      // An index that cannot be written only costs reading the files again next time.
      rmSync(staging, { force: true });
    }
  }
}

function readIndex(path: string, seal: Seal | undefined): Stored | undefined {
  try {
    const raw = readFileSync(path, "utf8");
    const text = seal ? seal.open(raw) : raw;
    if (text === undefined) return undefined;
    const stored = JSON.parse(text) as Partial<Stored>;
    const valid =
      stored.format === FORMAT &&
      typeof stored.examinedAt === "number" &&
      isRecord(stored.files) &&
      isRecord(stored.derived) &&
      typeof stored.derivedBy === "string" &&
      Object.values(stored.files).every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && /^[0-9a-f]{64}$/.test(e[1]));
    return valid ? (stored as Stored) : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function statSignature(stat: BigIntStats): string {
  return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}:${stat.dev}`;
}

/** Whether the file's times are too close to (or after) `examinedAt` to rule out a rewrite within the same tick. */
function racy(stat: BigIntStats, examinedAt: number): boolean {
  const safeBefore = BigInt(Math.floor(examinedAt - RACY_WINDOW_MS)) * 1_000_000n;
  return stat.mtimeNs >= safeBefore || stat.ctimeNs >= safeBefore;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
