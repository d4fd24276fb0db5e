/**
 * Table 1 as text: Markdown (for reading; cells "mDSC ± std / mHD95 ± std"), CSV (for
 * spreadsheets and scripts; one numeric column per statistic, full precision) and JSON (the same
 * numbers with the cell text). A standard deviation that does not exist (one seed) is left out
 * of the Markdown cell, empty in the CSV and null in the JSON.
 */
import type { MeanStd } from '../metrics/aggregate.js';
import type { Table1, Table1Cell } from './table1.js';

/** Digits of the Markdown cells. */
export interface TableFormat {
  /** Decimals of mDSC and its std (default 3). */
  diceDigits?: number;
  /** Decimals of mHD95 and its std (default 1). */
  hdDigits?: number;
}

/** "mean ± std" with `digits` decimals (the mean alone when the std does not exist; 'n/a' without a mean). */
export function meanStdText(m: MeanStd, digits: number): string {
  if (!Number.isFinite(m.mean)) return 'n/a';
  return Number.isFinite(m.std) ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/** The text of one cell: "0.812 ± 0.010 / 12.3 ± 0.4" ('—' for no cell). */
export function cellText(c: Table1Cell | null, format: TableFormat = {}): string {
  if (!c) return '—';
  return `${meanStdText(c.dice, format.diceDigits ?? 3)} / ${meanStdText(c.hd95, format.hdDigits ?? 1)}`;
}

/** Escapes a Markdown table cell. */
function md(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The label of the click-spread row. */
export const SPREAD_ROW = 'Click spread';

/** The caption the writers use: what a cell holds and over how many seeds. */
export function table1Caption(t: Table1): string {
  const spread = t.clickSpread ? ` ${SPREAD_ROW} = std of DSC over the ${t.seeds} clicks of an object, averaged over the objects.` : '';
  const params = t.trainableParams ? ' (n) after a method = its trainable parameters.' : '';
  return `Cells: mDSC ± std / mHD95 ± std (pixels, original resolution); mean and sample standard deviation over ${t.seeds} seed${t.seeds === 1 ? '' : 's'} of one click per object. Avg. = macro average over the classes.${spread}${params}`;
}

/** A parameter count as the paper's header gives it: '0', '12.1 M', '0.18 M'. */
export function paramsText(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '?';
  if (n === 0) return '0';
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : `${Number((n / 1e6).toPrecision(2))} M`;
}

/** A column header: the method's name, with its trainable parameters when the table has them. */
function headerText(t: Table1, i: number): string {
  return t.trainableParams ? `${t.methods[i]} (${paramsText(t.trainableParams[i] ?? null)})` : t.methods[i];
}

function spreadText(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/** The Markdown table (header, alignment row, one line per row, the click spread last; ends with a newline). */
export function table1Markdown(t: Table1, format: TableFormat = {}): string {
  const lines = [`| Class | ${t.methods.map((_, i) => md(headerText(t, i))).join(' | ')} |`, `| :-- |${t.methods.map(() => ' :-: |').join('')}`];
  for (const r of t.rows) lines.push(`| ${md(r.key)} | ${r.cells.map((c) => md(cellText(c, format))).join(' | ')} |`);
  if (t.clickSpread) lines.push(`| ${SPREAD_ROW} | ${t.clickSpread.map((x) => spreadText(x, format.diceDigits ?? 3)).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV number: the shortest round-trip form, empty when not finite. */
export function csvNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

/**
 * The CSV: `class,name`, then per method `<m> mDSC,<m> mDSC std,<m> mHD95,<m> mHD95 std`; numbers
 * as JavaScript prints them (shortest round-trip form); ends with a newline. The click spread is a
 * last row with its value in each method's mDSC column.
 */
export function table1Csv(t: Table1): string {
  const header = ['class', 'name', ...t.methods.flatMap((m) => [`${m} mDSC`, `${m} mDSC std`, `${m} mHD95`, `${m} mHD95 std`])];
  const lines = [header.map(csvField).join(',')];
  for (const r of t.rows) {
    const vals = r.cells.flatMap((c) => (c ? [csvNumber(c.dice.mean), csvNumber(c.dice.std), csvNumber(c.hd95.mean), csvNumber(c.hd95.std)] : ['', '', '', '']));
    lines.push([csvField(r.key), csvField(r.name), ...vals].join(','));
  }
  if (t.clickSpread) {
    const vals = t.clickSpread.flatMap((x) => [csvNumber(x), '', '', '']);
    lines.push([csvField(SPREAD_ROW), csvField('std of DSC over the clicks of an object (mean over objects)'), ...vals].join(','));
  }
  return lines.join('\n') + '\n';
}

/** The JSON document of the table (NaN → null). */
export function table1Json(t: Table1, format: TableFormat = {}): unknown {
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    caption: table1Caption(t),
    seeds: t.seeds,
    columns: t.methods,
    clickSpread: t.clickSpread ? Object.fromEntries(t.methods.map((m, i) => [m, num(t.clickSpread![i])])) : null,
    trainableParams: t.trainableParams ? Object.fromEntries(t.methods.map((m, i) => [m, t.trainableParams![i] ?? null])) : null,
    rows: t.rows.map((r) => ({
      class: r.key,
      name: r.name,
      cells: Object.fromEntries(
        t.methods.map((m, i) => {
          const c = r.cells[i];
          return [
            m,
            c
              ? {
                  text: cellText(c, format),
                  mDSC: { mean: num(c.dice.mean), std: num(c.dice.std) },
                  mHD95: { mean: num(c.hd95.mean), std: num(c.hd95.std) },
                  samples: c.samples,
                  emptyPred: c.emptyPred,
                }
              : null,
          ];
        }),
      ),
    })),
  };
}
