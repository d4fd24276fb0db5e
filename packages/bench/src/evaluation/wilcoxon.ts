/**
 * The Wilcoxon signed-rank test for paired samples (two-sided), following
 * `scipy.stats.wilcoxon` (defaults `zero_method='wilcox'`, `correction=False`):
 *
 * 1. differences d_i = a_i − b_i. Zero differences carry no sign: with 'wilcox' (default) they
 *    are dropped before ranking; with 'pratt' they are ranked with the others and their ranks
 *    then dropped (more conservative);
 * 2. |d_i| are ranked, ties getting their mean rank (midranks);
 * 3. W+ and W− are the rank sums of the positive and negative differences; the statistic is
 *    W = min(W+, W−);
 * 4. p-value:
 *    - **exact** when the n non-zero differences are at most 50: the permutation distribution of
 *      W+ given the ranks (each of the 2^n sign patterns equally likely), counted by dynamic
 *      programming over the doubled ranks (midranks are multiples of ½, so the sums are
 *      integers), p = min(1, 2·P(W+ ≤ W)). Without ties and zeros this is the classical exact
 *      distribution (scipy's 'exact'); with ties it is the exact conditional distribution, which
 *      scipy enumerates for n ≤ 13 and approximates above — here it stays exact up to 50;
 *    - **normal approximation** above that: z = (W − μ)/σ with μ = n(n+1)/4 and
 *      σ² = n(n+1)(2n+1)/24 − Σ_t (t³ − t)/48 over the groups of t tied |d| (tie correction);
 *      with 'pratt' and n₀ zeros, μ = [n(n+1) − n₀(n₀+1)]/4 and
 *      σ² = [n(n+1)(2n+1) − n₀(n₀+1)(2n₀+1)]/24 − Σ_t (t³ − t)/48 (zero correction, n counting
 *      the zeros); p = 2·Φ(−|z|), no continuity correction.
 *
 * With no non-zero difference the test has nothing to say: p = 1.
 */
import { normalTwoSidedP } from './distributions.js';

/** How zero differences are handled (scipy's `zero_method`). */
export type ZeroMethod = 'wilcox' | 'pratt';

/** Result of {@link wilcoxonSignedRank}. */
export interface WilcoxonResult {
  /** W = min(W+, W−). */
  statistic: number;
  /** Rank sum of the positive differences (a > b). */
  rankSumPositive: number;
  /** Rank sum of the negative differences. */
  rankSumNegative: number;
  /** Two-sided p-value. */
  p: number;
  /** 'exact' (permutation distribution counted) or 'normal' (tie/zero-corrected normal approximation). */
  method: 'exact' | 'normal';
  /** The normal statistic (method 'normal' only). */
  z: number | null;
  zeroMethod: ZeroMethod;
  /** Pairs given. */
  pairs: number;
  /** Pairs with a non-zero difference. */
  n: number;
  /** Pairs with a zero difference. */
  zeros: number;
  /** Whether some non-zero |d| were tied (midranks used). */
  ties: boolean;
  /** Matched-pairs rank-biserial correlation (W+ − W−)/(W+ + W−), in [−1, 1]; 0 when n = 0. */
  rankBiserial: number;
}

/** Largest n for the exact distribution (scipy's limit for method='auto'). */
export const WILCOXON_EXACT_MAX_N = 50;

/** Midranks (1-based) of the values, ties sharing their mean rank; also the sizes of the tie groups. */
export function midranks(values: readonly number[]): { ranks: number[]; tieGroups: number[] } {
  const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Array<number>(values.length);
  const tieGroups: number[] = [];
  for (let s = 0; s < order.length; ) {
    let e = s + 1;
    while (e < order.length && values[order[e]] === values[order[s]]) e++;
    const r = (s + 1 + e) / 2; // mean of ranks s+1 … e
    for (let k = s; k < e; k++) ranks[order[k]] = r;
    if (e - s > 1) tieGroups.push(e - s);
    s = e;
  }
  return { ranks, tieGroups };
}

/**
 * The null distribution of W+ for the given ranks, as counts of sign patterns per value of 2·W+
 * (index = doubled rank sum): counts[s] = number of subsets of the ranks whose doubled sum is s.
 * Exact as doubles up to 2^53 patterns (n ≤ 52).
 */
