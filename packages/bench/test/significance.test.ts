/**
 * Significance tests against textbook and hand-computed values: the Wilcoxon signed-rank test
 * (exact and normal), the paired t-test, and the normal / Student t distribution functions.
 */
import { describe, expect, it } from 'vitest';
import { erfc, incompleteBeta, logGamma, normalCdf, normalTwoSidedP, studentTCdf, studentTTwoSidedP } from '../src/evaluation/distributions.js';
import { pairedTTest } from '../src/evaluation/paired-t.js';
import { compareMethods } from '../src/evaluation/significance.js';
import { midranks, signedRankCdf, signedRankCdfFor, signedRankCounts, wilcoxonSignedRank } from '../src/evaluation/wilcoxon.js';
import { aggregateScores } from '../src/metrics/aggregate.js';

describe('distribution functions', () => {
  it('erfc at reference points (in both tails)', () => {
    // Reference values of erfc (Abramowitz & Stegun table 7.1 / any CAS).
    expect(erfc(0)).toBe(1);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 14);
    expect(erfc(1)).toBeCloseTo(0.1572992070502851, 14);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 15);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 12);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 10);
    expect(erfc(-1)).toBeCloseTo(2 - 0.1572992070502851, 14);
  });

  it('the normal CDF at its classic quantiles', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 13);
    expect(normalCdf(-2.5758293035489004)).toBeCloseTo(0.005, 13);
    expect(normalTwoSidedP(1.6448536269514722)).toBeCloseTo(0.1, 13);
    expect(normalCdf(0)).toBe(0.5);
  });

  it('log Γ and the incomplete beta function', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    // I_x(1, 1) = x; I_x(2, 1) = x²; I_x(1, 2) = 1 − (1 − x)²; I_0.5(a, a) = 0.5.
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(incompleteBeta(0.3, 2, 1)).toBeCloseTo(0.09, 14);
    expect(incompleteBeta(0.3, 1, 2)).toBeCloseTo(1 - 0.49, 14);
    expect(incompleteBeta(0.5, 4.5, 4.5)).toBeCloseTo(0.5, 14);
  });

  it("Student's t at table critical values", () => {
    // t_{0.975, 9} = 2.262157163, t_{0.995, 9} = 3.249835542, t_{0.975, 1} = 12.70620474.
    expect(studentTTwoSidedP(2.262157163, 9)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(3.249835542, 9)).toBeCloseTo(0.01, 9);
    expect(studentTTwoSidedP(12.70620474, 1)).toBeCloseTo(0.05, 9);
    // df = 1 is the Cauchy distribution: P(T ≤ t) = 1/2 + atan(t)/π.
    expect(studentTCdf(0.7, 1)).toBeCloseTo(0.5 + Math.atan(0.7) / Math.PI, 13);
    expect(studentTCdf(-0.7, 1)).toBeCloseTo(0.5 - Math.atan(0.7) / Math.PI, 13);
    // df = 2: P(T ≤ t) = 1/2 + t / (2√(2 + t²)).
    expect(studentTCdf(1.3, 2)).toBeCloseTo(0.5 + 1.3 / (2 * Math.sqrt(2 + 1.69)), 13);
  });
});

