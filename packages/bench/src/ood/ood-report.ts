/**
 * The outputs of `bench ood`: `results.json` (per method and share: mDSC and mHD95, mean ± std
 * over the click seeds with the per-seed values, the Wilcoxon test against SAM 2, and for the
 * SAM2-FT rows the Dice of the pseudo masks they were trained on), `ood.csv` (one line per method
 * and share), `ood.md`, and `figures/ood-mdsc.png`: mDSC ± std over seeds against the share of
 * the training split labelled by hand, one line per method — SAM 2 (zero-shot at every share),
 * RP-SAM2 (shift block fine-tuned on the share; 0 %: zero-shot), SAM2-FT on SAM 2's and on
 * RP-SAM2's pseudo masks.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CadisDataset } from '../datasets/cadis.js';
import type { LoadedSam2 } from '../evaluation/sam2-models.js';
import type { SampleLog } from '../evaluation/samples.js';
import { formatP } from '../evaluation/significance.js';
import { summarizeEvaluation, type MethodSummary } from '../evaluation/summarize.js';
import { renderLinePlot } from '../figures/index.js';
import type { MeanStd } from '../metrics/aggregate.js';
import { TESTS_NOTE } from '../runs/results.js';
import { csvField, csvNumber, meanStdText } from '../runs/table-writers.js';
import { writeFileSafe, writeJson } from '../runs/run-dir.js';
import type { RunIO } from '../runs/run-io.js';
import type { StageTimings } from '../runs/stage-timer.js';
import { shareLabel, type OodConfig, type oodMethodNames } from './ood-config.js';
import type { PseudoQuality } from './pseudo-masks.js';
import type { StratifiedSubset } from './stratified.js';

/** What one share produced (the run collects one per share). */
export interface ShareRecord {
  share: number;
  labelledFrames: number;
  pseudoFrames: number;
  stratification: StratifiedSubset['classes'];
  names: ReturnType<typeof oodMethodNames>;
  rpsam2Checkpoint: string;
  sam2ftWeights: { sam2: string; rpsam2: string };
  sam2ftModels: string[];
  pseudo: { sam2: PseudoQuality; rpsam2: PseudoQuality };
}

/** The plotted methods (one line each), in legend order. */
export const OOD_LINES = ['SAM 2', 'RP-SAM2', 'SAM2-FT (SAM 2 masks)', 'SAM2-FT (RP-SAM2 masks)'] as const;

/** One row of the results: a line of the plot at one share. */
export interface OodRow {
  line: (typeof OOD_LINES)[number];
  /** The evaluated method's name in samples.jsonl. */
  method: string;
  share: number;
  mDSC: MeanStd;
  mHD95: MeanStd;
  perSeed: { seed: number; mDSC: number; mHD95: number }[];
  /** Two-sided Wilcoxon on per-object Dice against SAM 2 (null for SAM 2). */
  wilcoxonP: number | null;
  /** SAM2-FT: the Dice of the pseudo masks it was trained on against the ground truth they replace. */
  pseudoMaskDice: number | null;
}

/** The rows, share by share, in {@link OOD_LINES} order. */
export function oodRows(records: readonly ShareRecord[], methods: readonly MethodSummary[], pValue: (method: string) => number | null): OodRow[] {
  const of = (name: string) => {
    const m = methods.find((x) => x.name === name);
    if (!m) throw new Error(`ood report: no results for ${name}`);
    return m;
  };
  const rows: OodRow[] = [];
  for (const r of records) {
    const entries: [OodRow['line'], string, number | null][] = [
      ['SAM 2', 'SAM 2', null],
      ['RP-SAM2', r.names.rpsam2, null],
      ['SAM2-FT (SAM 2 masks)', r.names.ftSam2, r.pseudo.sam2.meanDice],
      ['SAM2-FT (RP-SAM2 masks)', r.names.ftRpsam2, r.pseudo.rpsam2.meanDice],
    ];
    for (const [line, method, pseudo] of entries) {
      const a = of(method).aggregate.average;
      rows.push({
        line,
        method,
        share: r.share,
        mDSC: a.dice,
        mHD95: a.hd95,
        perSeed: a.perSeed.map((p) => ({ seed: p.seed, mDSC: p.dice, mHD95: p.hd95 })),
        wilcoxonP: method === 'SAM 2' ? null : pValue(method),
        pseudoMaskDice: pseudo !== null && Number.isFinite(pseudo) ? pseudo : null,
      });
    }
  }
  return rows;
}

