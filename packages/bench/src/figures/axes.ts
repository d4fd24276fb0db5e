/**
 * The frame shared by bar and line plots: figure layout (title, legend, y-axis label and tick
 * labels sized from their text, the plot area, room for x labels), value→pixel scales, and the
 * drawing of axes, grid lines and tick labels. Style: light horizontal grid lines, left and
 * bottom spines only.
 */
import { layoutLegend, type LegendLayout } from './legend.js';
import { STYLE } from './style.js';
import type { SvgBuilder } from './svg.js';
import { textWidth } from './text-metrics.js';

/** A rectangle in figure px. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What the layout needs to know about a plot. */
export interface FrameSpec {
  title: string;
  yLabel: string;
  /** Written y tick labels (their widths set the left margin). */
  yTickLabels: readonly string[];
  /** Series names for the legend (none: no legend). */
  legend: readonly string[];
  plotWidth: number;
  plotHeight: number;
  /** Room below the plot area for x tick labels and the x-axis label. */
  xAxisHeight: number;
  /** How far x tick labels stick out past the plot's left and right edges. */
  xOverhang?: { left: number; right: number };
}

/** Where everything goes. */
export interface FrameLayout {
  width: number;
  height: number;
  plot: Rect;
  /** Baseline of the title. */
  titleY: number;
  /** Legend layout and its top-left corner. */
  legend: LegendLayout & { x: number; y: number };
  /** x of the rotated y-axis label's centre line. */
  yLabelX: number;
}

const TICK_LABEL_GAP = 4;

/** Lays out a plot: title on top, the legend under it, then the plot area with its axes. */
export function layoutFrame(spec: FrameSpec): FrameLayout {
  const m = STYLE.margin;
  const maxTick = Math.max(0, ...spec.yTickLabels.map((t) => textWidth(t, STYLE.tickSize)));
  const yLabelBand = spec.yLabel ? STYLE.labelSize * 1.2 + 8 : 0;
  const over = spec.xOverhang ?? { left: 0, right: 0 };
  const left = m + Math.max(yLabelBand + maxTick + STYLE.tickLength + TICK_LABEL_GAP, over.left);
  const right = m + Math.max(over.right, 4);
  const titleH = spec.title ? STYLE.titleSize * 1.3 : 0;
  const legend = spec.legend.length ? layoutLegend(spec.legend, Math.max(spec.plotWidth, 200)) : { width: 0, height: 0, entries: [] };
  const legendGap = spec.legend.length ? 8 : 0;
  // A tick label at the top of the axis reaches half a line above the plot.
  const top = m + titleH + (spec.title ? 6 : 0) + legend.height + legendGap + STYLE.tickSize * 0.6;
  let width = left + spec.plotWidth + right;
  const titleW = spec.title ? textWidth(spec.title, STYLE.titleSize, 'bold') + 2 * m : 0;
  let plotX = left;
  if (titleW > width || legend.width + 2 * m > width) {
    // Widen the figure and keep the plot centred in it.
    const need = Math.max(titleW, legend.width + 2 * m);
    plotX += (need - width) / 2;
    width = need;
  }
  const plot: Rect = { x: plotX, y: top, w: spec.plotWidth, h: spec.plotHeight };
  const height = top + spec.plotHeight + spec.xAxisHeight + m;
  return {
    width,
    height,
    plot,
    titleY: m + STYLE.titleSize,
    legend: { ...legend, x: plot.x + (plot.w - legend.width) / 2, y: m + titleH + (spec.title ? 6 : 0) },
    // Next to the tick labels (not at the margin: a rotated x label may have widened the left side).
    yLabelX: plotX - (STYLE.tickLength + TICK_LABEL_GAP + maxTick + 8 + STYLE.labelSize * 0.6),
  };
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (!(d1 !== d0) || !Number.isFinite(d0) || !Number.isFinite(d1)) throw new Error(`linearScale: degenerate domain [${d0}, ${d1}]`);
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Title, centred on the figure. */
export function drawTitle(svg: SvgBuilder, layout: FrameLayout, title: string): void {
  if (title) svg.text(layout.width / 2, layout.titleY, title, { size: STYLE.titleSize, weight: 'bold', anchor: 'middle', fill: STYLE.text });
}

/**
 * The y axis: grid lines across the plot at each tick, tick marks and labels on the left
 * spine, the rotated axis label centred on the plot's height.
 */
export function drawYAxis(svg: SvgBuilder, layout: FrameLayout, ticks: readonly { y: number; label: string }[], yLabel: string): void {
  const p = layout.plot;
  for (const t of ticks) {
    svg.line(p.x, t.y, p.x + p.w, t.y, { stroke: STYLE.grid, 'stroke-width': 1 });
  }
  for (const t of ticks) {
    svg.line(p.x - STYLE.tickLength, t.y, p.x, t.y, { stroke: STYLE.axis, 'stroke-width': 1 });
    svg.text(p.x - STYLE.tickLength - TICK_LABEL_GAP, t.y, t.label, { size: STYLE.tickSize, anchor: 'end', baseline: 'middle', fill: STYLE.text });
  }
  if (yLabel) {
    svg.text(layout.yLabelX, p.y + p.h / 2, yLabel, { size: STYLE.labelSize, anchor: 'middle', baseline: 'middle', rotate: -90, fill: STYLE.text });
  }
}

/** The left and bottom spines (drawn last, over bars and bands). */
export function drawSpines(svg: SvgBuilder, layout: FrameLayout): void {
  const p = layout.plot;
  svg.polyline(
    [
      [p.x, p.y],
      [p.x, p.y + p.h],
      [p.x + p.w, p.y + p.h],
    ],
    { fill: 'none', stroke: STYLE.axis, 'stroke-width': 1.2 },
  );
}

/**
 * Numeric x ticks under the plot (tick marks and centred labels) and the x-axis label below
 * them; `xAxisHeight` of {@link FrameSpec} must be {@link numericXAxisHeight}.
 */
export function drawXAxis(svg: SvgBuilder, layout: FrameLayout, ticks: readonly { x: number; label: string }[], xLabel: string): void {
  const p = layout.plot;
  const base = p.y + p.h;
  for (const t of ticks) {
    svg.line(t.x, base, t.x, base + STYLE.tickLength, { stroke: STYLE.axis, 'stroke-width': 1 });
    svg.text(t.x, base + STYLE.tickLength + 3 + STYLE.tickSize, t.label, { size: STYLE.tickSize, anchor: 'middle', fill: STYLE.text });
  }
  if (xLabel) {
    svg.text(p.x + p.w / 2, base + STYLE.tickLength + 3 + STYLE.tickSize + 8 + STYLE.labelSize, xLabel, { size: STYLE.labelSize, anchor: 'middle', fill: STYLE.text });
  }
}

/** Height below the plot that {@link drawXAxis} uses. */
export function numericXAxisHeight(xLabel: string): number {
  return STYLE.tickLength + 3 + STYLE.tickSize + 4 + (xLabel ? 4 + STYLE.labelSize + 4 : 0);
}
