/**
 * The ablation report: one row per variant after SAM 2 (means, spread, the Wilcoxon p of each
 * variant against SAM 2), its Markdown and CSV, and the mDSC axis zoomed onto the values.
 */
import { describe, expect, it } from 'vitest';
import { ablationCsv, ablationMarkdown, ablationRows, zoomedRange } from '../src/ablations/ablation-report.js';
import type { MeanStd } from '../src/metrics/aggregate.js';

const ms = (mean: number, std: number): MeanStd => ({ mean, std, n: 10 });
const method = (name: string, dice: number, hd95: number, spread: number) => ({ name, aggregate: { average: { dice: ms(dice, 0.01), hd95: ms(hd95, 9) } }, clickSpread: { mean: spread } });

/** A summary of SAM 2 and two variants, as the run writes it (the fields the report reads). */
function context() {
  const summary = {
    baseline: 'SAM 2',
    methods: [method('SAM 2', 0.756, 150.2, 0.104), method('RP-SAM2 (Dice)', 0.767, 143.3, 0.086), method('RP-SAM2 (Dice+Dist)', 0.769, 142.5, 0.088)],
    comparisons: [
      { a: 'RP-SAM2 (Dice+Dist)', b: 'SAM 2', wilcoxonDice: { p: 0.0026 } },
      { a: 'RP-SAM2 (Dice)', b: 'SAM 2', wilcoxonDice: { p: 0.004 } },
    ],
  };
  const columns = [{ spec: { name: 'RP-SAM2 (Dice)', label: 'Dice', set: [] } }, { spec: { name: 'RP-SAM2 (Dice+Dist)', label: 'Dice+Dist', set: [] } }];
  return { summary, columns } as unknown as Parameters<typeof ablationRows>[0];
}

describe('ablation report', () => {
  it('rows: SAM 2 first, then each variant with its own comparison', () => {
    const rows = ablationRows(context());
    expect(rows.map((r) => r.label)).toEqual(['SAM 2', 'Dice', 'Dice+Dist']);
    expect(rows.map((r) => r.p)).toEqual([null, 0.004, 0.0026]);
    expect(rows[2]).toMatchObject({ method: 'RP-SAM2 (Dice+Dist)', clickSpread: 0.088, mDSC: { mean: 0.769 } });
  });

  it('a variant without results is an error that names it', () => {
    const ctx = context();
    (ctx.columns as unknown as { spec: { name: string } }[])[1].spec.name = 'RP-SAM2 (Out)';
    expect(() => ablationRows(ctx)).toThrow(/no results for RP-SAM2 \(Out\)/);
  });

  it('markdown and csv carry the same numbers', () => {
    const rows = ablationRows(context());
    const md = ablationMarkdown('Ablation: loss components', rows);
    expect(md).toContain('| Dice+Dist | 0.769 ± 0.010 | 142.5 ± 9.0 | 0.088 |');
    expect(md).toContain('| SAM 2 | 0.756 ± 0.010 | 150.2 ± 9.0 | 0.104 | — |');
    const csv = ablationCsv(rows).trim().split('\n');
    expect(csv[0]).toBe('variant,method,x,mDSC,mDSC std,mHD95,mHD95 std,click spread,wilcoxon p');
    expect(csv[3]).toBe('Dice+Dist,RP-SAM2 (Dice+Dist),,0.769,0.01,142.5,9,0.088,0.0026');
  });

  it('zoomedRange: the bars\' spread plus a margin, on a 0.05 grid, within [0, 1]', () => {
    expect(zoomedRange([ms(0.756, 0.014), ms(0.769, 0.014)])).toEqual([0.7, 0.8]);
    expect(zoomedRange([ms(0.5, 0.3), ms(0.9, 0.2)])).toEqual([0.15, 1]);
    expect(zoomedRange([ms(0.02, 0.05)])).toEqual([0, 0.1]);
    // A bound exactly on the grid stays there once the margin is 0.
    expect(zoomedRange([ms(0.75, 0), ms(0.8, 0)], 0.05, 0)).toEqual([0.75, 0.8]);
    expect(zoomedRange([ms(NaN, NaN)])).toEqual([0, 1]);
  });
});
