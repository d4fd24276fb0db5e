/**
 * Grouped bar plots with error bars (mean ± std), e.g. per-class mDSC of SAM 2 vs RP-SAM2, or
 * the loss-term ablation: one group of bars per `groups` entry, one bar per series in it, a
 * legend of the series under the title.
 */
import { drawLegend } from './legend.js';
import { drawSpines, drawTitle, drawYAxis, layoutFrame, linearScale, type FrameLayout } from './axes.js';
import { seriesColor } from './palette.js';
import { rasterizeSvg } from './rasterize.js';
import { STYLE } from './style.js';
import { num, SvgBuilder, type SvgFigure } from './svg.js';
import { textWidth } from './text-metrics.js';
import { formatTick, niceDomain, niceTicks, type Ticks } from './ticks.js';
import { checkFinite, checkLength, checkNonEmptyArray, checkRange, checkStd, checkString } from './validate.js';

/** A grouped bar plot. */
export interface BarPlotOptions {
  title: string;
  yLabel: string;
  /** Group labels along the x axis (e.g. classes, or loss variants). */
  groups: string[];
  /** One bar per group for each series (e.g. methods); `values[g]` is group g's. */
  series: { name: string; values: { mean: number; std: number }[] }[];
  /**
   * The y axis's range; default: nice bounds around 0 and every mean ± std. Bars are clipped to
   * it (a bar below `lo` is cut at the axis).
   */
  yRange?: [number, number];
  /** Device pixels per px of the PNG (default 2). */
  scale?: number;
}

/** A drawn bar (figure px), for tests and callers that annotate the figure. */
export interface BarGeometry {
  group: number;
  series: number;
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  /** Whether an error bar was drawn (not for a NaN std). */
  errorBar: boolean;
}

/** The SVG and where things went. */
export interface BarPlotFigure extends SvgFigure {
  layout: FrameLayout;
  bars: BarGeometry[];
  /** Whether the group labels were rotated to fit. */
  rotatedLabels: boolean;
}

const FN = 'renderBarPlot';
const GROUP_PAD = 12;
const BAR_GAP = 2;
const MIN_PLOT_WIDTH = 240;
/** Horizontal group labels may widen the plot up to this before they are rotated instead. */
const MAX_PLOT_WIDTH = 760;
const LABEL_ANGLE = 35;