describe('Wilcoxon signed-rank test', () => {
  // Darwin's Zea mays data (Fisher, The Design of Experiments), the differences of scipy's
  // `wilcoxon` documentation: statistic 24, exact two-sided p = 0.041259765625.
  const darwin = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75];

  it('exact p of the textbook example', () => {
    const r = wilcoxonSignedRank(darwin, darwin.map(() => 0));
    // |d| are distinct: −48 has rank 10, −67 rank 14 → W− = 24, W+ = 120 − 24 = 96.
    expect(r.rankSumNegative).toBe(24);
    expect(r.rankSumPositive).toBe(96);
    expect(r.statistic).toBe(24);
    expect(r.method).toBe('exact');
    expect(r.p).toBe(0.041259765625); // = 2 · 676 / 2^15
    expect(r.rankBiserial).toBeCloseTo((96 - 24) / 120, 15);
  });

  it('the null distribution equals brute-force enumeration of sign patterns', () => {
    for (const n of [1, 4, 9, 12]) {
      const counts = signedRankCounts(n);
      const brute = new Float64Array(counts.length);
      for (let mask = 0; mask < 2 ** n; mask++) {
        let s = 0;
        for (let k = 0; k < n; k++) if (mask & (1 << k)) s += k + 1;
        brute[s]++;
      }
      expect(Array.from(counts)).toEqual(Array.from(brute));
    }
    // n = 15: 676 of the 32768 sign patterns have W+ ≤ 24.
    expect(signedRankCdf(24, 15) * 32768).toBe(676);
  });

  it('normal approximation for large n (no ties) by hand', () => {
    // Forcing the normal path on Darwin's data: z = (24 − 60)/√(15·16·31/24) = −36/√310.
    const r = wilcoxonSignedRank(darwin, darwin.map(() => 0), { exactMaxN: 10 });
    expect(r.method).toBe('normal');
    expect(r.z).toBeCloseTo(-36 / Math.sqrt(310), 14);
    // scipy.stats.wilcoxon(d, method='approx') gives p = 0.04088813291185591.
    expect(r.p).toBeCloseTo(0.04088813291185591, 12);
  });

  it('ties and zeros: exact conditional distribution, and the corrected normal approximation (hand-computed)', () => {
    // d = [1, −1, 2, 2, 0, 3]. 'wilcox' drops the zero (n = 5); |d| = 1, 1, 2, 2, 3 → midranks
    // 1.5, 1.5, 3.5, 3.5, 5; W+ = 1.5 + 3.5 + 3.5 + 5 = 13.5, W− = 1.5 = W.
    const a = [1, -1, 2, 2, 0, 3];
    const zero = a.map(() => 0);
    const r = wilcoxonSignedRank(a, zero);
    expect(r.zeros).toBe(1);
    expect(r.n).toBe(5);
    expect(r.ties).toBe(true);
    expect(r.rankSumPositive).toBe(13.5);
    expect(r.rankSumNegative).toBe(1.5);
    // Exact: of the 32 sign patterns, W+ ≤ 1.5 for {}, {1.5}, {1.5'} → p = 2·3/32 (scipy: 0.1875).
    expect(r.method).toBe('exact');
    expect(r.p).toBe(0.1875);
    // Normal: mean 5·6/4 = 7.5, σ² = 5·6·11/24 − (2³−2 + 2³−2)/48 = 13.75 − 0.25 = 13.5.
    const rn = wilcoxonSignedRank(a, zero, { exactMaxN: 0 });
    expect(rn.method).toBe('normal');
    const z = -6 / Math.sqrt(13.5);
    expect(rn.z).toBeCloseTo(z, 14);
    expect(rn.p).toBeCloseTo(erfc(-z / Math.SQRT2), 14);
    // scipy.stats.wilcoxon(d, method='asymptotic') → 0.10247043485974937
    expect(rn.p).toBeCloseTo(0.10247043485974937, 12);
  });

  it("Pratt's zero handling (hand-computed)", () => {
    // 'pratt' ranks the zero with the rest: |d| = 1, 1, 2, 2, 0, 3 → 2.5, 2.5, 4.5, 4.5, (1), 6;
    // W+ = 2.5 + 4.5 + 4.5 + 6 = 17.5, W− = 2.5. Exact: W+ ≤ 2.5 for 3 of 32 patterns → 0.1875.
    const a = [1, -1, 2, 2, 0, 3];
    const zero = a.map(() => 0);
    const r = wilcoxonSignedRank(a, zero, { zeroMethod: 'pratt' });
    expect([r.rankSumPositive, r.rankSumNegative, r.statistic]).toEqual([17.5, 2.5, 2.5]);
    expect(r.p).toBe(0.1875);
    // Normal with the zero correction (n = 6 with n₀ = 1): mean (6·7 − 1·2)/4 = 10,
    // σ² = (6·7·13 − 1·2·3)/24 − 12/48 = 22.25; z = −7.5/√22.25 (scipy: p = 0.11183552183735439).
    const rn = wilcoxonSignedRank(a, zero, { zeroMethod: 'pratt', exactMaxN: 0 });
    expect(rn.z).toBeCloseTo(-7.5 / Math.sqrt(22.25), 14);
    expect(rn.p).toBeCloseTo(0.11183552183735439, 12);
  });

  it('the conditional distribution with ties equals enumeration', () => {
    const ranks = [1.5, 1.5, 3, 4.5, 4.5, 6, 7];
    let le = 0;
    for (let mask = 0; mask < 128; mask++) {
      let s = 0;
      ranks.forEach((r, k) => (s += mask & (1 << k) ? r : 0));
      if (s <= 6.5) le++;
    }
    expect(signedRankCdfFor(6.5, ranks)).toBe(le / 128);
  });

  it('midranks of tied values', () => {
    expect(midranks([3, 1, 3, 2, 3])).toEqual({ ranks: [4, 1, 4, 2, 4], tieGroups: [3] });
  });

  it('no non-zero difference: p = 1; mismatched lengths are an error', () => {
    expect(wilcoxonSignedRank([0.5, 0.7], [0.5, 0.7]).p).toBe(1);
    expect(() => wilcoxonSignedRank([1, 2], [1])).toThrow(/differ in length/);
  });

  it('a one-sided pattern of 6 pairs: exact p = 2/64', () => {
    // All six differences positive: W− = 0, P(W+ ≤ 0) = 1/64, two-sided 2/64.
    const r = wilcoxonSignedRank([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1]);
    expect(r.statistic).toBe(0);
    expect(r.p).toBe(2 / 64);
  });
});

