/**
 * Orders text by UTF-16 code unit, the same on every machine. `localeCompare` would follow the
 * user's locale (Danish sorts "aa" after "z"), so two people could generate different files.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
