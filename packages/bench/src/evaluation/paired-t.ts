/**
 * The paired (dependent-samples) t-test, two-sided, like `scipy.stats.ttest_rel` / R's
 * `t.test(a, b, paired = TRUE)`: d_i = a_i − b_i, t = mean(d) / (sd(d)/√n) with the sample
 * standard deviation (ddof = 1), n − 1 degrees of freedom.
 *
 * Degenerate cases: fewer than two pairs → t and p are NaN; all differences equal (sd = 0) →
 * p = 1 when they are all zero (t NaN), else p = 0 (t ±∞).
 */
import { mean, sampleStd } from '../metrics/aggregate.js';
import { studentTTwoSidedP } from './distributions.js';

/** Result of {@link pairedTTest}. */
export interface PairedTResult {
  /** t statistic (NaN or ±Infinity in the degenerate cases). */
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Mean difference a − b. */
  meanDifference: number;
  /** Sample standard deviation of the differences. */
  sdDifference: number;
  n: number;
}

/** The two-sided paired t-test of a against b (see the module comment). */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTResult {
  if (a.length !== b.length) throw new Error(`pairedTTest: paired samples differ in length (${a.length} vs ${b.length})`);
  const d = a.map((x, i) => x - b[i]);
  d.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new Error(`pairedTTest: pair ${i} is not finite (${a[i]} − ${b[i]})`);
  });
  const n = d.length;
  const m = mean(d);
  const sd = sampleStd(d);
  const df = n - 1;
  if (n < 2) return { t: NaN, df, p: NaN, meanDifference: m, sdDifference: sd, n };
  if (sd === 0) return { t: m === 0 ? NaN : m > 0 ? Infinity : -Infinity, df, p: m === 0 ? 1 : 0, meanDifference: m, sdDifference: 0, n };
  const t = m / (sd / Math.sqrt(n));
  return { t, df, p: studentTTwoSidedP(t, df), meanDifference: m, sdDifference: sd, n };
}
