/**
 * The outputs of an ablation run beyond its Table 1 (which has one column per variant):
 * `ablation.md` / `ablation.csv` — one row per variant and the SAM 2 baseline with the average
 * mDSC and mHD95 (mean ± std over seeds), the click spread and the Wilcoxon test against SAM 2 —
 * and the plots: bar plots of mDSC and mHD95 per loss variant, or line plots over the clicks per
 * object with ±std bands (SAM 2 as a flat reference).
 */
import { join } from 'node:path';
import type { MeanStd } from '../metrics/aggregate.js';
import { formatP } from '../evaluation/significance.js';
import { renderBarPlot, renderLinePlot } from '../figures/index.js';
import type { ReportContext } from '../runs/experiment.js';
import { writeFileSafe } from '../runs/run-dir.js';

/** One row of the ablation table. */
export interface AblationRow {
  /** Variant label ('Dice+Dist', '8-clicks') or 'SAM 2'. */
  label: string;
  method: string;
  x: number | null;
  mDSC: MeanStd;
  mHD95: MeanStd;
  clickSpread: number;
  /** Wilcoxon p against SAM 2 on per-object Dice (null for SAM 2). */
  p: number | null;
}

/** The rows: SAM 2 first, then the variants in order. */
export function ablationRows(ctx: Pick<ReportContext, 'summary' | 'columns'>): AblationRow[] {
  const s = ctx.summary;
  const of = (name: string) => {
    const m = s.methods.find((x) => x.name === name);
    if (!m) throw new Error(`ablation: no results for ${name}`);
    return m;
  };
  const base = of(s.baseline);
  const rows: AblationRow[] = [{ label: 'SAM 2', method: base.name, x: null, mDSC: base.aggregate.average.dice, mHD95: base.aggregate.average.hd95, clickSpread: base.clickSpread.mean, p: null }];
  for (const col of ctx.columns) {
    const m = of(col.spec.name);
    const test = s.comparisons.find((k) => k.a === m.name);
    rows.push({ label: col.spec.label, method: m.name, x: col.spec.x ?? null, mDSC: m.aggregate.average.dice, mHD95: m.aggregate.average.hd95, clickSpread: m.clickSpread.mean, p: test ? test.wilcoxonDice.p : null });
  }
  return rows;
}

const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const ms = (m: MeanStd, d: number) => (Number.isFinite(m.std) ? `${f(m.mean, d)} ± ${f(m.std, d)}` : f(m.mean, d));

/** ablation.md's table. */
export function ablationMarkdown(title: string, rows: readonly AblationRow[]): string {
  const lines = [
    `# ${title}`,
    '',
    '| Variant | mDSC | mHD95 (px) | Click spread | Wilcoxon vs SAM 2 |',
    '| :-- | :-: | :-: | :-: | :-: |',
    ...rows.map((r) => `| ${r.label} | ${ms(r.mDSC, 3)} | ${ms(r.mHD95, 1)} | ${f(r.clickSpread, 3)} | ${r.p === null ? '—' : formatP(r.p)} |`),
    '',
    'mDSC / mHD95: macro average over the instrument classes, mean ± std over the click seeds. Click spread: std of DSC over the clicks of an object, mean over objects. Wilcoxon: per-object Dice, paired with SAM 2.',
    '',
  ];
  return lines.join('\n');
}

/** ablation.csv. */
export function ablationCsv(rows: readonly AblationRow[]): string {
  const n = (x: number | null) => (x !== null && Number.isFinite(x) ? String(x) : '');
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['variant,method,x,mDSC,mDSC std,mHD95,mHD95 std,click spread,wilcoxon p'];
  for (const r of rows) lines.push([q(r.label), q(r.method), n(r.x), n(r.mDSC.mean), n(r.mDSC.std), n(r.mHD95.mean), n(r.mHD95.std), n(r.clickSpread), n(r.p)].join(','));
  return lines.join('\n') + '\n';
}

