/**
 * From per-sample records to per-method results: the Table 1 aggregation (per seed the mean over
 * a class's samples, then mean ± std over seeds; "Avg." macro over classes — `aggregateScores`),
 * the click-position spread, and the paired tests of every method against the baseline.
 */
import { aggregateScores, type AggregateResult } from '../metrics/aggregate.js';
import { clickSpread, type ClickSpread } from './object-stats.js';
import type { SampleRecord } from './samples.js';
import { compareMethods, type MethodComparison } from './significance.js';

/** One method's results. */
export interface MethodSummary {
  name: string;
  aggregate: AggregateResult;
  clickSpread: ClickSpread;
  /** Objects evaluated (each under every seed). */
  objects: number;
  samples: number;
}

/** Every method's results and the comparisons against the baseline. */
export interface EvaluationSummary {
  methods: MethodSummary[];
  /** The method the others are tested against. */
  baseline: string;
  /** One per non-baseline method: that method against the baseline. */
  comparisons: MethodComparison[];
}

/**
 * Summarises the records of `methods` (in that order; the records of other methods are
 * ignored). Every method must have samples; classes are ordered by `classOrder`.
 */
export function summarizeEvaluation(records: readonly SampleRecord[], methods: readonly string[], baseline: string, classOrder: readonly string[]): EvaluationSummary {
  if (!methods.includes(baseline)) throw new Error(`summarizeEvaluation: the baseline '${baseline}' is not among the methods (${methods.join(', ')})`);
  const byMethod = new Map<string, SampleRecord[]>(methods.map((m) => [m, []]));
  for (const r of records) byMethod.get(r.method)?.push(r);
  const summaries = methods.map((name): MethodSummary & { records: SampleRecord[] } => {
    const recs = byMethod.get(name)!;
    if (recs.length === 0) throw new Error(`summarizeEvaluation: method '${name}' has no samples`);
    const aggregate = aggregateScores(
      recs.map((r) => ({ seed: r.seed, classKey: r.class, dice: r.dice, hd95: r.hd95, empty: r.empty })),
      { classOrder },
    );
    const spread = clickSpread(recs, classOrder);
    return { name, aggregate, clickSpread: spread, objects: spread.objects, samples: recs.length, records: recs };
  });
  const base = summaries.find((s) => s.name === baseline)!;
  const comparisons = summaries
    .filter((s) => s.name !== baseline)
    .map((s) => compareMethods({ name: s.name, samples: s.records, aggregate: s.aggregate }, { name: base.name, samples: base.records, aggregate: base.aggregate }));
  return { methods: summaries.map(({ records: _records, ...s }) => s), baseline, comparisons };
}
