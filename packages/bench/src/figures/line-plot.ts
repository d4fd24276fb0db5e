/**
 * Line plots: mean curves with markers and ±std bands over a numeric x (e.g. clicks per object
 * 6/8/10/12 vs mDSC, one line per method), and training curves (loss or a metric over steps,
 * optionally smoothed and on a log axis). Both share one drawing core: title, legend, axes,
 * bands under lines, lines under markers, everything clipped to the plot area.
 */
import { drawLegend } from './legend.js';
import { drawSpines, drawTitle, drawXAxis, drawYAxis, layoutFrame, linearScale, numericXAxisHeight, type FrameLayout } from './axes.js';
import { seriesColor, seriesMarker, type MarkerShape } from './palette.js';
import { rasterizeSvg } from './rasterize.js';
import { STYLE } from './style.js';
import { pathData, SvgBuilder, type SvgFigure } from './svg.js';
import { textWidth } from './text-metrics.js';
import { formatLogTick, formatTick, logTicks, niceDomain, niceTicks } from './ticks.js';
import { checkFinite, checkLength, checkNonEmptyArray, checkStd, checkString } from './validate.js';

/** Lines with markers and ±std bands. */
export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** x positions, strictly increasing, shared by every series. */
  x: number[];
  /** Per series: mean and std at each x (NaN std: no band there). */
  series: { name: string; mean: number[]; std: number[] }[];
  /** Device pixels per px of the PNG (default 2). */
  scale?: number;
}

/** Curves over training steps. */
export interface TrainingCurveOptions {
  title: string;
  /** Default "step". */
  xLabel?: string;
  yLabel: string;
  /** Per series its own x, non-decreasing (e.g. every step for the loss, every 500 for validation). */
  series: { name: string; x: number[]; y: number[] }[];
  /** Logarithmic y axis (all finite values must be > 0). */
  logY?: boolean;
  /**
   * Exponential-moving-average weight in [0, 1) per unit of x (TensorBoard's smoothing for a
   * point every step, start-up bias corrected; see {@link ema}): the raw curve is drawn faint
   * and the smoothed one on top. Default 0 (none).
   */
  smoothing?: number;
  /** Device pixels per px of the PNG (default 2). */
  scale?: number;
}

/** The SVG and where things went. */
export interface LineFigure extends SvgFigure {
  layout: FrameLayout;
  /** Per series, the markers' centres (figure px); empty for training curves. */
  markers: { x: number; y: number }[][];
}

const PLOT_W = 460;
const PLOT_H = 300;
const MARKER_R = 4.5;

/** A series as the drawing core takes it. */
interface CoreSeries {
  name: string;
  color: string;
  marker?: MarkerShape;
  /** Points of the main line; a non-finite y breaks the line. */
  points: [number, number][];
  /** Band bounds per point (y values), when drawn. */
  band?: { lo: number[]; hi: number[] };
  /** A faint line under the main one (the raw curve under a smoothed one). */
  faint?: [number, number][];
}

interface CoreSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: { lo: number; hi: number; ticks: { v: number; label: string }[] };
  y: { lo: number; hi: number; ticks: { v: number; label: string }[]; log: boolean };
  series: CoreSeries[];
}

/** Builds the line plot's SVG (see {@link renderLinePlot}). */
export function linePlotSvg(opts: LinePlotOptions): LineFigure {
  validateLinePlot(opts);
  const xs = opts.x;
  const x0 = xs[0];
  const x1 = xs[xs.length - 1];
  const pad = x1 > x0 ? (x1 - x0) * 0.06 : 1;
  // Few integer positions (clicks per object) are labelled exactly; otherwise nice ticks.
  const exact = xs.length <= 12 && xs.every(Number.isInteger);
  const xt = exact ? { values: xs, decimals: 0 } : niceTicks(x0, x1, 6);
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of opts.series) {
    s.mean.forEach((m, i) => {
      const d = Number.isNaN(s.std[i]) ? 0 : s.std[i];
      lo = Math.min(lo, m - d);
      hi = Math.max(hi, m + d);
    });
  }
  const yd = niceDomain(lo, hi, 5);
  return drawCore({
    title: opts.title,
    xLabel: opts.xLabel,
    yLabel: opts.yLabel,
    x: { lo: x0 - pad, hi: x1 + pad, ticks: xt.values.map((v) => ({ v, label: formatTick(v, xt.decimals) })) },
    y: { lo: yd.lo, hi: yd.hi, ticks: yd.values.map((v) => ({ v, label: formatTick(v, yd.decimals) })), log: false },
    series: opts.series.map((s, i) => ({
      name: s.name,
      color: seriesColor(i),
      marker: seriesMarker(i),
      points: xs.map((x, k) => [x, s.mean[k]] as [number, number]),
      band: {
        lo: s.mean.map((m, k) => m - (Number.isNaN(s.std[k]) ? 0 : s.std[k])),
        hi: s.mean.map((m, k) => m + (Number.isNaN(s.std[k]) ? 0 : s.std[k])),
      },
    })),
  });
}

