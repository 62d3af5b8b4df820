/** Small statistics helpers: median and percentiles. */

/** Median of the values; NaN for an empty list. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/**
 * The q-th percentile (0..100) by nearest rank on the sorted values; NaN for
 * an empty list. Nearest rank keeps p99 of 1,000 samples an observed value.
 */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Rounds to a sensible number of significant digits for the JSON. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : 3;
  return Number(value.toFixed(digits));
}
