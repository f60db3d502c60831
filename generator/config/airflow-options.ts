/**
 * What each supported Airflow line accepts in airflow.cfg: the options of core Airflow and of every
 * provider its apache/airflow image ships, the renamed ones (still read or not) and the removed ones,
 * one table per line, generated from the release's wheels by test/airflow/update-option-tables.sh.
 */
import line32 from "./airflow-options/3.2.json" with { type: "json" };
import line33 from "./airflow-options/3.3.json" with { type: "json" };
import { majorMinor } from "./image-tag.js";

interface OptionEntry {
  /** The release that added it (`version_added`), empty when the source does not say. */
  since: string;
  /** Why it is deprecated, when it is. */
  deprecated?: string;
  provider?: string;
}

interface OptionTable {
  airflow: string;
  line: string;
  packages: Record<string, string>;
  sections: Record<string, Record<string, OptionEntry>>;
  renamed: Record<string, { new: string; since?: string; oldNameStillRead: boolean }>;
  removed: Record<string, string>;
  removedSections: Record<string, string>;
  enums: Record<string, string[]>;
}

/** Newest first. */
const TABLES: readonly OptionTable[] = [line33, line32] as OptionTable[];

/** The supported Airflow lines (`3.3`, `3.2`), newest first, each with the release its table was read from. */
export const SUPPORTED_LINES: readonly { line: string; release: string }[] = TABLES.map((t) => ({ line: t.line, release: t.airflow }));

/** The newest supported line: new configs start there. */
export const DEFAULT_LINE = TABLES[0]!.line;

/** The line (`3.3`) an image tag belongs to, if its version can be read from it. */
export function lineOf(tag: string): string | undefined {
  const version = majorMinor(tag);
  return version ? `${version[0]}.${version[1]}` : undefined;
}

export function isSupportedLine(line: string): boolean {
  return TABLES.some((t) => t.line === line);
}

function table(line: string): OptionTable {
  const found = TABLES.find((t) => t.line === line);
  if (!found) throw new Error(`no option table for Airflow ${line}`);
  return found;
}

export type OptionVerdict =
  | { kind: "known"; deprecated?: string }
  | { kind: "unknown-option"; known: string[]; elsewhere?: { line: string; since: string; provider?: string } }
  | { kind: "unknown-section"; known: string[]; elsewhere?: { line: string } }
  | { kind: "renamed"; to: string; since?: string; stillRead: boolean }
  | { kind: "removed"; suggestion: string }
  | { kind: "removed-section"; to: string };

/** What `line` makes of `[section] option`, and where another supported line differs. */
export function judgeOption(line: string, section: string, option: string): OptionVerdict {
  const t = table(line);
  const removedSection = t.removedSections[section];
  if (removedSection !== undefined) return { kind: "removed-section", to: removedSection };
  const renamed = t.renamed[`${section}.${option}`];
  if (renamed) return { kind: "renamed", to: renamed.new, ...(renamed.since ? { since: renamed.since } : {}), stillRead: renamed.oldNameStillRead };
  const removed = t.removed[`${section}.${option}`];
  if (removed !== undefined) return { kind: "removed", suggestion: removed };
  const others = TABLES.filter((other) => other !== t);
  const options = t.sections[section];
  if (!options) {
    const other = others.find((o) => o.sections[section]);
    return { kind: "unknown-section", known: Object.keys(t.sections), ...(other ? { elsewhere: { line: other.line } } : {}) };
  }
  const entry = options[option];
  if (!entry) {
    const other = others.find((o) => o.sections[section]?.[option]);
    return {
      kind: "unknown-option",
      known: Object.keys(options),
      ...(other ? { elsewhere: { line: other.line, ...pick(other.sections[section]![option]!) } } : {}),
    };
  }
  return { kind: "known", ...(entry.deprecated !== undefined ? { deprecated: entry.deprecated } : {}) };
}

/** Whether a line has the task state store (`[state_store]`, `airflow state-store clean`). */
export function hasStateStore(line: string | undefined): boolean {
  return line !== undefined && isSupportedLine(line) && table(line).sections.state_store !== undefined;
}

function pick(entry: OptionEntry): { since: string; provider?: string } {
  return { since: entry.since, ...(entry.provider ? { provider: entry.provider } : {}) };
}

export function allowedValues(line: string, section: string, option: string): readonly string[] | undefined {
  return table(line).enums[`${section}.${option}`];
}