export function signedRankCountsFor(ranks: readonly number[]): Float64Array {
  const doubled = ranks.map((r) => {
    const d = 2 * r;
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`signedRankCountsFor: ranks must be non-negative multiples of ½, got ${r}`);
    return d;
  });
  const max = doubled.reduce((a, b) => a + b, 0);
  const c = new Float64Array(max + 1);
  c[0] = 1;
  let top = 0;
  for (const d of doubled) {
    top += d;
    for (let s = top; s >= d; s--) c[s] += c[s - d];
  }
  return c;
}

/** The classical counts for ranks 1…n (no ties), indexed by the (undoubled) rank sum. */
export function signedRankCounts(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`signedRankCounts: n must be a non-negative integer, got ${n}`);
  const doubled = signedRankCountsFor(Array.from({ length: n }, (_, i) => i + 1));
  return Float64Array.from({ length: (n * (n + 1)) / 2 + 1 }, (_, s) => doubled[2 * s]);
}

/** P(W+ ≤ w) under the null for the given ranks (w a multiple of ½). */
export function signedRankCdfFor(w: number, ranks: readonly number[]): number {
  const c = signedRankCountsFor(ranks);
  const limit = Math.min(Math.floor(2 * w + 1e-9), c.length - 1);
  let acc = 0;
  for (let s = 0; s <= limit; s++) acc += c[s];
  return acc / 2 ** ranks.length;
}

/** P(W+ ≤ w) under the null for n untied non-zero differences (ranks 1…n). */
export function signedRankCdf(w: number, n: number): number {
  return signedRankCdfFor(w, Array.from({ length: n }, (_, i) => i + 1));
}

/** The two-sided Wilcoxon signed-rank test of paired samples a and b (see the module comment). */
export function wilcoxonSignedRank(a: readonly number[], b: readonly number[], options: { exactMaxN?: number; zeroMethod?: ZeroMethod } = {}): WilcoxonResult {
  if (a.length !== b.length) throw new Error(`wilcoxonSignedRank: paired samples differ in length (${a.length} vs ${b.length})`);
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  if (zeroMethod !== 'wilcox' && zeroMethod !== 'pratt') throw new Error(`wilcoxonSignedRank: zeroMethod must be 'wilcox' or 'pratt', got ${JSON.stringify(zeroMethod)}`);
  const all: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - b[i];
    if (!Number.isFinite(x)) throw new Error(`wilcoxonSignedRank: pair ${i} is not finite (${a[i]} − ${b[i]})`);
    all.push(x);
  }
  const zeros = all.filter((x) => x === 0).length;
  const n = all.length - zeros;
  const base = { pairs: a.length, n, zeros, zeroMethod };
  if (n === 0) return { ...base, statistic: 0, rankSumPositive: 0, rankSumNegative: 0, p: 1, method: 'exact', z: null, ties: false, rankBiserial: 0 };
  // 'wilcox' ranks the non-zero differences only; 'pratt' ranks all, then ignores the zeros' ranks.
  const ranked = zeroMethod === 'wilcox' ? all.filter((x) => x !== 0) : all;
  const { ranks: allRanks } = midranks(ranked.map(Math.abs));
  const d: number[] = [];
  const ranks: number[] = [];
  ranked.forEach((x, i) => {
    if (x !== 0) {
      d.push(x);
      ranks.push(allRanks[i]);
    }
  });
  const tieGroups = midranks(d.map(Math.abs)).tieGroups;
  let wPos = 0;
  let wNeg = 0;
  d.forEach((x, i) => (x > 0 ? (wPos += ranks[i]) : (wNeg += ranks[i])));
  const w = Math.min(wPos, wNeg);
  const ties = tieGroups.length > 0;
  const rankBiserial = (wPos - wNeg) / (wPos + wNeg);
  const result = { ...base, statistic: w, rankSumPositive: wPos, rankSumNegative: wNeg, ties, rankBiserial };
  if (n <= (options.exactMaxN ?? WILCOXON_EXACT_MAX_N)) {
    return { ...result, p: Math.min(1, 2 * signedRankCdfFor(w, ranks)), method: 'exact', z: null };
  }
  const n0 = zeroMethod === 'pratt' ? zeros : 0;
  const nn = n + n0;
  const mean = (nn * (nn + 1) - n0 * (n0 + 1)) / 4;
  let variance = (nn * (nn + 1) * (2 * nn + 1) - n0 * (n0 + 1) * (2 * n0 + 1)) / 24;
  for (const t of tieGroups) variance -= (t * t * t - t) / 48;
  const z = variance > 0 ? (w - mean) / Math.sqrt(variance) : 0;
  return { ...result, p: normalTwoSidedP(z), method: 'normal', z };
}
