/**
 * What Airflow 3 accepts in airflow.cfg: every option of core Airflow (3.2 series) and of the
 * cncf.kubernetes, fab, amazon and standard providers, plus the options renamed or removed since
 * Airflow 2. Compiled from apache/airflow's config.yml, the providers' provider.yaml files and the
 * `airflow config lint` change table.
 */
import data from "./airflow-options.json" with { type: "json" };

interface OptionsData {
  airflowSeries: string;
  sections: Record<string, Record<string, string[]>>;
  renamed: Record<string, { new: string; oldNameStillRead: boolean }>;
  removed: Record<string, string>;
  removedSections: Record<string, string>;
  openSections: string[];
  enums: Record<string, string[]>;
}

const options = data as OptionsData;

export type OptionVerdict =
  | { kind: "known"; deprecated: boolean }
  | { kind: "unknown-option"; known: string[] }
  | { kind: "unlisted-section" }
  | { kind: "renamed"; to: string }
  | { kind: "removed"; suggestion: string }
  | { kind: "removed-section"; to: string };

export function judgeOption(section: string, option: string): OptionVerdict {
  const removedSectionTarget = options.removedSections[section];
  if (removedSectionTarget !== undefined) return { kind: "removed-section", to: removedSectionTarget };
  const renamed = options.renamed[`${section}.${option}`];
  if (renamed) return { kind: "renamed", to: renamed.new };
  const removed = options.removed[`${section}.${option}`];
  if (removed !== undefined) return { kind: "removed", suggestion: removed };
  const known = options.sections[section];
  // Providers not covered by the list may add sections of their own; their options cannot be checked.
  if (!known || options.openSections.includes(section)) return { kind: "unlisted-section" };
  const flags = known[option];
  if (!flags) return { kind: "unknown-option", known: Object.keys(known) };
  return { kind: "known", deprecated: flags.includes("deprecated") };
}

/** The Airflow series (`3.2`) the option table was compiled from. */
export const OPTION_TABLE_SERIES = options.airflowSeries;

export function allowedValues(section: string, option: string): readonly string[] | undefined {
  return options.enums[`${section}.${option}`];
}
