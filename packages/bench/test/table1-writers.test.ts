/** Table 1 from hand-made results: the exact Markdown, CSV and JSON text. */
import { describe, expect, it } from 'vitest';
import { summarizeEvaluation } from '../src/evaluation/summarize.js';
import type { SampleRecord } from '../src/evaluation/samples.js';
import { buildTable1, type Table1 } from '../src/runs/table1.js';
import { cellText, paramsText, table1Caption, table1Csv, table1Json, table1Markdown } from '../src/runs/table-writers.js';

/** A sample with only the fields the aggregation reads set meaningfully. */
function rec(method: string, seed: number, image: string, cls: string, dice: number, hd95: number): SampleRecord {
  return { method, seed, image, object: 0, class: cls, click: [0, 0], refined: null, dice, hd95, hd95Pooled: hd95, empty: dice === 0 ? 'pred' : 'none', score: 0.9, maskIndex: 0 };
}

// Two methods, two seeds, classes PhT (one object) and CC (one object), class order CC before PhT.
//   SAM 2:   CC  seed 0: 0.6 / 20, seed 1: 0.8 / 10 → 0.7 ± √0.02 / 15 ± √50
//            PhT seed 0: 0.5 / 30, seed 1: 0.5 / 30 → 0.5 ± 0 / 30 ± 0
//            Avg seed 0: 0.55 / 25, seed 1: 0.65 / 20 → 0.6 ± √0.005 / 22.5 ± √12.5
//   RP-SAM2: CC  0.9 / 4 and 0.9 / 6 → 0.9 ± 0 / 5 ± √2
//            PhT 0.7 / 8 and 0.0 / 960 (empty prediction: Dice 0, HD95 = diagonal of 768×576)
//              → 0.35 ± √0.245 / 484 ± √453152
const records: SampleRecord[] = [
  rec('SAM 2', 0, 'a', 'CC', 0.6, 20),
  rec('SAM 2', 1, 'a', 'CC', 0.8, 10),
  rec('SAM 2', 0, 'b', 'PhT', 0.5, 30),
  rec('SAM 2', 1, 'b', 'PhT', 0.5, 30),
  rec('RP-SAM2', 0, 'a', 'CC', 0.9, 4),
  rec('RP-SAM2', 1, 'a', 'CC', 0.9, 6),
  rec('RP-SAM2', 0, 'b', 'PhT', 0.7, 8),
  rec('RP-SAM2', 1, 'b', 'PhT', 0, 960),
];

function table(): Table1 {
  const s = summarizeEvaluation(records, ['SAM 2', 'RP-SAM2'], 'SAM 2', ['CC', 'G', 'PhT']);
  return buildTable1(s.methods, ['CC', 'G', 'PhT'], new Map([['CC', 'Capsulorhexis Cystotome'], ['PhT', 'Phacoemulsification Tip']]));
}