const f = (x: number | null, d: number) => (x !== null && Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** ood.csv: one line per method and share (numbers at full precision). */
export function oodCsv(rows: readonly OodRow[]): string {
  const n = (x: number | null) => (x === null ? '' : csvNumber(x));
  const lines = ['line,method,share,mDSC,mDSC std,mHD95,mHD95 std,wilcoxon p vs SAM 2,pseudo-mask Dice'];
  for (const r of rows) lines.push([csvField(r.line), csvField(r.method), n(r.share), n(r.mDSC.mean), n(r.mDSC.std), n(r.mHD95.mean), n(r.mHD95.std), n(r.wilcoxonP), n(r.pseudoMaskDice)].join(','));
  return lines.join('\n') + '\n';
}

/** ood.md: the table (rows: share; columns: methods) and what it shows. */
export function oodMarkdown(c: OodConfig, rows: readonly OodRow[], records: readonly ShareRecord[], seeds: number): string {
  const cell = (share: number, line: OodRow['line']) => {
    const r = rows.find((x) => x.share === share && x.line === line);
    return r ? `${meanStdText(r.mDSC, 3)} / ${meanStdText(r.mHD95, 1)}${r.pseudoMaskDice !== null ? ` (pseudo ${f(r.pseudoMaskDice, 3)})` : ''}` : '—';
  };
  return [
    `# Out-of-distribution data (Fig. 3a) — ${c.name}`,
    '',
    `Schedule: ${c.schedule === 'brief' ? 'brief (the default run: few frames, few steps — not the paper’s 50 epochs)' : `the paper's (${c.sam2ft.epochs} epochs per fine-tune)`}.`,
    '',
    `| Labelled share | Labelled / pseudo frames | ${OOD_LINES.join(' | ')} |`,
    `| :-- | :-: |${OOD_LINES.map(() => ' :-: |').join('')}`,
    ...records.map((r) => `| ${shareLabel(r.share)} | ${r.labelledFrames} / ${r.pseudoFrames} | ${OOD_LINES.map((l) => cell(r.share, l)).join(' | ')} |`),
    '',
    `Cells: mDSC ± std / mHD95 ± std (pixels) over ${seeds} seeds of one click per instrument on the test split (macro average over classes); SAM2-FT cells give the mean Dice of the pseudo masks it was trained on. SAM 2 is zero-shot at every share; RP-SAM2 at 0 % is the in-distribution shift block, zero-shot.`,
    '',
    ...rows.filter((r) => r.wilcoxonP !== null).map((r) => `- ${r.method} vs SAM 2: Wilcoxon on per-object Dice ${formatP(r.wilcoxonP!)}`),
    '',
    TESTS_NOTE,
    '',
  ].join('\n');
}

/** Writes results.json, ood.csv, ood.md and the plot, and prints the table. */
export async function writeOodReport(input: {
  config: OodConfig;
  dir: string;
  ds: CadisDataset;
  records: readonly ShareRecord[];
  log: SampleLog;
  main: LoadedSam2;
  testFrames: number;
  testObjects: number;
  trainFrames: number;
  io: RunIO;
  timings: () => StageTimings;
}): Promise<void> {
  const { config: c, records, io } = input;
  const methodNames = ['SAM 2', ...records.flatMap((r) => [r.names.rpsam2, r.names.ftSam2, r.names.ftRpsam2])];
  const summary = summarizeEvaluation(input.log.records, methodNames, 'SAM 2', input.ds.instrumentKeys);
  const pValue = (m: string) => summary.comparisons.find((k) => k.a === m)?.wilcoxonDice.p ?? null;
  const rows = oodRows(records, summary.methods, pValue);
  await writeFileSafe(join(input.dir, 'ood.csv'), oodCsv(rows));
  const md = oodMarkdown(c, rows, records, c.protocol.seeds.length);
  await writeFileSafe(join(input.dir, 'ood.md'), md);
  const x = records.map((r) => 100 * r.share);
  const series = OOD_LINES.map((line) => {
    const rs = records.map((r) => rows.find((q) => q.share === r.share && q.line === line)!);
    return { name: line, mean: rs.map((q) => q.mDSC.mean), std: rs.map((q) => q.mDSC.std) };
  });
  const figure = 'figures/ood-mdsc.png';
  await mkdir(join(input.dir, 'figures'), { recursive: true });
  const title = `Out-of-distribution data${c.data.generate ? ' (synthetic CaDIS-like domain, brief schedule)' : ''}`;
  await writeFileSafe(join(input.dir, figure), renderLinePlot({ title, xLabel: 'share of the training split labelled by hand (%)', yLabel: `mDSC (± std over ${c.protocol.seeds.length} seeds)`, x, series }));
  await writeJson(join(input.dir, 'results.json'), {
    format: 'rpsam2-bench-ood-results',
    version: 1,
    kind: 'ood',
    name: c.name,
    runDir: input.dir,
    writtenAt: new Date().toISOString(),
    schedule: c.schedule,
    dataset: { name: input.ds.name, root: input.ds.root, generated: c.data.generate !== null, split: input.ds.split.source, trainFrames: input.trainFrames, testFrames: input.testFrames, testObjects: input.testObjects },
    sam2: { description: input.main.description, label: input.main.label },
    protocol: c.protocol,
    seeds: c.protocol.seeds,
    rows,
    shares: records.map((r) => ({
      share: r.share,
      labelledFrames: r.labelledFrames,
      pseudoFrames: r.pseudoFrames,
      stratification: r.stratification,
      rpsam2: { method: r.names.rpsam2, checkpoint: r.rpsam2Checkpoint },
      sam2ft: {
        sam2Masks: { method: r.names.ftSam2, weights: r.sam2ftWeights.sam2, model: r.sam2ftModels[0], pseudoMasks: r.pseudo.sam2 },
        rpsam2Masks: { method: r.names.ftRpsam2, weights: r.sam2ftWeights.rpsam2, model: r.sam2ftModels[1], pseudoMasks: r.pseudo.rpsam2 },
      },
    })),
    testsNote: TESTS_NOTE,
    timings: input.timings(),
    figures: [figure],
  });
  io.out('');
  for (const l of md.split('\n').filter((l) => l.startsWith('|'))) io.out(l);
  io.out('');
  io.out(`  results.json, ood.csv, ood.md, ${figure}`);
}
