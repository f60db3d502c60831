/** `schedule <env>`: the week plan as text grids, days down, hours across. */
import { DAY_LABELS, type WeekPlan } from "../core/schedule.js";
import type { Style } from "./style.js";

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
