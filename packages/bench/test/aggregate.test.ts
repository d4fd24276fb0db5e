/** Aggregation of per-sample scores into Table 1 cells: hand-computed mean ± std. */
import { describe, expect, it } from 'vitest';
import { aggregateScores, mean, sampleStd, type SampleScore } from '../src/metrics/aggregate.js';

describe('mean and sample standard deviation', () => {
  it('uses ddof = 1 (Bessel)', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Σ(x − 2.5)² = 5, / (4 − 1) → √(5/3)
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(sampleStd([7])).toBeNaN();
    expect(mean([])).toBeNaN();
  });
});

describe('aggregateScores', () => {
  // Two classes, three seeds. Class A has two samples per seed, class B one.
  //   seed 0: A 0.8, 0.6 (hd 10, 20) → A 0.7 (15); B 0.4 (hd 30)
  //   seed 1: A 0.9, 0.7 (hd 4, 8)   → A 0.8 (6);  B 0.5 (hd 20)
  //   seed 2: A 1.0, 0.8 (hd 2, 4)   → A 0.9 (3);  B 0.9 (hd 10, empty prediction? no)
  const scores: SampleScore[] = [
    { seed: 0, classKey: 'A', dice: 0.8, hd95: 10 },
    { seed: 0, classKey: 'A', dice: 0.6, hd95: 20 },
    { seed: 0, classKey: 'B', dice: 0.4, hd95: 30 },
    { seed: 1, classKey: 'A', dice: 0.9, hd95: 4 },
    { seed: 1, classKey: 'A', dice: 0.7, hd95: 8 },
    { seed: 1, classKey: 'B', dice: 0.5, hd95: 20 },
    { seed: 2, classKey: 'A', dice: 1.0, hd95: 2 },
    { seed: 2, classKey: 'A', dice: 0.8, hd95: 4 },
    { seed: 2, classKey: 'B', dice: 0.9, hd95: 10, empty: 'none' },
  ];

  it('per seed the class mean, then mean ± std over seeds', () => {
    const r = aggregateScores(scores, { classOrder: ['B', 'A'] });
    expect(r.seeds).toEqual([0, 1, 2]);
    expect(r.classes.map((c) => c.classKey)).toEqual(['B', 'A']);
    const [b, a] = r.classes;
    // A: per-seed Dice 0.7, 0.8, 0.9 → mean 0.8, std √(((−0.1)² + 0 + 0.1²)/2) = 0.1
    expect(a.perSeed.map((p) => p.dice)).toEqual([0.7, 0.8, 0.9].map((v) => expect.closeTo(v, 12)));
    expect(a.dice.mean).toBeCloseTo(0.8, 12);
    expect(a.dice.std).toBeCloseTo(0.1, 12);
    // A HD95: 15, 6, 3 → mean 8, std √((49 + 4 + 25)/2) = √39
    expect(a.hd95.mean).toBeCloseTo(8, 12);
    expect(a.hd95.std).toBeCloseTo(Math.sqrt(39), 12);
    expect(a.samples).toBe(6);
    // B: Dice 0.4, 0.5, 0.9 → mean 0.6, std √((0.04 + 0.01 + 0.09)/2) = √0.07
    expect(b.dice.mean).toBeCloseTo(0.6, 12);
    expect(b.dice.std).toBeCloseTo(Math.sqrt(0.07), 12);
    // B HD95: 30, 20, 10 → 20 ± 10
    expect(b.hd95.mean).toBeCloseTo(20, 12);
    expect(b.hd95.std).toBeCloseTo(10, 12);
    expect(b.dice.n).toBe(3);
  });

  it('Avg. is the per-seed mean of class means (macro), then mean ± std; micro is given too', () => {
    const r = aggregateScores(scores);
    // Macro per seed: (0.7 + 0.4)/2 = 0.55, (0.8 + 0.5)/2 = 0.65, (0.9 + 0.9)/2 = 0.9
    expect(r.average.perSeed.map((p) => p.dice)).toEqual([0.55, 0.65, 0.9].map((v) => expect.closeTo(v, 12)));
    expect(r.average.dice.mean).toBeCloseTo(0.7, 12);
    expect(r.average.dice.std).toBeCloseTo(Math.sqrt((0.15 ** 2 + 0.05 ** 2 + 0.2 ** 2) / 2), 12);
    // HD95 macro per seed: (15 + 30)/2 = 22.5, (6 + 20)/2 = 13, (3 + 10)/2 = 6.5 → mean 14
    expect(r.average.hd95.mean).toBeCloseTo(14, 12);
    expect(r.average.classKey).toBe('Avg.');
    expect(r.average.samples).toBe(9);
    // Micro per seed: (0.8 + 0.6 + 0.4)/3 = 0.6, (0.9 + 0.7 + 0.5)/3 = 0.7, (1 + 0.8 + 0.9)/3 = 0.9
    expect(r.averageOverSamples.dice.mean).toBeCloseTo((0.6 + 0.7 + 0.9) / 3, 12);
  });

  it('counts empty predictions and refuses non-finite scores', () => {
    const r = aggregateScores([
      { seed: 0, classKey: 'A', dice: 0, hd95: 1280, empty: 'pred' },
      { seed: 1, classKey: 'A', dice: 0.5, hd95: 3 },
    ]);
    expect(r.classes[0].emptyPred).toBe(1);
    expect(r.average.emptyPred).toBe(1);
    expect(() => aggregateScores([{ seed: 0, classKey: 'A', dice: 0, hd95: NaN }])).toThrow(/non-finite/);
  });

  it('one seed: std is NaN', () => {
    const r = aggregateScores([{ seed: 0, classKey: 'A', dice: 0.5, hd95: 3 }]);
    expect(r.classes[0].dice.mean).toBe(0.5);
    expect(r.classes[0].dice.std).toBeNaN();
  });

  it('refuses a class that some seed does not cover', () => {
    expect(() =>
      aggregateScores([
        { seed: 0, classKey: 'A', dice: 0.5, hd95: 3 },
        { seed: 1, classKey: 'B', dice: 0.5, hd95: 3 },
      ]),
    ).toThrow(/class 'A' has no samples under seed 1/);
  });
});
