/**
 * Paired significance tests between two methods evaluated on the same objects and clicks.
 *
 * **Headline: the Wilcoxon signed-rank test on per-object Dice** (each object's Dice averaged
 * over the click seeds, paired by object). Objects are the independent units of the test set:
 * the seeds only redraw the click on the same objects, so they do not add independent evidence
 * about how the methods compare on new images. The rank test makes no normality assumption
 * (Dice differences are bounded and skewed). The same test on per-object HD95 is reported too.
 *
 * **Also reported: the paired t-test over the per-seed means** (per seed, the macro "Avg." mDSC of
 * each method, paired by seed; n = number of seeds). It asks whether the gap is stable under
 * redrawing the clicks, a narrower question; with 10 seeds its p-value is easily small even
 * when a handful of objects carry the difference, so it is not the headline.
 */
import type { AggregateResult } from '../metrics/aggregate.js';
import { perObjectStats, type ObjectSample } from './object-stats.js';
import { pairedTTest, type PairedTResult } from './paired-t.js';
import { wilcoxonSignedRank, type WilcoxonResult } from './wilcoxon.js';
import { median } from '../stats.js';

/** The comparison of method `a` against method `b`. */
export interface MethodComparison {
  a: string;
  b: string;
  /** Which test is the headline ('wilcoxon-objects-dice'). */
  headline: 'wilcoxon-objects-dice';
  /** Wilcoxon on per-object mean Dice (a − b > 0: a is better). */
  wilcoxonDice: WilcoxonResult & { meanDifference: number; medianDifference: number };
  /** Wilcoxon on per-object mean HD95 (a − b < 0: a is better). */
  wilcoxonHd95: WilcoxonResult & { meanDifference: number; medianDifference: number };
  /** Paired t-test on the per-seed macro-average mDSC. */
  tTestSeedsDice: PairedTResult;
  /** Paired t-test on the per-seed macro-average mHD95. */
  tTestSeedsHd95: PairedTResult;
  /** Objects paired. */
  objects: number;
  seeds: number[];
}

/**
 * Compares two methods' samples. Both must cover the same objects with the same seeds (the
 * protocol gives every method the same clicks); anything else is an error naming the object.
 */
export function compareMethods(
  a: { name: string; samples: readonly ObjectSample[]; aggregate: AggregateResult },
  b: { name: string; samples: readonly ObjectSample[]; aggregate: AggregateResult },
): MethodComparison {
  const oa = perObjectStats(a.samples);
  const ob = new Map(perObjectStats(b.samples).map((o) => [o.key, o]));
  if (oa.length !== ob.size) throw new Error(`compareMethods: ${a.name} has ${oa.length} objects, ${b.name} ${ob.size}; both must be evaluated on the same objects`);
  const pairs = oa.map((x) => {
    const y = ob.get(x.key);
    if (!y) throw new Error(`compareMethods: object ${x.key} was evaluated by ${a.name} but not by ${b.name}`);
    if (x.seeds.join() !== y.seeds.join()) throw new Error(`compareMethods: object ${x.key} has seeds [${x.seeds}] under ${a.name} but [${y.seeds}] under ${b.name}`);
    return [x, y] as const;
  });
  const withDiff = (r: WilcoxonResult, da: number[], db: number[]) => {
    const d = da.map((v, i) => v - db[i]);
    return { ...r, meanDifference: d.reduce((s, v) => s + v, 0) / Math.max(1, d.length), medianDifference: median(d) };
  };
  const da = pairs.map(([x]) => x.dice);
  const db = pairs.map(([, y]) => y.dice);
  const ha = pairs.map(([x]) => x.hd95);
  const hb = pairs.map(([, y]) => y.hd95);
  const sa = a.aggregate.average.perSeed;
  const sb = b.aggregate.average.perSeed;
  if (sa.map((s) => s.seed).join() !== sb.map((s) => s.seed).join()) throw new Error(`compareMethods: ${a.name} and ${b.name} were evaluated under different seeds`);
  return {
    a: a.name,
    b: b.name,
    headline: 'wilcoxon-objects-dice',
    wilcoxonDice: withDiff(wilcoxonSignedRank(da, db), da, db),
    wilcoxonHd95: withDiff(wilcoxonSignedRank(ha, hb), ha, hb),
    tTestSeedsDice: pairedTTest(sa.map((s) => s.dice), sb.map((s) => s.dice)),
    tTestSeedsHd95: pairedTTest(sa.map((s) => s.hd95), sb.map((s) => s.hd95)),
    objects: pairs.length,
    seeds: sa.map((s) => s.seed),
  };
}

/** "p = 0.0123" / "p < 1e-6" for reports. */
export function formatP(p: number): string {
  if (Number.isNaN(p)) return 'p = n/a';
  if (p < 1e-6) return 'p < 1e-6';
  if (p < 0.001) return `p = ${p.toExponential(2)}`;
  return `p = ${p.toFixed(4)}`;
}
