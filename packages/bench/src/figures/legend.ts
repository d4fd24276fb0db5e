/**
 * A horizontal legend that wraps into rows: entries (a swatch drawn by the caller, then the
 * series name) flow left to right within a maximum width, each row centred.
 */
import { STYLE } from './style.js';
import type { SvgBuilder } from './svg.js';
import { textWidth } from './text-metrics.js';

/** Width of an entry's swatch and the gaps around its name. */
const SWATCH = 24;
const SWATCH_GAP = 6;
const ENTRY_GAP = 20;
const ROW_HEIGHT = 20;

/** Where each entry goes, relative to the legend's top-left corner. */
export interface LegendLayout {
  width: number;
  height: number;
  /** Per entry: the swatch's left edge and the row's vertical centre. */
  entries: { x: number; y: number }[];
}

/** Lays out `names` in rows no wider than `maxWidth` (an entry wider than that gets a row of its own). */
export function layoutLegend(names: readonly string[], maxWidth: number): LegendLayout {
  const widths = names.map((n) => SWATCH + SWATCH_GAP + textWidth(n, STYLE.legendSize));
  const rows: number[][] = [];
  let row: number[] = [];
  let rowW = 0;
  widths.forEach((w, i) => {
    const add = row.length === 0 ? w : ENTRY_GAP + w;
    if (row.length > 0 && rowW + add > maxWidth) {
      rows.push(row);
      row = [];
      rowW = 0;
    }
    rowW += row.length === 0 ? w : ENTRY_GAP + w;
    row.push(i);
  });
  if (row.length) rows.push(row);
  const rowWidths = rows.map((r) => r.reduce((s, i, k) => s + widths[i] + (k ? ENTRY_GAP : 0), 0));
  const width = Math.max(0, ...rowWidths);
  const entries: { x: number; y: number }[] = new Array(names.length);
  rows.forEach((r, ri) => {
    let x = (width - rowWidths[ri]) / 2;
    for (const i of r) {
      entries[i] = { x, y: ri * ROW_HEIGHT + ROW_HEIGHT / 2 };
      x += widths[i] + ENTRY_GAP;
    }
  });
  return { width, height: rows.length * ROW_HEIGHT, entries };
}

/**
 * Draws a laid-out legend with its top-left corner at (x, y): `swatch` draws entry i's symbol
 * in the box [sx, sx + 24] around the row centre cy; the name follows.
 */
export function drawLegend(
  svg: SvgBuilder,
  layout: LegendLayout,
  names: readonly string[],
  x: number,
  y: number,
  swatch: (i: number, sx: number, cy: number, width: number) => void,
): void {
  names.forEach((name, i) => {
    const e = layout.entries[i];
    swatch(i, x + e.x, y + e.y, SWATCH);
    svg.text(x + e.x + SWATCH + SWATCH_GAP, y + e.y, name, { size: STYLE.legendSize, baseline: 'middle', fill: STYLE.text });
  });
}
