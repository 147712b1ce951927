// Small statistics the lab's reports share: precision and recall from counts, and Wilson score intervals.

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval for a proportion of `successes` in `trials` (95% by default). It stays inside
 * [0, 1] and behaves at 0 and n successes, unlike the normal approximation. Null when there are no trials.
 */
export function wilson(successes: number, trials: number, z = Z95): Interval | null {
  if (!(trials > 0)) return null;
  if (successes < 0 || successes > trials) throw new Error('successes must be within 0..trials');
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** tp / (tp + fp), or null when nothing was flagged. */
export function precision(tp: number, fp: number): number | null {
  return tp + fp > 0 ? tp / (tp + fp) : null;
}

/** tp / positives, or null when there are no positives. */
export function recall(tp: number, positives: number): number | null {
  return positives > 0 ? tp / positives : null;
}

export function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
