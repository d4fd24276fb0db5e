/** Percentiles exactly as numpy computes them by default. */

/**
 * The q-th percentile (0 ≤ q ≤ 100) of the values with numpy's default `method='linear'`
 * (R type 7): virtual index (n − 1)·q/100 into the sorted values, linear interpolation between
 * its two neighbours, with numpy's `_lerp` (interpolates from the upper neighbour when the
 * fraction is ≥ 0.5, so that the result is monotone and exact at the ends). Throws on no values.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const n = values.length;
  if (n === 0) throw new Error('percentile: no values');
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, q);
}

/** As {@link percentile}, for values already sorted ascending (no copy). */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('percentile: no values');
  const virtualIndex = (q / 100) * (n - 1);
  const lo = Math.floor(virtualIndex);
  const hi = Math.min(lo + 1, n - 1);
  const t = virtualIndex - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
