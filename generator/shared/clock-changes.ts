/**
 * The days a time zone's clocks change, as local times: a jump forward leaves local times that do not
 * exist (a gap), a jump back makes local times happen twice (a fold). Read from the platform's time
 * zone database through Intl; deterministic: the same fixed years are scanned on every run.
 */

export interface ClockChange {
  /** The local date of the change, YYYY-MM-DD, and its weekday (Sunday 0). */
  date: string;
  weekday: number;
  kind: "gap" | "fold";
  /** Local minutes of the day [from, to) that do not exist (gap) or happen twice (fold). */
  from: number;
  to: number;
}

/** Representative years: the rules of a zone repeat, so two years show each of its changes. */
const YEARS = [2026, 2027] as const;
const WEEK_MS = 7 * 86_400_000;
const MINUTE_MS = 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at `instant`, in minutes. */
function offsetMinutes(timezone: string, instant: number): number {
  let format = formatters.get(timezone);
  if (!format) formatters.set(timezone, (format = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })));
  const name = format.formatToParts(instant).find((p) => p.type === "timeZoneName")!.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

const known = new Map<string, readonly ClockChange[]>();

export function clockChanges(timezone: string): readonly ClockChange[] {
  let changes = known.get(timezone);
  if (!changes) known.set(timezone, (changes = scan(timezone)));
  return changes;
}

function scan(timezone: string): ClockChange[] {
  const changes: ClockChange[] = [];
  const first = Date.UTC(YEARS[0], 0, 1);
  const last = Date.UTC(YEARS[YEARS.length - 1]! + 1, 0, 1);
  // Week by week (no zone changes its clocks twice in a week), then the minute of the change by bisection.
  let before = offsetMinutes(timezone, first);
  for (let week = first; week < last; week += WEEK_MS) {
    const after = offsetMinutes(timezone, week + WEEK_MS);
    if (after === before) continue;
    let low = week;
    let high = week + WEEK_MS;
    while (high - low > MINUTE_MS) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetMinutes(timezone, middle) === before) low = middle;
      else high = middle;
    }
    // A gap starts at the local time the clock leaves, a fold at the one it goes back to (the day before, across midnight).
    const start = new Date(high + Math.min(before, after) * MINUTE_MS);
    const from = start.getUTCHours() * 60 + start.getUTCMinutes();
    changes.push({
      date: start.toISOString().slice(0, 10),
      weekday: start.getUTCDay(),
      kind: after > before ? "gap" : "fold",
      from,
      to: from + Math.abs(after - before),
    });
    before = after;
  }
  return changes;
}

/** Whether local minute `minute` of the day lies in [from, to). */
export function inChange(change: ClockChange, minute: number): boolean {
  return minute >= change.from && minute < change.to;
}
