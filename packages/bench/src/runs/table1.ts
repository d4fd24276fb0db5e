/**
 * Table 1 as data: rows are the evaluated classes (the paper's abbreviations, in its order) and
 * "Avg.", columns are the methods, each cell mDSC ± std and mHD95 ± std over the seeds. The
 * writers (`table-writers.ts`) turn it into Markdown, CSV and JSON.
 */
import type { MeanStd, RowSummary } from '../metrics/aggregate.js';
import type { MethodSummary } from '../evaluation/summarize.js';

/** One cell: a method on a class (or on average). */
export interface Table1Cell {
  dice: MeanStd;
  hd95: MeanStd;
  /** Samples over all seeds. */
  samples: number;
  /** Samples whose prediction was empty (scored by the empty-mask policy). */
  emptyPred: number;
}

/** One row: a class, or the average. */
export interface Table1Row {
  /** Class key ('CC', 'PhT', …) or 'Avg.'. */
  key: string;
  /** The class's full name ('Capsulorhexis Cystotome'), or 'macro average over classes'. */
  name: string;
  /** One cell per method, in column order (null when the method has no sample of the class). */
  cells: (Table1Cell | null)[];
}

/** The table. */
export interface Table1 {
  /** Column headers: the method names. */
  methods: string[];
  rows: Table1Row[];
  /** Number of seeds behind each mean ± std. */
  seeds: number;
  /**
   * Per method (column order), the click-position spread: the std of DSC over the clicks of an
   * object, averaged over the objects (absent: not shown).
   */
  clickSpread?: number[];
  /**
   * Per method (column order), its trainable parameters, shown in the header as the paper does
   * (null: unknown; absent: not shown). See `trainableParameters` in evaluation/trainable-params.ts.
   */
  trainableParams?: (number | null)[];
}

/** The key of the average row. */
export const AVERAGE_ROW = 'Avg.';

function cell(r: RowSummary): Table1Cell {
  return { dice: r.dice, hd95: r.hd95, samples: r.samples, emptyPred: r.emptyPred };
}

/**
 * Builds the table from the methods' summaries: class rows in `classOrder` (only classes some
 * method has), then the macro average.
 */
export function buildTable1(methods: readonly MethodSummary[], classOrder: readonly string[], classNames: ReadonlyMap<string, string> = new Map()): Table1 {
  if (methods.length === 0) throw new Error('buildTable1: no methods');
  const present = new Set(methods.flatMap((m) => m.aggregate.classes.map((c) => c.classKey)));
  const keys = [...classOrder.filter((k) => present.has(k)), ...[...present].filter((k) => !classOrder.includes(k)).sort()];
  const seeds = methods[0].aggregate.seeds.length;
  for (const m of methods) {
    if (m.aggregate.seeds.length !== seeds) throw new Error(`buildTable1: ${m.name} has ${m.aggregate.seeds.length} seeds, ${methods[0].name} ${seeds}`);
  }
  const rows: Table1Row[] = keys.map((key) => ({
    key,
    name: classNames.get(key) ?? key,
    cells: methods.map((m) => {
      const r = m.aggregate.classes.find((c) => c.classKey === key);
      return r ? cell(r) : null;
    }),
  }));
  rows.push({ key: AVERAGE_ROW, name: 'macro average over classes', cells: methods.map((m) => cell(m.aggregate.average)) });
  return { methods: methods.map((m) => m.name), rows, seeds, clickSpread: methods.map((m) => m.clickSpread.mean) };
}