describe('paired t-test', () => {
  it("Student's sleep data (Cushny & Peebles): t = 4.0621, df = 9, p = 0.002833", () => {
    const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const r = pairedTTest(drug2, drug1);
    expect(r.meanDifference).toBeCloseTo(1.58, 12);
    // sd of d = [1.2, 2.4, 1.3, 1.3, 0, 1, 1.8, 0.8, 4.6, 1.4]: √(13.616/9).
    expect(r.sdDifference).toBeCloseTo(Math.sqrt(13.616 / 9), 12);
    expect(r.t).toBeCloseTo(1.58 / (Math.sqrt(13.616 / 9) / Math.sqrt(10)), 12);
    expect(r.t).toBeCloseTo(4.0621, 4);
    expect(r.df).toBe(9);
    // R: t.test(extra ~ group, data = sleep, paired = TRUE) → p-value = 0.002833.
    expect(r.p).toBeCloseTo(0.002833, 6);
  });

  it('degenerate cases', () => {
    expect(pairedTTest([1, 2], [1, 2]).p).toBe(1);
    expect(pairedTTest([2, 3], [1, 2]).p).toBe(0);
    expect(pairedTTest([2], [1]).p).toBeNaN();
  });
});

describe('compareMethods', () => {
  // Two methods, three objects, two seeds. Per-object mean Dice:
  //   A: o1 (0.9, 0.7) → 0.8, o2 (0.6, 0.6) → 0.6, o3 (0.5, 0.3) → 0.4
  //   B: o1 (0.5, 0.5) → 0.5, o2 (0.4, 0.6) → 0.5, o3 (0.4, 0.2) → 0.3
  // d = 0.3, 0.1, 0.1 → all positive; |d| ties (0.1, 0.1) → midranks 1.5, 1.5, 3 → normal path.
  const mk = (method: string, vals: number[][]) =>
    vals.flatMap((pair, o) => pair.map((dice, seed) => ({ method, image: 'img', object: o, class: o === 2 ? 'K' : 'J', seed, dice, hd95: 10 * (1 - dice) })));
  const a = mk('A', [
    [0.9, 0.7],
    [0.6, 0.6],
    [0.5, 0.3],
  ]);
  const b = mk('B', [
    [0.5, 0.5],
    [0.4, 0.6],
    [0.4, 0.2],
  ]);

  it('pairs objects (Wilcoxon) and seeds (t-test)', () => {
    const c = compareMethods(
      { name: 'A', samples: a, aggregate: aggregateScores(a.map((s) => ({ ...s, classKey: s.class }))) },
      { name: 'B', samples: b, aggregate: aggregateScores(b.map((s) => ({ ...s, classKey: s.class }))) },
    );
    expect(c.objects).toBe(3);
    expect(c.wilcoxonDice.rankSumPositive).toBe(6);
    expect(c.wilcoxonDice.rankSumNegative).toBe(0);
    expect(c.wilcoxonDice.meanDifference).toBeCloseTo(0.5 / 3, 12);
    expect(c.wilcoxonDice.medianDifference).toBeCloseTo(0.1, 12);
    // Exact: only the empty sign pattern has W+ ≤ 0 → p = 2/8 (scipy: 0.25).
    expect(c.wilcoxonDice.p).toBe(0.25);
    // Per seed, macro Avg. over classes J (objects 0, 1) and K (object 2):
    //   A seed 0: J (0.9 + 0.6)/2 = 0.75, K 0.5 → 0.625; seed 1: J 0.65, K 0.3 → 0.475
    //   B seed 0: J 0.45, K 0.4 → 0.425; seed 1: J 0.55, K 0.2 → 0.375
    // d = 0.2, 0.1 → t = 0.15 / (√0.005/√2) = 3, df 1.
    expect(c.tTestSeedsDice.t).toBeCloseTo(3, 10);
    expect(c.tTestSeedsDice.p).toBeCloseTo(1 - (2 * Math.atan(3)) / Math.PI, 10);
    expect(c.headline).toBe('wilcoxon-objects-dice');
  });

  it('refuses methods evaluated on different objects', () => {
    const agg = aggregateScores(a.map((s) => ({ ...s, classKey: s.class })));
    expect(() => compareMethods({ name: 'A', samples: a, aggregate: agg }, { name: 'B', samples: b.slice(0, 4), aggregate: agg })).toThrow(/same objects/);
  });
});
