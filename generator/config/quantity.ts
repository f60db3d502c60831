/** Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1G`) as numbers, to compare requests with limits. */

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** The quantity in base units (cores, bytes), or undefined when it is not a quantity the config accepts. */
export function quantityValue(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * SUFFIX[match[2] ?? ""]!;
}
