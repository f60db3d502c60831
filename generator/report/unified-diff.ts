/** `gen --diff`: what generation would change, as one unified diff (a/ is the tree, b/ the generator's output). */
import { createTwoFilesPatch } from "diff";
import type { Plan } from "../fs/plan.js";
import type { Style } from "./style.js";

export function planDiff(plan: Plan, desired: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>, style: Style): string[] {
  const paths = [...plan.create, ...plan.update, ...plan.delete].sort();
  const lines: string[] = [];
  for (const path of paths) {
    const before = current.get(path);
    const after = desired.get(path);
    const patch = createTwoFilesPatch(
      before === undefined ? "/dev/null" : `a/${path}`,
      after === undefined ? "/dev/null" : `b/${path}`,
      before ?? "",
      after ?? "",
      undefined,
      undefined,
      { context: 3 },
    );
    // Drop the "====" separator line the library puts first.
    for (const line of patch.split("\n").slice(1)) {
      if (line === "") continue;
      if (line.startsWith("+++") || line.startsWith("---")) lines.push(style.bold(line));
      else if (line.startsWith("+")) lines.push(style.green(line));
      else if (line.startsWith("-")) lines.push(style.red(line));
      else if (line.startsWith("@@")) lines.push(style.dim(line));
      else lines.push(line);
    }
  }
  return lines;
}