/**
 * Renders lines with markers and ±std bands as PNG bytes (see {@link LinePlotOptions}). Throws,
 * naming the argument, on empty lists, length mismatches, x not strictly increasing, or
 * non-finite means/x (a NaN std only drops the band at that point).
 */
export function renderLinePlot(opts: LinePlotOptions): Uint8Array {
  return rasterizeSvg(linePlotSvg(opts).svg, { scale: opts.scale });
}

/** Builds the training-curve SVG (see {@link renderTrainingCurve}). */
export function trainingCurveSvg(opts: TrainingCurveOptions): LineFigure {
  validateTrainingCurve(opts);
  const w = opts.smoothing ?? 0;
  const smoothed = opts.series.map((s) => (w > 0 ? ema(s.x, s.y, w) : s.y));
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  opts.series.forEach((s, i) => {
    for (let k = 0; k < s.x.length; k++) {
      xlo = Math.min(xlo, s.x[k]);
      xhi = Math.max(xhi, s.x[k]);
      // The axis covers the raw values too (they are drawn, faintly).
      for (const v of [s.y[k], smoothed[i][k]]) {
        if (!Number.isFinite(v)) continue;
        ylo = Math.min(ylo, v);
        yhi = Math.max(yhi, v);
      }
    }
  });
  if (!Number.isFinite(ylo)) throw new Error('renderTrainingCurve: no finite y value in any series');
  const xt = niceDomain(xlo, xhi, 6);
  let y: CoreSpec['y'];
  if (opts.logY) {
    const lt = logTicks(ylo, yhi);
    y = { lo: lt.lo, hi: lt.hi, ticks: lt.values.map((v) => ({ v, label: formatLogTick(v) })), log: true };
  } else {
    const yd = niceDomain(ylo, yhi, 5);
    y = { lo: yd.lo, hi: yd.hi, ticks: yd.values.map((v) => ({ v, label: formatTick(v, yd.decimals) })), log: false };
  }
  return drawCore({
    title: opts.title,
    xLabel: opts.xLabel ?? 'step',
    yLabel: opts.yLabel,
    x: { lo: xt.lo, hi: xt.hi, ticks: xt.values.map((v) => ({ v, label: formatTick(v, xt.decimals) })) },
    y,
    series: opts.series.map((s, i) => ({
      name: s.name,
      color: seriesColor(i),
      points: s.x.map((x, k) => [x, smoothed[i][k]] as [number, number]),
      faint: w > 0 ? s.x.map((x, k) => [x, s.y[k]] as [number, number]) : undefined,
    })),
  });
}

/**
 * Renders training curves (loss or a metric over steps) as PNG bytes: one line per series, no
 * markers or bands, optional EMA smoothing and log y axis (see {@link TrainingCurveOptions}).
 * Non-finite y values (a diverged step) break the line instead of throwing.
 */
export function renderTrainingCurve(opts: TrainingCurveOptions): Uint8Array {
  return rasterizeSvg(trainingCurveSvg(opts).svg, { scale: opts.scale });
}

/**
 * Exponential moving average over x, bias-corrected (TensorBoard's smoothing): `weight` is the
 * weight of the past per unit of x, so a point Δx after the previous one keeps weight^Δx of it.
 * With a point every step this is the usual EMA; a sparse series (validation every 500 steps)
 * is barely smoothed, as its points are far apart in steps. Non-finite values are skipped (and
 * stay non-finite).
 */