describe('Table 1 writers', () => {
  it('builds rows in class order (present classes only) plus Avg.', () => {
    const t = table();
    expect(t.methods).toEqual(['SAM 2', 'RP-SAM2']);
    expect(t.rows.map((r) => r.key)).toEqual(['CC', 'PhT', 'Avg.']);
    expect(t.seeds).toBe(2);
    const cc = t.rows[0].cells[0]!;
    expect(cc.dice.mean).toBeCloseTo(0.7, 14);
    expect(cc.dice.std).toBeCloseTo(Math.sqrt(0.02), 14);
    expect(cc.hd95.std).toBeCloseTo(Math.sqrt(50), 12);
    expect(t.rows[1].cells[1]!.emptyPred).toBe(1);
  });

  it('writes the exact Markdown', () => {
    expect(table1Markdown(table())).toBe(
      [
        '| Class | SAM 2 | RP-SAM2 |',
        '| :-- | :-: | :-: |',
        '| CC | 0.700 ± 0.141 / 15.0 ± 7.1 | 0.900 ± 0.000 / 5.0 ± 1.4 |',
        '| PhT | 0.500 ± 0.000 / 30.0 ± 0.0 | 0.350 ± 0.495 / 484.0 ± 673.2 |',
        '| Avg. | 0.600 ± 0.071 / 22.5 ± 3.5 | 0.625 ± 0.247 / 244.5 ± 337.3 |',
        // Spread: SAM 2 objects a (0.6, 0.8) → √0.02, b (0.5, 0.5) → 0: mean 0.0707;
        // RP-SAM2 a (0.9, 0.9) → 0, b (0.7, 0) → 0.495: mean 0.2475.
        '| Click spread | 0.071 | 0.247 |',
        '',
      ].join('\n'),
    );
  });

  it('writes the exact CSV (full precision, quoted names)', () => {
    const t = table();
    t.methods[1] = 'RP-SAM2 (Dice, Dist)';
    const csv = table1Csv(t).split('\n');
    expect(csv[0]).toBe('class,name,SAM 2 mDSC,SAM 2 mDSC std,SAM 2 mHD95,SAM 2 mHD95 std,"RP-SAM2 (Dice, Dist) mDSC","RP-SAM2 (Dice, Dist) mDSC std","RP-SAM2 (Dice, Dist) mHD95","RP-SAM2 (Dice, Dist) mHD95 std"');
    const r = t.rows[0].cells;
    expect(csv[1]).toBe(`CC,Capsulorhexis Cystotome,${r[0]!.dice.mean},${r[0]!.dice.std},15,${r[0]!.hd95.std},0.9,0,5,${Math.sqrt(2)}`);
    expect(csv[2]).toBe(`PhT,Phacoemulsification Tip,0.5,0,30,0,0.35,${t.rows[1].cells[1]!.dice.std},484,${Math.sqrt(453152)}`);
    expect(csv[3].startsWith('Avg.,macro average over classes,')).toBe(true);
    expect(t.clickSpread![0]).toBeCloseTo(Math.sqrt(0.02) / 2, 14);
    expect(t.clickSpread![1]).toBeCloseTo(0.7 / Math.SQRT2 / 2, 14);
    expect(csv[4]).toBe(`Click spread,std of DSC over the clicks of an object (mean over objects),${t.clickSpread![0]},,,,${t.clickSpread![1]},,,`);
    expect(csv[5]).toBe('');
    expect(csv).toHaveLength(6);
  });

  it('leaves out a missing std and a missing cell', () => {
    const one = { mean: 0.5, std: NaN, n: 1 };
    expect(cellText({ dice: one, hd95: { mean: 3, std: NaN, n: 1 }, samples: 1, emptyPred: 0 })).toBe('0.500 / 3.0');
    expect(cellText(null)).toBe('—');
    const t: Table1 = { methods: ['A'], seeds: 1, rows: [{ key: 'S', name: 'Spatula', cells: [{ dice: one, hd95: { mean: 3, std: NaN, n: 1 }, samples: 1, emptyPred: 0 }] }] };
    expect(table1Csv(t)).toBe('class,name,A mDSC,A mDSC std,A mHD95,A mHD95 std\nS,Spatula,0.5,,3,\n');
    expect(table1Json(t)).toEqual({
      caption: 'Cells: mDSC ± std / mHD95 ± std (pixels, original resolution); mean and sample standard deviation over 1 seed of one click per object. Avg. = macro average over the classes.',
      seeds: 1,
      columns: ['A'],
      clickSpread: null,
      trainableParams: null,
      rows: [{ class: 'S', name: 'Spatula', cells: { A: { text: '0.500 / 3.0', mDSC: { mean: 0.5, std: null }, mHD95: { mean: 3, std: null }, samples: 1, emptyPred: 0 } } }],
    });
  });

  it("gives each method's trainable parameters in the header, as the paper does", () => {
    const t = { ...table(), trainableParams: [0, 12_100_000] };
    expect(table1Markdown(t).split('\n')[0]).toBe('| Class | SAM 2 (0) | RP-SAM2 (12.1 M) |');
    expect(table1Caption(t)).toMatch(/\(n\) after a method = its trainable parameters\.$/);
    expect((table1Json(t) as { trainableParams: unknown }).trainableParams).toEqual({ 'SAM 2': 0, 'RP-SAM2': 12_100_000 });
    // The CSV keeps plain method names (scripts key on them).
    expect(table1Csv(t).split('\n')[0]).toMatch(/^class,name,SAM 2 mDSC,/);
    expect([paramsText(177_152), paramsText(5_090_000), paramsText(1234), paramsText(null)]).toEqual(['0.18 M', '5.1 M', '0.0012 M', '?']);
  });
});
