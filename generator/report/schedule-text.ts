/** `schedule <env>`: the week plan as text grids, days down, hours across. */
import type { StepComparison } from "../core/measured-day.js";
import { DAY_LABELS, type WeekPlan } from "../core/schedule.js";
import type { Style } from "./style.js";
import type { ConnectionBudget } from "../shared/connection-budget.js";

export function scheduleText(plan: WeekPlan, style: Style): string[] {
  const lines = [style.bold(`${plan.environment}: hours in ${plan.timezone} (${plan.offset})`)];
  for (const row of plan.rows) {
    const floor = Math.min(...row.values.flat());
    lines.push("", `${style.bold(row.label)} (${row.note})`);
    lines.push(`     ${Array.from({ length: 24 }, (_, h) => String(h).padStart(3)).join("")}`);
    row.values.forEach((hours, d) => {
      const cells = hours.map((v) => {
        const text = String(v).padStart(3);
        return v > floor ? style.green(text) : style.dim(text);
      });
      lines.push(`${DAY_LABELS[d]}  ${cells.join("")}`);
    });
  }
  return lines;
}

/** What the replica counts mean beyond pods: `[core] parallelism` is per scheduler, and every process holds a database pool. */
export function limitsText(budget: ConnectionBudget, fewestSchedulers: number): string[] {
  const { parallelism, schedulers } = budget.taskConcurrency;
  const range = fewestSchedulers === schedulers ? `${schedulers}` : `${fewestSchedulers}-${schedulers}`;
  const tasks = fewestSchedulers === schedulers ? `${parallelism * schedulers}` : `${parallelism * fewestSchedulers}-${parallelism * schedulers}`;
  return [
    "",
    `task pods at once: up to ${tasks} ([core] parallelism ${parallelism} per scheduler × ${range} scheduler(s))`,
    `database connections at the most replicas: up to ${budget.total} (replicas × pool: ${budget.parts.join(" + ")})`,
  ];
}

/** `schedule <env> --measured <file>`: each measured step beside its planned minute. */
export function measuredDayText(comparisons: readonly StepComparison[], source: string, timezone: string, style: Style): string[] {
  const width = Math.max(4, ...comparisons.map((c) => c.what.length));
  const lines = ["", style.bold(`measured by ${source} (local times in ${timezone})`), `${"step".padEnd(width)}  planned    measured      lag`];
  for (const c of comparisons) {
    const lag = `${c.lagSeconds >= 0 ? "+" : ""}${c.lagSeconds} s`;
    lines.push(`${c.what.padEnd(width)}  ${c.planned.padEnd(9)}  ${c.measured.padEnd(12)}  ${lag}`);
  }
  return lines;
}
