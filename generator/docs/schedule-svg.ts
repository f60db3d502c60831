/**
 * The week plan as an SVG picture for the README and pull requests: one heat grid (days x hours) per
 * row of the plan. Deterministic: no timestamps, fixed fonts and sizes, numbers printed the same way.
 */
import { DAY_LABELS, type WeekPlan } from "../core/schedule.js";

const CELL_W = 26;
const CELL_H = 20;
const LEFT = 44;
const GRID_W = CELL_W * 24;
const WIDTH = LEFT + GRID_W + 16;
const BLOCK_H = 36 + CELL_H * 7 + 26;

export function scheduleSvg(plan: WeekPlan): string {
  const parts: string[] = [];
  let y = 56;
  for (const row of plan.rows) {
    const max = Math.max(1, ...row.values.flat());
    parts.push(text(LEFT, y, `${row.label}: ${row.note}`, { size: 13, weight: "bold" }));
    for (let hour = 0; hour < 24; hour++) parts.push(text(LEFT + hour * CELL_W + CELL_W / 2, y + 18, pad(hour), { size: 10, anchor: "middle", fill: "#6b7280" }));
    row.values.forEach((hours, d) => {
      const top = y + 24 + d * CELL_H;
      parts.push(text(LEFT - 8, top + CELL_H / 2 + 4, DAY_LABELS[d]!, { size: 11, anchor: "end", fill: "#374151" }));
      // One bar per run of equal hours keeps the picture small even for hundreds of environments.
      for (const { start, length, value } of runs(hours)) {
        const x = LEFT + start * CELL_W;
        const width = length * CELL_W - 2;
        parts.push(`<rect x="${x}" y="${top}" width="${width}" height="${CELL_H - 2}" rx="3" fill="${shade(value / max)}"/>`);
        parts.push(text(x + width / 2, top + CELL_H / 2 + 3, String(value), { size: 10, anchor: "middle", fill: value / max > 0.55 ? "#ffffff" : "#111827" }));
      }
    });
    y += BLOCK_H;
  }
  const height = y - BLOCK_H + 36 + CELL_H * 7 + 20;
  const title = `Peak-hour plan of ${plan.environment}: hours in ${plan.timezone} (${plan.offset})`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Verdana, sans-serif">`,
    `<title>${escape(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(LEFT, 28, title, { size: 15, weight: "bold" }),
    ...parts,
    "</svg>",
  ].join("\n");
}

/** Consecutive hours with the same value. */
export function runs(hours: readonly number[]): { start: number; length: number; value: number }[] {
  const out: { start: number; length: number; value: number }[] = [];
  hours.forEach((value, hour) => {
    const last = out.at(-1);
    if (last && last.value === value) last.length++;
    else out.push({ start: hour, length: 1, value });
  });
  return out;
}

/** From near-white (nothing above the floor) to a strong blue (the most the row holds). */
function shade(level: number): string {
  const mix = (from: number, to: number) => Math.round(from + (to - from) * level);
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `#${hex(mix(0xf3, 0x1d))}${hex(mix(0xf4, 0x4e))}${hex(mix(0xf6, 0xd8))}`;
}

function text(x: number, y: number, content: string, style: { size: number; anchor?: string; weight?: string; fill?: string }): string {
  const attributes = [
    `x="${x}"`,
    `y="${y}"`,
    `font-size="${style.size}"`,
    ...(style.anchor ? [`text-anchor="${style.anchor}"`] : []),
    ...(style.weight ? [`font-weight="${style.weight}"`] : []),
    `fill="${style.fill ?? "#111827"}"`,
  ];
  return `<text ${attributes.join(" ")}>${escape(content)}</text>`;
}

function pad(hour: number): string {
  return String(hour).padStart(2, "0");
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
