/** What must change on disk to make the tree match the desired files. Pure; shared by gen and gen --check. */
export interface Plan {
  create: string[];
  update: string[];
  delete: string[];
  unchanged: string[];
}

export function plan(desired: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): Plan {
  const result: Plan = { create: [], update: [], delete: [], unchanged: [] };
  for (const [path, text] of desired) {
    const existing = current.get(path);
    if (existing === undefined) result.create.push(path);
    else if (existing !== text) result.update.push(path);
    else result.unchanged.push(path);
  }
  for (const path of current.keys()) if (!desired.has(path)) result.delete.push(path);
  for (const list of Object.values(result)) list.sort();
  return result;
}

export function isUpToDate(p: Plan): boolean {
  return p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
}