export function ema(xs: readonly number[], ys: readonly number[], weight: number): number[] {
  let acc = 0;
  let norm = 0;
  let prev = Number.NaN;
  return ys.map((v, i) => {
    if (!Number.isFinite(v)) return v;
    // The first point's w only scales acc and norm alike (both start at 0): any value works.
    const w = Number.isNaN(prev) ? weight : weight ** Math.max(0, xs[i] - prev);
    prev = xs[i];
    acc = w * acc + (1 - w) * v;
    norm = w * norm + (1 - w);
    return acc / norm;
  });
}

function drawCore(spec: CoreSpec): LineFigure {
  const tickLabels = spec.y.ticks.map((t) => t.label);
  const first = spec.x.ticks[0]?.label ?? '';
  const last = spec.x.ticks[spec.x.ticks.length - 1]?.label ?? '';
  const layout = layoutFrame({
    title: spec.title,
    yLabel: spec.yLabel,
    yTickLabels: tickLabels,
    legend: spec.series.map((s) => s.name),
    plotWidth: PLOT_W,
    plotHeight: PLOT_H,
    xAxisHeight: numericXAxisHeight(spec.xLabel),
    xOverhang: { left: textWidth(first, STYLE.tickSize) / 2, right: textWidth(last, STYLE.tickSize) / 2 },
  });
  const p = layout.plot;
  const sx = linearScale(spec.x.lo, spec.x.hi, p.x, p.x + p.w);
  const ly = spec.y.log ? Math.log10 : (v: number) => v;
  const syLin = linearScale(ly(spec.y.lo), ly(spec.y.hi), p.y + p.h, p.y);
  const sy = (v: number) => syLin(ly(v));
  const svg = new SvgBuilder(layout.width, layout.height);
  drawTitle(svg, layout, spec.title);
  drawYAxis(
    svg,
    layout,
    spec.y.ticks.map((t) => ({ y: sy(t.v), label: t.label })),
    spec.yLabel,
  );
  drawXAxis(
    svg,
    layout,
    spec.x.ticks.map((t) => ({ x: sx(t.v), label: t.label })),
    spec.xLabel,
  );
  const clip = svg.clipRect(p.x - MARKER_R - 1, p.y - MARKER_R - 1, p.w + 2 * MARKER_R + 2, p.h + 2 * MARKER_R + 2);
  svg.group({ 'clip-path': clip });
  for (const s of spec.series) {
    if (!s.band) continue;
    const up = s.points.map(([x], k) => [sx(x), sy(s.band!.hi[k])] as [number, number]);
    const down = s.points.map(([x], k) => [sx(x), sy(s.band!.lo[k])] as [number, number]).reverse();
    svg.polygon([...up, ...down], { fill: s.color, 'fill-opacity': 0.16, stroke: 'none' });
  }
  for (const s of spec.series) {
    if (s.faint) svg.path(pathData(segments(s.faint, sx, sy), false), { fill: 'none', stroke: s.color, 'stroke-opacity': 0.25, 'stroke-width': 1 });
  }
  const markers: { x: number; y: number }[][] = [];
  for (const s of spec.series) {
    svg.path(pathData(segments(s.points, sx, sy), false), { fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' });
  }
  for (const s of spec.series) {
    const ms: { x: number; y: number }[] = [];
    if (s.marker) {
      for (const [x, y] of s.points) {
        const m = { x: sx(x), y: sy(y) };
        drawMarker(svg, s.marker, m.x, m.y, MARKER_R, s.color);
        ms.push(m);
      }
    }
    markers.push(ms);
  }
  svg.endGroup();
  drawSpines(svg, layout);
  drawLegend(
    svg,
    layout.legend,
    spec.series.map((s) => s.name),
    layout.legend.x,
    layout.legend.y,
    (i, x, cy, w) => {
      const s = spec.series[i];
      svg.line(x, cy, x + w, cy, { stroke: s.color, 'stroke-width': 2 });
      if (s.marker) drawMarker(svg, s.marker, x + w / 2, cy, MARKER_R, s.color);
    },
  );
  return { svg: svg.toString(), width: layout.width, height: layout.height, layout, markers };
}

/** Splits points into runs of finite values, mapped to px. */
function segments(points: readonly [number, number][], sx: (v: number) => number, sy: (v: number) => number): [number, number][][] {
  const out: [number, number][][] = [];
  let run: [number, number][] = [];
  for (const [x, y] of points) {
    if (Number.isFinite(y)) run.push([sx(x), sy(y)]);
    else if (run.length) {
      out.push(run);
      run = [];
    }
  }
  if (run.length) out.push(run);
  // A lone finite point between gaps still shows: a zero-length segment with a round cap.
  return out.map((r) => (r.length === 1 ? [r[0], r[0]] : r));
}

/** A marker of radius ~r (same visual weight across shapes), white-rimmed. */
function drawMarker(svg: SvgBuilder, shape: MarkerShape, x: number, y: number, r: number, color: string): void {
  const a = { fill: color, stroke: '#ffffff', 'stroke-width': 1 };
  switch (shape) {
    case 'circle':
      svg.circle(x, y, r, a);
      break;
    case 'square':
      svg.rect(x - r * 0.88, y - r * 0.88, r * 1.76, r * 1.76, a);
      break;
    case 'diamond':
      svg.polygon(
        [
          [x, y - r * 1.25],
          [x + r * 1.25, y],
          [x, y + r * 1.25],
          [x - r * 1.25, y],
        ],
        a,
      );
      break;
    case 'triangle':
    case 'triangle-down': {
      const d = shape === 'triangle' ? 1 : -1;
      const k = r * 1.3;
      svg.polygon(
        [
          [x, y - d * k],
          [x + k * 0.866, y + d * k * 0.5],
          [x - k * 0.866, y + d * k * 0.5],
        ],
        a,
      );
      break;
    }
  }
}

function validateLinePlot(opts: LinePlotOptions): void {
  const FN = 'renderLinePlot';
  if (!opts || typeof opts !== 'object') throw new Error(`${FN}: options must be an object`);
  checkString(FN, 'title', opts.title);
  checkString(FN, 'xLabel', opts.xLabel);
  checkString(FN, 'yLabel', opts.yLabel);
  checkNonEmptyArray(FN, 'x', opts.x);
  opts.x.forEach((v, i) => {
    checkFinite(FN, `x[${i}]`, v);
    if (i > 0 && !(v > opts.x[i - 1])) throw new Error(`${FN}: x must be strictly increasing (x[${i - 1}] = ${opts.x[i - 1]}, x[${i}] = ${v})`);
  });
  checkNonEmptyArray(FN, 'series', opts.series);
  opts.series.forEach((s, i) => {
    checkString(FN, `series[${i}].name`, s?.name);
    checkLength(FN, `series[${i}].mean`, s.mean, opts.x.length, 'x positions');
    checkLength(FN, `series[${i}].std`, s.std, opts.x.length, 'x positions');
    s.mean.forEach((m, k) => checkFinite(FN, `series[${i}].mean[${k}]`, m));
    s.std.forEach((d, k) => checkStd(FN, `series[${i}].std[${k}]`, d));
  });
}

function validateTrainingCurve(opts: TrainingCurveOptions): void {
  const FN = 'renderTrainingCurve';
  if (!opts || typeof opts !== 'object') throw new Error(`${FN}: options must be an object`);
  checkString(FN, 'title', opts.title);
  if (opts.xLabel !== undefined) checkString(FN, 'xLabel', opts.xLabel);
  checkString(FN, 'yLabel', opts.yLabel);
  if (opts.smoothing !== undefined) {
    checkFinite(FN, 'smoothing', opts.smoothing, 0, 1);
    if (opts.smoothing >= 1) throw new Error(`${FN}: smoothing is ${opts.smoothing} (expected a weight in [0, 1))`);
  }
  checkNonEmptyArray(FN, 'series', opts.series);
  opts.series.forEach((s, i) => {
    checkString(FN, `series[${i}].name`, s?.name);
    checkNonEmptyArray(FN, `series[${i}].x`, s.x);
    checkLength(FN, `series[${i}].y`, s.y, s.x.length, 'x positions');
    s.x.forEach((v, k) => {
      checkFinite(FN, `series[${i}].x[${k}]`, v);
      if (k > 0 && v < s.x[k - 1]) throw new Error(`${FN}: series[${i}].x must be non-decreasing (x[${k - 1}] = ${s.x[k - 1]}, x[${k}] = ${v})`);
    });
    s.y.forEach((v, k) => {
      if (typeof v !== 'number') throw new Error(`${FN}: series[${i}].y[${k}] is ${String(v)} (expected a number)`);
      if (opts.logY && Number.isFinite(v) && v <= 0) throw new Error(`${FN}: series[${i}].y[${k}] is ${v}, which a log axis cannot show (logY needs values > 0)`);
    });
  });
}
