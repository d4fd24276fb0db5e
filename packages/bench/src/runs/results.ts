/**
 * `results.json`: per method and class mDSC and mHD95 (mean and std over seeds, with the per-seed
 * values), the click-position spread, the paired tests against the baseline, the headline numbers,
 * and the timings per stage and per method. NaN (a std over one seed) is written as null.
 */
import type { MeanStd, RowSummary } from '../metrics/aggregate.js';
import type { EvaluationTimings } from '../evaluation/evaluate.js';
import type { EvaluationSummary } from '../evaluation/summarize.js';
import type { MethodComparison } from '../evaluation/significance.js';
import type { ExperimentConfig } from './experiment-config.js';
import type { StageTimings } from './stage-timer.js';

/** One loaded SAM 2 model of a run (results.json `models`). */
export interface ModelInfo {
  name: string;
  description: string;
  label: string;
  imageSize: number;
  /** Image-path parameter elements. */
  parameters: number;
  /** What the method trains (Table 1's header; see evaluation/trainable-params.ts). */
  trainableParameters: number;
}

/** A method as the results describe it. */
export interface MethodInfo {
  name: string;
  kind: 'sam2' | 'rpsam2';
  /** The SAM 2 it runs on (label with weights hash). */
  model: string;
  /** RP-SAM2: the checkpoint evaluated. */
  checkpoint?: string;
  /** RP-SAM2 trained in the run: the variant's overrides, steps done, and the resolved training config file. */
  training?: { set: string[]; steps: number | null; config: string };
}

/** The dataset as evaluated. */
export interface DatasetInfo {
  name: string;
  root: string;
  loader: string;
  generated: boolean;
  split: string;
  frames: number;
  framesWithObjects: number;
  objects: number;
  /** Objects per class (evaluated classes, table order). */
  classes: { key: string; name: string; objects: number }[];
  trainFrames: number | null;
  issues: { errors: number; warnings: number };
}

function row(r: RowSummary) {
  return {
    mDSC: r.dice,
    mHD95: r.hd95,
    perSeed: r.perSeed.map((p) => ({ seed: p.seed, mDSC: p.dice, mHD95: p.hd95 })),
    samples: r.samples,
    emptyPred: r.emptyPred,
  };
}

/** The headline numbers (issue #6): SAM 2's single-click instrument mDSC and its click spread, and each other method's. */
export interface Headline {
  baseline: string;
  sam2InstrumentMdsc: MeanStd;
  sam2InstrumentMhd95: MeanStd;
  sam2ClickSpread: number;
  methods: { name: string; mDSC: MeanStd; mHD95: MeanStd; clickSpread: number }[];
}

/** The headline of a summary. */
export function headlineOf(s: EvaluationSummary): Headline {
  const base = s.methods.find((m) => m.name === s.baseline)!;
  return {
    baseline: s.baseline,
    sam2InstrumentMdsc: base.aggregate.average.dice,
    sam2InstrumentMhd95: base.aggregate.average.hd95,
    sam2ClickSpread: base.clickSpread.mean,
    methods: s.methods.map((m) => ({ name: m.name, mDSC: m.aggregate.average.dice, mHD95: m.aggregate.average.hd95, clickSpread: m.clickSpread.mean })),
  };
}

/** The text that documents the tests in results.json and the report. */
export const TESTS_NOTE =
  'Headline test: two-sided Wilcoxon signed-rank test on per-object Dice (each object averaged over the seeds), paired by object, zero differences dropped (wilcox), exact permutation distribution for n ≤ 50, tie-corrected normal approximation above. Also: paired t-test over the per-seed macro-average mDSC (n = seeds). The same for HD95.';

/** Builds the results document. */
export function buildResults(input: {
  config: ExperimentConfig;
  runDir: string;
  dataset: DatasetInfo;
  methods: MethodInfo[];
  summary: EvaluationSummary;
  timings: StageTimings;
  evaluation: EvaluationTimings;
  figures: string[];
  models: ModelInfo[];
}): unknown {
  const { summary: s } = input;
  const results = Object.fromEntries(
    s.methods.map((m) => [
      m.name,
      {
        average: row(m.aggregate.average),
        averageOverSamples: row(m.aggregate.averageOverSamples),
        classes: Object.fromEntries(
          m.aggregate.classes.map((c) => [c.classKey, { ...row(c), clickSpread: m.clickSpread.perClass.find((p) => p.classKey === c.classKey)?.mean ?? null }]),
        ),
        clickSpread: m.clickSpread,
        objects: m.objects,
        samples: m.samples,
      },
    ]),
  );
  const perMethod = Object.fromEntries(
    Object.entries(input.evaluation.methods).map(([name, t]) => [name, { decodeSeconds: t.ms / 1000, clicks: t.clicks, msPerClick: t.clicks ? t.ms / t.clicks : null }]),
  );
  const tests = s.comparisons.map((c: MethodComparison) => ({ ...c }));
  return {
    format: 'rpsam2-bench-results',
    version: 1,
    kind: input.config.kind,
    name: input.config.name,
    runDir: input.runDir,
    writtenAt: new Date().toISOString(),
    dataset: input.dataset,
    models: input.models,
    methods: input.methods,
    protocol: input.config.protocol,
    headline: headlineOf(s),
    results,
    baseline: s.baseline,
    testsNote: TESTS_NOTE,
    tests,
    timings: {
      stages: input.timings.stages,
      totalSeconds: input.timings.totalSeconds,
      evaluation: {
        seconds: input.evaluation.total / 1000,
        featuresSeconds: input.evaluation.features / 1000,
        masksSeconds: input.evaluation.masks / 1000,
        metricsSeconds: input.evaluation.metrics / 1000,
        methods: perMethod,
      },
    },
    figures: input.figures,
  };
}