/** Builds the bar plot's SVG (see {@link renderBarPlot}). */
export function barPlotSvg(opts: BarPlotOptions): BarPlotFigure {
  validate(opts);
  const { groups, series } = opts;
  const nG = groups.length;
  const nS = series.length;
  const barW = nS <= 2 ? 28 : nS <= 4 ? 20 : 14;
  const barsW = nS * barW + (nS - 1) * BAR_GAP;
  const labelWs = groups.map((g) => textWidth(g, STYLE.tickSize));
  const maxLabel = Math.max(...labelWs);
  let slot = barsW + 2 * GROUP_PAD;
  let rotated = false;
  if (maxLabel + 10 > slot) {
    if ((maxLabel + 10) * nG <= MAX_PLOT_WIDTH) slot = maxLabel + 10;
    else rotated = true;
  }
  const plotW = Math.max(nG * slot, MIN_PLOT_WIDTH);
  slot = plotW / nG;

  const axis = yAxis(opts);
  const tickLabels = axis.values.map((v) => formatTick(v, axis.decimals));
  const rad = (LABEL_ANGLE * Math.PI) / 180;
  const xAxisHeight = rotated
    ? STYLE.tickLength + 4 + maxLabel * Math.sin(rad) + STYLE.tickSize * Math.cos(rad) + 4
    : STYLE.tickLength + 3 + STYLE.tickSize + 4;
  // A rotated first label runs left past the plot's edge.
  const overLeft = rotated ? Math.max(0, labelWs[0] * Math.cos(rad) - slot / 2) : Math.max(0, labelWs[0] / 2 - slot / 2);
  const overRight = rotated ? 0 : Math.max(0, labelWs[nG - 1] / 2 - slot / 2);
  const layout = layoutFrame({
    title: opts.title,
    yLabel: opts.yLabel,
    yTickLabels: tickLabels,
    legend: series.map((s) => s.name),
    plotWidth: plotW,
    plotHeight: 300,
    xAxisHeight,
    xOverhang: { left: overLeft, right: overRight },
  });
  const p = layout.plot;
  const svg = new SvgBuilder(layout.width, layout.height);
  const y = linearScale(axis.lo, axis.hi, p.y + p.h, p.y);
  drawTitle(svg, layout, opts.title);
  drawYAxis(
    svg,
    layout,
    axis.values.map((v, i) => ({ y: y(v), label: tickLabels[i] })),
    opts.yLabel,
  );

  const clip = svg.clipRect(p.x, p.y, p.w, p.h);
  const bars: BarGeometry[] = [];
  const baseline = y(Math.min(Math.max(0, axis.lo), axis.hi));
  svg.group({ 'clip-path': clip });
  for (let g = 0; g < nG; g++) {
    const x0 = p.x + g * slot + (slot - barsW) / 2;
    for (let s = 0; s < nS; s++) {
      const v = series[s].values[g];
      const bx = x0 + s * (barW + BAR_GAP);
      const top = y(v.mean);
      const by = Math.min(top, baseline);
      const bh = Math.abs(top - baseline);
      const color = seriesColor(s);
      svg.rect(bx, by, barW, bh, { fill: color });
      bars.push({ group: g, series: s, x: bx, y: by, w: barW, h: bh, color, errorBar: !Number.isNaN(v.std) });
    }
  }
  // Error bars over all bars, so that a neighbour never hides one.
  for (const b of bars) {
    const v = series[b.series].values[b.group];
    if (!b.errorBar) continue;
    const cx = b.x + b.w / 2;
    const y0 = y(v.mean - v.std);
    const y1 = y(v.mean + v.std);
    const cap = b.w * 0.3;
    svg.path(`M${num(cx)} ${num(y0)}V${num(y1)}M${num(cx - cap)} ${num(y0)}H${num(cx + cap)}M${num(cx - cap)} ${num(y1)}H${num(cx + cap)}`, {
      fill: 'none',
      stroke: '#1a1a1a',
      'stroke-width': 1.3,
    });
  }
  svg.endGroup();
  // With negative values the zero line is the bars' baseline: draw it like an axis.
  if (axis.lo < 0 && axis.hi > 0) svg.line(p.x, baseline, p.x + p.w, baseline, { stroke: STYLE.axis, 'stroke-width': 0.8 });
  drawSpines(svg, layout);

  const base = p.y + p.h;
  for (let g = 0; g < nG; g++) {
    const cx = p.x + (g + 0.5) * slot;
    if (rotated) {
      const ty = base + STYLE.tickLength + 4 + STYLE.tickSize * 0.75;
      svg.text(cx + STYLE.tickSize * 0.3, ty, groups[g], { size: STYLE.tickSize, anchor: 'end', rotate: -LABEL_ANGLE, fill: STYLE.text });
    } else {
      svg.text(cx, base + STYLE.tickLength + 3 + STYLE.tickSize, groups[g], { size: STYLE.tickSize, anchor: 'middle', fill: STYLE.text });
    }
  }
  drawLegend(
    svg,
    layout.legend,
    series.map((s) => s.name),
    layout.legend.x,
    layout.legend.y,
    (i, sx, cy, w) => {
      svg.rect(sx + w / 2 - 8, cy - 6, 16, 12, { fill: seriesColor(i) });
    },
  );
  return { svg: svg.toString(), width: layout.width, height: layout.height, layout, bars, rotatedLabels: rotated };
}

/**
 * Renders a grouped bar plot with error bars and a legend as PNG bytes (see
 * {@link BarPlotOptions}). A NaN std (one seed) draws no error bar; any other non-finite number,
 * a length mismatch or an empty list throws, naming the argument.
 */
export function renderBarPlot(opts: BarPlotOptions): Uint8Array {
  return rasterizeSvg(barPlotSvg(opts).svg, { scale: opts.scale });
}

function yAxis(opts: BarPlotOptions): Ticks & { lo: number; hi: number } {
  if (opts.yRange) {
    const [lo, hi] = opts.yRange;
    return { ...niceTicks(lo, hi, 5), lo, hi };
  }
  let lo = 0;
  let hi = 0;
  for (const s of opts.series) {
    for (const v of s.values) {
      const d = Number.isNaN(v.std) ? 0 : v.std;
      lo = Math.min(lo, v.mean - d);
      hi = Math.max(hi, v.mean + d);
    }
  }
  return niceDomain(lo, hi, 5);
}

function validate(opts: BarPlotOptions): void {
  if (!opts || typeof opts !== 'object') throw new Error(`${FN}: options must be an object`);
  checkString(FN, 'title', opts.title);
  checkString(FN, 'yLabel', opts.yLabel);
  checkNonEmptyArray(FN, 'groups', opts.groups);
  opts.groups.forEach((g, i) => checkString(FN, `groups[${i}]`, g));
  checkNonEmptyArray(FN, 'series', opts.series);
  opts.series.forEach((s, i) => {
    checkString(FN, `series[${i}].name`, s?.name);
    checkLength(FN, `series[${i}].values`, s.values, opts.groups.length, 'groups');
    s.values.forEach((v, g) => {
      checkFinite(FN, `series[${i}].values[${g}].mean`, v?.mean);
      checkStd(FN, `series[${i}].values[${g}].std`, v.std);
    });
  });
  if (opts.yRange !== undefined) checkRange(FN, 'yRange', opts.yRange);
}
