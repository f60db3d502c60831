/**
 * A measured peak-hour day beside its plan: each measured step (the placeholders up, the peak replicas
 * reached, back to off-peak) against the planned minute it answers (the lead time, the window's start, its
 * end), as local times of the environment's zone and the lag in seconds. The measurement comes from a run
 * of the controllers (the real-cluster suite writes one); this module only compares.
 */
import { leadTimeMinutes, MINUTES_PER_WEEK, WEEK_DAYS, weekIntervals } from "../shared/peak-windows.js";
import type { Target } from "./target.js";

export const DAY_STEPS = ["lead", "start", "end"] as const;
export type DayStep = (typeof DAY_STEPS)[number];

export interface MeasuredDay {
  environment: string;
  /** What produced the measurement, e.g. `test/e2e/peak-hours.test.ts`. */
  source: string;
  steps: { step: DayStep; at: string; what: string }[];
}

export interface StepComparison {
  what: string;
  planned: string;
  measured: string;
  lagSeconds: number;
}

/** Problems of a parsed measurement file, as `field: message`. */
export function measuredDayIssues(value: unknown): string[] {
  const v = value as Partial<MeasuredDay> | null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) return ["the file must hold an object"];
  const issues: string[] = [];
  if (typeof v.environment !== "string") issues.push("environment: must be a string");
  if (typeof v.source !== "string") issues.push("source: must be a string");
  if (!Array.isArray(v.steps)) return [...issues, "steps: must be a list"];
  v.steps.forEach((s, i) => {
    if (!DAY_STEPS.includes(s?.step as DayStep)) issues.push(`steps[${i}].step: must be one of ${DAY_STEPS.join(", ")}`);
    if (typeof s?.at !== "string" || Number.isNaN(Date.parse(s.at))) issues.push(`steps[${i}].at: must be an ISO 8601 time`);
    if (typeof s?.what !== "string") issues.push(`steps[${i}].what: must be a string`);
  });
  return issues;
}

const LABEL: Record<DayStep, string> = { lead: "lead time", start: "window start", end: "window end" };

/** The week's planned minutes (local, minutes since Sunday 00:00) of one step, over every window. */
function plannedMinutes(target: Target, step: DayStep): number[] {
  const peak = target.environment?.peakHours;
  if (!peak) return [];
  const lead = peak.warmCapacity ? leadTimeMinutes(peak.warmCapacity.leadTime) : 0;
  return peak.windows.flatMap((w) => weekIntervals(w).map(([start, end]) => (step === "lead" ? start - lead : step === "start" ? start : end)));
}

/** Seconds since Sunday 00:00 of `at`, in `timezone`. */
function localWeekSeconds(at: Date, timezone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const day = WEEK_DAYS.indexOf(parts.weekday!.toLowerCase() as (typeof WEEK_DAYS)[number]);
  return ((day * 24 + Number(parts.hour)) * 60 + Number(parts.minute)) * 60 + Number(parts.second);
}

const WEEK_SECONDS = MINUTES_PER_WEEK * 60;
const pad = (n: number) => String(n).padStart(2, "0");

function weekTime(seconds: number, withSeconds: boolean): string {
  const s = ((seconds % WEEK_SECONDS) + WEEK_SECONDS) % WEEK_SECONDS;
  const day = WEEK_DAYS[Math.floor(s / 86_400)]!;
  const clock = `${pad(Math.floor((s % 86_400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}`;
  return `${day[0]!.toUpperCase()}${day.slice(1)} ${clock}${withSeconds ? `:${pad(s % 60)}` : ""}`;
}

/** Each measured step against the planned minute nearest to it (the lag is negative when it came early). */
export function compareDay(target: Target, measured: MeasuredDay): StepComparison[] {
  const timezone = target.environment?.peakHours?.timezone ?? "UTC";
  return measured.steps.flatMap(({ step, at, what }) => {
    const seconds = localWeekSeconds(new Date(at), timezone);
    const candidates = plannedMinutes(target, step).map((minute) => {
      const lag = ((((seconds - minute * 60) % WEEK_SECONDS) + WEEK_SECONDS * 1.5) % WEEK_SECONDS) - WEEK_SECONDS / 2;
      return { minute, lag };
    });
    const nearest = candidates.sort((a, b) => Math.abs(a.lag) - Math.abs(b.lag))[0];
    if (!nearest) return [];
    return [{ what: `${what} (${LABEL[step]})`, planned: weekTime(nearest.minute * 60, false), measured: weekTime(seconds, true), lagSeconds: nearest.lag }];
  });
}
