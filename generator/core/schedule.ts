/**
 * The peak-hour plan of an environment as a week grid: for each autoscaled component the replicas the
 * schedule holds in each hour (the autoscaler's minimum, or the peak replicas during a window), and
 * the warm placeholders (from the lead time before each window to its end). CPU may add replicas
 * above the grid, up to the autoscaler's maximum.
 */
import { leadTimeMinutes, MINUTES_PER_WEEK, weekIntervals } from "../shared/peak-windows.js";
import type { Target } from "./target.js";

/** Display order of the days (cron numbers, Sunday = 0), Monday first. */
export const DISPLAY_DAYS = [1, 2, 3, 4, 5, 6, 0] as const;
export const DAY_LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

export interface ScheduleRow {
  label: string;
  note: string;
  /** [display day][hour] -> replicas held during that hour. */
  values: number[][];
}

export interface WeekPlan {
  environment: string;
  timezone: string;
  /** The zone's UTC offset, or its winter and summer offsets. */
  offset: string;
  rows: ScheduleRow[];
}

const SCALED = [
  { component: "api-server", key: "apiServer" },
  { component: "scheduler", key: "scheduler" },
] as const;

/** undefined when the environment neither autoscales nor has peak hours. */
export function weekPlan(target: Target): WeekPlan | undefined {
  const env = target.environment;
  if (!env?.autoscaling && !env?.peakHours) return undefined;
  const peak = env.peakHours;
  const windows = peak?.windows ?? [];
  const inWindow = activeHours(windows.flatMap((w) => weekIntervals(w)));
  const rows: ScheduleRow[] = [];
  for (const { component, key } of SCALED) {
    const bounds = env.autoscaling?.[key];
    if (!bounds) continue;
    const peakReplicas = env.autoscaling?.engine === "keda" ? peak?.replicas[key] : undefined;
    rows.push({
      label: `${component} replicas`,
      note: `autoscaled ${bounds.min}-${bounds.max} on CPU ${bounds.cpuUtilization}%${peakReplicas ? `, ${peakReplicas} during peak windows` : ""}`,
      values: grid((day, hour) => (peakReplicas !== undefined && inWindow(day, hour) ? Math.max(bounds.min, peakReplicas) : bounds.min)),
    });
  }
  const warm = peak?.warmCapacity;
  if (warm) {
    const lead = leadTimeMinutes(warm.leadTime);
    const held = activeHours(windows.flatMap((w) => weekIntervals(w).map(([s, e]): [number, number] => [s - lead, e])));
    rows.push({
      label: "warm placeholders",
      note: `${warm.placeholders} pause pod${warm.placeholders === 1 ? "" : "s"} of ${warm.cpu} CPU and ${warm.memory}, from ${warm.leadTime} before each window to its end`,
      values: grid((day, hour) => (held(day, hour) ? warm.placeholders : 0)),
    });
  }
  return { environment: env.name, timezone: peak?.timezone ?? "UTC", offset: utcOffset(peak?.timezone ?? "UTC"), rows };
}

function grid(value: (cronDay: number, hour: number) => number): number[][] {
  return DISPLAY_DAYS.map((day) => Array.from({ length: 24 }, (_, hour) => value(day, hour)));
}

/** Whether any minute of an hour falls into one of the week intervals (which may wrap past Sunday night). */
function activeHours(intervals: readonly [number, number][]): (cronDay: number, hour: number) => boolean {
  return (day, hour) => {
    const start = day * 1440 + hour * 60;
    const end = start + 60;
    return intervals.some(([s, e]) => [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK].some((shift) => s + shift < end && start < e + shift));
  };
}

/** `UTC-03:00`, or `UTC+01:00 in January, UTC+02:00 in July` for zones with daylight saving time. */
export function utcOffset(timezone: string): string {
  const at = (iso: string) => {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
      .formatToParts(new Date(iso))
      .find((p) => p.type === "timeZoneName")?.value;
    return part === "GMT" || part === undefined ? "UTC+00:00" : part.replace("GMT", "UTC");
  };
  // Fixed dates, so the text never depends on when it is generated.
  const [january, july] = [at("2026-01-15T12:00:00Z"), at("2026-07-15T12:00:00Z")];
  return january === july ? january : `${january} in January, ${july} in July`;
}