/**
 * A y range for mDSC bars that shows their differences: from the lowest mean − std to the highest
 * mean + std, each widened by `pad` and rounded out to multiples of `step`, within [0, 1]. The
 * variants differ by hundredths, invisible on a 0–1 axis; the axis says where it starts.
 */
export function zoomedRange(values: readonly MeanStd[], step = 0.05, pad = 0.01): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v.mean));
  if (finite.length === 0) return [0, 1];
  const sd = (v: MeanStd) => (Number.isFinite(v.std) ? v.std : 0);
  const lo = Math.min(...finite.map((v) => v.mean - sd(v))) - pad;
  const hi = Math.max(...finite.map((v) => v.mean + sd(v))) + pad;
  // Rounded to 1e-9 first so that a bound already on the grid stays there.
  const down = Math.floor(Number((lo / step).toFixed(9))) * step;
  const up = Math.ceil(Number((hi / step).toFixed(9))) * step;
  return [Math.max(0, Number(down.toFixed(6))), Math.min(1, Number(up.toFixed(6)))];
}

/** Writes ablation.md/.csv and the plots of a loss or clicks ablation; returns the figures written. */
export async function writeAblationReport(ctx: ReportContext, which: 'loss' | 'clicks'): Promise<string[]> {
  const rows = ablationRows(ctx);
  const title = which === 'loss' ? 'Ablation: loss components' : 'Ablation: clicks per object during training';
  await writeFileSafe(join(ctx.dir, 'ablation.md'), ablationMarkdown(title, rows));
  await writeFileSafe(join(ctx.dir, 'ablation.csv'), ablationCsv(rows));
  const sd = (m: MeanStd) => ({ mean: m.mean, std: m.std });
  const out: string[] = [];
  if (which === 'loss') {
    const groups = rows.map((r) => r.label);
    const dsc = renderBarPlot({ title: 'Loss components: mDSC', yLabel: 'mDSC', groups, series: [{ name: 'mDSC (mean ± std over seeds)', values: rows.map((r) => sd(r.mDSC)) }], yRange: zoomedRange(rows.map((r) => r.mDSC)) });
    const hd = renderBarPlot({ title: 'Loss components: mHD95', yLabel: 'mHD95 (px)', groups, series: [{ name: 'mHD95 (mean ± std over seeds)', values: rows.map((r) => sd(r.mHD95)) }] });
    await writeFileSafe(join(ctx.dir, 'figures', 'ablation-loss-mdsc.png'), dsc);
    await writeFileSafe(join(ctx.dir, 'figures', 'ablation-loss-mhd95.png'), hd);
    out.push('figures/ablation-loss-mdsc.png', 'figures/ablation-loss-mhd95.png');
  } else {
    const vs = rows.filter((r) => r.x !== null).sort((a, b) => a.x! - b.x!);
    const x = vs.map((r) => r.x!);
    const base = rows[0];
    const line = (key: 'mDSC' | 'mHD95') => [
      { name: 'RP-SAM2', mean: vs.map((r) => r[key].mean), std: vs.map((r) => r[key].std) },
      { name: 'SAM 2 (no refinement)', mean: x.map(() => base[key].mean), std: x.map(() => base[key].std) },
    ];
    await writeFileSafe(join(ctx.dir, 'figures', 'ablation-clicks-mdsc.png'), renderLinePlot({ title: 'Clicks per object during training: mDSC', xLabel: 'clicks per object', yLabel: 'mDSC', x, series: line('mDSC') }));
    await writeFileSafe(join(ctx.dir, 'figures', 'ablation-clicks-mhd95.png'), renderLinePlot({ title: 'Clicks per object during training: mHD95', xLabel: 'clicks per object', yLabel: 'mHD95 (px)', x, series: line('mHD95') }));
    out.push('figures/ablation-clicks-mdsc.png', 'figures/ablation-clicks-mhd95.png');
  }
  ctx.io.out(`  ablation.md, ablation.csv, ${out.join(', ')}`);
  for (const l of ablationMarkdown(title, rows).split('\n').filter((l) => l.startsWith('|'))) ctx.io.out(l);
  return out;
}
