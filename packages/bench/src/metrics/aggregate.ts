/**
 * Aggregation of per-sample scores into Table 1 cells, following the protocol: for each seed,
 * the mean over that class's samples; then the mean and the sample standard deviation (ddof = 1,
 * Bessel's correction, like `numpy.std(x, ddof=1)` / `pandas.Series.std()`) of those per-seed
 * means over the seeds. With one seed the standard deviation is undefined and reported as NaN
 * (`null` in JSON).
 *
 * The "Avg." row is the macro average: per seed, the mean of the per-class means (every class
 * weighs the same, whatever its number of samples), then mean ± std over seeds. The micro average
 * (per seed, the mean over all samples) is given too.
 */
import type { EmptyCase } from './mask-metrics.js';

/** One evaluated sample (an object of an image under one click seed). */
export interface SampleScore {
  seed: number;
  /** Class key, e.g. the Cataract-1k abbreviation ('CC', 'PhT', …). */
  classKey: string;
  dice: number;
  hd95: number;
  /** From `maskMetrics`; counted when not 'none'. */
  empty?: EmptyCase;
}

/** Mean and sample standard deviation (ddof = 1) over seeds. */
export interface MeanStd {
  mean: number;
  /** NaN with a single seed. */
  std: number;
  /** Number of seeds. */
  n: number;
}

/** Per-seed means of one row. */
export interface SeedMeans {
  seed: number;
  dice: number;
  hd95: number;
  /** Samples that entered this seed's mean (for the macro average: the classes). */
  count: number;
}

/** One row of the table (a class, or the average). */
export interface RowSummary {
  classKey: string;
  dice: MeanStd;
  hd95: MeanStd;
  /** Per-seed values, in seed order (the paired test between methods uses these). */
  perSeed: SeedMeans[];
  /** Total samples over all seeds. */
  samples: number;
  /** Samples whose prediction was empty (the empty-mask policy applied), over all seeds. */
  emptyPred: number;
}

/** The aggregated result of one method. */
export interface AggregateResult {
  seeds: number[];
  /** One row per class, in `classOrder` (then any other classes, sorted). */
  classes: RowSummary[];
  /** Macro average: per seed the mean of the class means, then mean ± std over seeds. */
  average: RowSummary;
  /** Micro average: per seed the mean over all samples, then mean ± std over seeds. */
  averageOverSamples: RowSummary;
}

/** Mean of the values. NaN for none. */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Sample standard deviation (ddof = 1); NaN for fewer than two values. */
export function sampleStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - m) * (xs[i] - m);
  return Math.sqrt(ss / (n - 1));
}

/** Mean ± sample std of the values. */
export function meanStd(xs: ArrayLike<number>): MeanStd {
  return { mean: mean(xs), std: sampleStd(xs), n: xs.length };
}

/**
 * Aggregates sample scores (of one method) per class and overall. Every seed must have the
 * same classes (the protocol draws one click per object for each seed); a class missing under
 * some seed is an error, since its mean over seeds would silently mix different sample sets.
 */
export function aggregateScores(scores: readonly SampleScore[], options: { classOrder?: readonly string[] } = {}): AggregateResult {
  if (scores.length === 0) throw new Error('aggregateScores: no scores');
  for (const s of scores) {
    if (!Number.isFinite(s.dice) || !Number.isFinite(s.hd95)) {
      throw new Error(`aggregateScores: non-finite score for class '${s.classKey}' seed ${s.seed} (dice ${s.dice}, hd95 ${s.hd95}); apply the empty-mask policy`);
    }
  }
  const seeds = [...new Set(scores.map((s) => s.seed))].sort((a, b) => a - b);
  const present = [...new Set(scores.map((s) => s.classKey))];
  const order = options.classOrder ?? [];
  const classKeys = [...order.filter((k) => present.includes(k)), ...present.filter((k) => !order.includes(k)).sort()];

  // sums[class][seed] = {dice, hd95, count, empty}
  const cell = new Map<string, { dice: number; hd95: number; count: number; empty: number }>();
  const key = (c: string, seed: number) => `${c}\u0000${seed}`;
  for (const s of scores) {
    const k = key(s.classKey, s.seed);
    let c = cell.get(k);
    if (!c) cell.set(k, (c = { dice: 0, hd95: 0, count: 0, empty: 0 }));
    c.dice += s.dice;
    c.hd95 += s.hd95;
    c.count++;
    if (s.empty === 'pred' || s.empty === 'both') c.empty++;
  }

  const classes: RowSummary[] = classKeys.map((classKey) => {
    const perSeed: SeedMeans[] = seeds.map((seed) => {
      const c = cell.get(key(classKey, seed));
      if (!c) throw new Error(`aggregateScores: class '${classKey}' has no samples under seed ${seed} (every seed must cover the same objects)`);
      return { seed, dice: c.dice / c.count, hd95: c.hd95 / c.count, count: c.count };
    });
    let emptyPred = 0;
    for (const seed of seeds) emptyPred += cell.get(key(classKey, seed))!.empty;
    return row(classKey, perSeed, emptyPred);
  });

  const macroPerSeed: SeedMeans[] = seeds.map((seed, i) => ({
    seed,
    dice: mean(classes.map((c) => c.perSeed[i].dice)),
    hd95: mean(classes.map((c) => c.perSeed[i].hd95)),
    count: classes.length,
  }));
  const totalEmpty = classes.reduce((a, c) => a + c.emptyPred, 0);
  const average = { ...row('Avg.', macroPerSeed, totalEmpty), samples: scores.length };

  const microPerSeed: SeedMeans[] = seeds.map((seed) => {
    const mine = scores.filter((s) => s.seed === seed);
    return { seed, dice: mean(mine.map((s) => s.dice)), hd95: mean(mine.map((s) => s.hd95)), count: mine.length };
  });
  const averageOverSamples = row('Avg. (samples)', microPerSeed, totalEmpty);
  return { seeds, classes, average, averageOverSamples };
}

function row(classKey: string, perSeed: SeedMeans[], emptyPred: number): RowSummary {
  return {
    classKey,
    dice: meanStd(perSeed.map((p) => p.dice)),
    hd95: meanStd(perSeed.map((p) => p.hd95)),
    perSeed,
    samples: perSeed.reduce((a, p) => a + p.count, 0),
    emptyPred,
  };
}
