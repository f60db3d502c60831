/**
 * Peak windows (`mon-fri 07:00-11:00` in a time zone) as the start/end cron pairs KEDA's cron scaler
 * takes, and as minutes of the week for overlap checks. A window whose end is not after its start
 * ends the next day, so its end fires on the following days of the week.
 */
import type { PeakWindow } from "../config/schema.js";

/** Day names in cron order: Sunday is 0. */
export const WEEK_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const MINUTES_PER_DAY = 24 * 60;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** `mon-fri`, `sat,sun`, `fri-mon` (wrapping) or `daily` as sorted cron day numbers. */
export function parseDays(spec: string): number[] {
  if (spec === "daily") return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of spec.split(",")) {
    const [from, to = from] = part.split("-").map(dayNumber);
    for (let d = from!; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function dayNumber(name: string): number {
  const index = WEEK_DAYS.indexOf(name as (typeof WEEK_DAYS)[number]);
  if (index < 0) throw new Error(`not a day of the week: ${name}`);
  return index;
}

/** `07:30` as minutes after midnight. */
export function minutesOfDay(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return h! * 60 + m!;
}

/** `1h30m` as minutes. */
export function leadTimeMinutes(spec: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(spec);
  if (!match || spec === "") throw new Error(`not a lead time: ${spec}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

/** Cron day-of-week field: `*` for every day, ranges where days are consecutive (`1-5`, `0,6`). */
export function cronDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return "*";
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

function shiftDays(days: readonly number[], by: number): number[] {
  return days.map((d) => (((d + by) % 7) + 7) % 7);
}

function cron(minuteOfDay: number, days: readonly number[]): string {
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * ${cronDays(days)}`;
}

export interface CronWindow {
  start: string;
  end: string;
}

/**
 * The start and end cron expressions of a window, with the start moved `leadMinutes` earlier (to the
 * previous day when that crosses midnight).
 */
export function cronWindow(window: PeakWindow, leadMinutes = 0): CronWindow {
  const days = parseDays(window.days);
  const start = minutesOfDay(window.start);
  const end = minutesOfDay(window.end);
  if (start === end) throw new Error(`window ${describeWindow(window)} is empty`);
  if (leadMinutes < 0 || leadMinutes >= MINUTES_PER_DAY) throw new Error(`lead time ${leadMinutes}m is out of range`);
  const leadStart = start - leadMinutes;
  const startDays = leadStart < 0 ? shiftDays(days, -1) : days;
  const endDays = end < start ? shiftDays(days, 1) : days;
  return {
    start: cron((leadStart + MINUTES_PER_DAY) % MINUTES_PER_DAY, startDays),
    end: cron(end, endDays),
  };
}

/** The window's occurrences as [start, end) minutes of the week (Sunday 00:00 is 0); ends may pass the week's end. */
export function weekIntervals(window: PeakWindow): [number, number][] {
  const start = minutesOfDay(window.start);
  const end = minutesOfDay(window.end);
  const length = (end - start + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return parseDays(window.days).map((d) => [d * MINUTES_PER_DAY + start, d * MINUTES_PER_DAY + start + length]);
}

/** Pairs of window indexes that share at least one minute, counting the wrap from Saturday night into Sunday. */
export function overlappingWindows(windows: readonly PeakWindow[]): [number, number][] {
  const intervals = windows.map(weekIntervals);
  const pairs: [number, number][] = [];
  for (let a = 0; a < windows.length; a++) {
    for (let b = a + 1; b < windows.length; b++) {
      const clash = intervals[a]!.some(([s1, e1]) =>
        intervals[b]!.some(([s2, e2]) =>
          [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK].some((shift) => s1 < e2 + shift && s2 + shift < e1),
        ),
      );
      if (clash) pairs.push([a, b]);
    }
  }
  return pairs;
}

export function describeWindow(window: PeakWindow): string {
  return `${window.days} ${window.start}-${window.end}`;
}
