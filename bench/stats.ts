/** Small statistics for benchmark samples: median and spread, ratios of paired runs. */

/** Median and spread (min–max) of a sample. */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { median, min: s[0] ?? 0, max: s[s.length - 1] ?? 0 };
}

/** `median (min–max)` of a sample, each value printed by `f`; "–" for an empty sample. */
export function showSpread(xs: readonly number[], f: (x: number) => string): string {
  if (xs.length === 0) return '–';
  const { median, min, max } = spread(xs);
  return `${f(median)} (${f(min)}–${f(max)})`;
}

/**
 * Ratios a[i]/b[i] of paired runs (the same repetition), skipping pairs where either is missing
 * or b is 0: a ratio is taken per pair, never of two medians.
 */
export function pairedRatios(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && y !== 0 && Number.isFinite(x) && Number.isFinite(y)) out.push(x / y);
  }
  return out;
}

/** Relative spread of samples around their mean: max |x − mean| / mean (0.05 = ±5 %). */
export function relativeSpread(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean === 0 ? 0 : Math.max(...xs.map((x) => Math.abs(x - mean))) / mean;
}
