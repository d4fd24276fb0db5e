/**
 * The figures end to end: SVG content (dots, colours, arrows, bars, markers) and the rasterised
 * PNG, decoded and probed at known pixels (dot centres in their Dice colour, white background,
 * the colour bar, bars and markers in their series colour).
 */
import { describe, expect, it } from 'vitest';
import { decodeImage } from '@rpsam2/sam2';
import type { BinaryMask } from '@rpsam2/data';
import { barPlotSvg, renderBarPlot, type BarPlotOptions } from '../src/figures/bar-plot.js';
import { clickGrid } from '../src/figures/click-grid.js';
import { viridis, viridisHex } from '../src/figures/colormap.js';
import { clickHeatmapSvg, renderClickHeatmap, type ClickHeatmapOptions } from '../src/figures/heatmap.js';
import { ema, linePlotSvg, renderLinePlot, renderTrainingCurve, trainingCurveSvg, type LinePlotOptions } from '../src/figures/line-plot.js';
import { rasterizeSvg } from '../src/figures/rasterize.js';
import { num, SvgBuilder } from '../src/figures/svg.js';

/** Decodes a PNG and returns a pixel reader (RGB) plus the size. */
function decode(png: Uint8Array) {
  const img = decodeImage(png, 'figure');
  const ch = img.channels;
  return {
    width: img.width,
    height: img.height,
    at(x: number, y: number): [number, number, number] {
      const i = (Math.floor(y) * img.width + Math.floor(x)) * ch;
      return [img.data[i], img.data[i + 1], img.data[i + 2]];
    },
  };
}

function hexRgb(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

function expectNear(got: readonly number[], want: readonly number[], tol: number, what: string): void {
  for (let k = 0; k < 3; k++) expect(Math.abs(got[k] - want[k]), `${what}: got ${got}, expected ${want}`).toBeLessThanOrEqual(tol);
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe('rasterizeSvg', () => {
  it('renders at the requested scale, deterministically', () => {
    const svg = new SvgBuilder(40, 30).rect(10, 10, 20, 10, { fill: '#ff0000' }).toString();
    const a = rasterizeSvg(svg, { scale: 1 });
    const b = rasterizeSvg(svg, { scale: 1 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const p = decode(a);
    expect([p.width, p.height]).toEqual([40, 30]);
    expect(p.at(20, 15)).toEqual([255, 0, 0]);
    expect(p.at(2, 2)).toEqual([255, 255, 255]);
    const p2 = decode(rasterizeSvg(svg, { scale: 2 }));
    expect([p2.width, p2.height]).toEqual([80, 60]);
    expect(p2.at(40, 30)).toEqual([255, 0, 0]);
    expect(() => rasterizeSvg(svg, { scale: 0 })).toThrow(/scale/);
  });
});

describe('renderClickHeatmap', () => {
  // A 64×48 frame of one colour, the object a 20×12 rectangle at (20, 18).
  const W = 64;
  const H = 48;
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb.set([90, 120, 150], 3 * i);
  const data = new Uint8Array(W * H);
  for (let y = 18; y <= 29; y++) for (let x = 20; x <= 39; x++) data[y * W + x] = 1;
  const mask: BinaryMask = { width: W, height: H, data };
  // Spacing 6 over spans 19 × 11: columns 21, 27, 33, 39 and rows 21, 27 (8 clicks).
  const clicks = clickGrid(mask, 6);
  const dice = clicks.map((_, i) => i / 7);
  const dice2 = dice.slice().reverse();
  // Odd clicks move 2 px up (20 figure px at zoom 10), even ones stay (no arrow).
  const refined = clicks.map((c, i) => (i % 2 ? { x: c.x, y: c.y - 2 } : { ...c }));
  const opts: ClickHeatmapOptions = {
    image: { width: W, height: H, rgb },
    mask,
    title: 'Cystotome <test> & more',
    panels: [
      { title: 'SAM 2', clicks, dice },
      { title: 'RP-SAM2', clicks, dice: dice2, refined },
    ],
  };

  it('lays out one dot per click in its Dice colour, and arrows for moved clicks', () => {
    expect(clicks).toEqual([21, 27].flatMap((y) => [21, 27, 33, 39].map((x) => ({ x, y }))));
    const fig = clickHeatmapSvg(opts);
    // Crop: box 20×12 at (20, 18) + 8 px margin → 36×28 at (12, 10); zoom 360 / 36 = 10.
    expect(fig.crop).toEqual({ x0: 12, y0: 10, w: 36, h: 28 });
    expect(fig.panels.map((p) => [p.w, p.h, p.zoom])).toEqual([
      [360, 280, 10],
      [360, 280, 10],
    ]);
    for (const [pi, d] of [dice, dice2].entries()) {
      const p = fig.panels[pi];
      expect(p.dots.length).toBe(8);
      p.dots.forEach((dot, i) => {
        expect(dot.color).toBe(viridisHex(d[i]));
        expect(dot.x).toBeCloseTo(p.x + (clicks[i].x + 0.5 - 12) * 10, 9);
        expect(dot.y).toBeCloseTo(p.y + (clicks[i].y + 0.5 - 10) * 10, 9);
        // Grid dots 60 px apart → radius capped at 7.
        expect(dot.r).toBe(7);
      });
    }
    // Each Dice colour fills exactly one dot per panel (the two panels use the same values).
    for (const d of dice) expect(count(fig.svg, `fill="${viridisHex(d)}"`), `dice ${d}`).toBe(2);
    expect(fig.panels.map((p) => p.arrows)).toEqual([0, 4]);
    expect(count(fig.svg, 'class="arrow"')).toBe(4);
    expect(fig.svg).toContain('Cystotome &lt;test&gt; &amp; more');
    // Mean 0.5 and sample std √(42/49/7) = 0.34993 of 0, 1/7, …, 1.
    expect(count(fig.svg, 'Dice 0.500 ± 0.350 (n = 8)')).toBe(2);
    // The outline: one closed ring with the rectangle's 4 corners, drawn twice (halo + line) per panel.
    const p0 = fig.panels[0];
    const [l, t, r, b] = [num(p0.x + 80), num(p0.y + 80), num(p0.x + 280), num(p0.y + 200)];
    expect(count(fig.svg, `d="M${l} ${t}L${r} ${t}L${r} ${b}L${l} ${b}Z"`)).toBe(2);
  });

  it('renders a PNG whose pixels show the dots, the frame, the colour bar and the arrows', () => {
    const scale = 2;
    const fig = clickHeatmapSvg(opts);
    const png = renderClickHeatmap({ ...opts, scale });
    const img = decode(png);
    expect([img.width, img.height]).toEqual([Math.round(fig.width * scale), Math.round(fig.height * scale)]);
    expect(img.at(3, 3)).toEqual([255, 255, 255]);
    for (const p of fig.panels) {
      for (const dot of p.dots) expect(img.at(dot.x * scale, dot.y * scale), `dot Dice ${dot.dice}`).toEqual(hexRgb(dot.color));
      // The frame (one colour) shows in the panel, away from dots and outline.
      expectNear(img.at((p.x + 30) * scale, (p.y + 30) * scale), [90, 120, 150], 2, 'frame pixel');
    }
    const bar = fig.colorBar;
    for (const v of [0.1, 0.5, 0.9]) expectNear(img.at((bar.x + bar.w / 2) * scale, (bar.y + bar.h * (1 - v)) * scale), viridis(v), 3, `colour bar at ${v}`);
    // Arrow heads: white 16 px above a moved click's centre; the frame above an unmoved one.
    const rp = fig.panels[1];
    for (const [i, dot] of rp.dots.entries()) {
      const px = img.at(dot.x * scale, (dot.y - 16) * scale);
      if (i % 2) for (const c of px) expect(c, `arrow head of click ${i}`).toBeGreaterThanOrEqual(235);
      else expectNear(px, [90, 120, 150], 2, `no arrow above click ${i}`);
    }
    // Same input, same bytes.
    expect(Buffer.from(renderClickHeatmap({ ...opts, scale })).equals(Buffer.from(png))).toBe(true);
  });

  it('names the argument that is wrong', () => {
    const bad = (panels: ClickHeatmapOptions['panels'], extra: Partial<ClickHeatmapOptions> = {}) => () => clickHeatmapSvg({ ...opts, panels, ...extra });
    expect(bad([{ title: 'a', clicks, dice }, { title: 'b', clicks: [...clicks, { x: 30, y: 20 }], dice }])).toThrow('renderClickHeatmap: panels[1].dice has 8 values for 9 clicks');
    const nanDice = dice.slice();
    nanDice[3] = Number.NaN;
    expect(bad([{ title: 'a', clicks, dice: nanDice }])).toThrow('renderClickHeatmap: panels[0].dice[3] is NaN');
    const hiDice = dice.slice();
    hiDice[2] = 1.2;
    expect(bad([{ title: 'a', clicks, dice: hiDice }])).toThrow(/panels\[0\]\.dice\[2\] is 1\.2 \(expected a number in 0\.\.1\)/);
    expect(bad([{ title: 'a', clicks: [{ x: 64, y: 3 }], dice: [0.5] }])).toThrow('panels[0].clicks[0] = (64, 3) lies outside the 64×48 image');
    expect(bad([{ title: 'a', clicks, dice, refined: clicks.slice(1) }])).toThrow('panels[0].refined has 7 values for 8 clicks');
    expect(bad([{ title: 'a', clicks: [], dice: [] }])).toThrow('panels[0].clicks is empty');
    expect(bad([])).toThrow('renderClickHeatmap: panels is empty');
    expect(bad([{ title: 'a', clicks, dice }], { mask: { width: 10, height: 10, data: new Uint8Array(100) } })).toThrow('mask is 10×10 but image is 64×48');
    expect(bad([{ title: 'a', clicks, dice }], { mask: { width: W, height: H, data: new Uint8Array(W * H) } })).toThrow('mask is empty');
    expect(bad([{ title: 'a', clicks, dice }], { image: { width: W, height: H, rgb: new Uint8Array(5) } })).toThrow('image.rgb has 5 bytes');
  });
});

describe('renderBarPlot', () => {
  const opts: BarPlotOptions = {
    title: 'mDSC per class',
    yLabel: 'mDSC',
    groups: ['A', 'B', 'C'],
    series: [
      {
        name: 'SAM 2',
        values: [
          { mean: 0.5, std: 0.1 },
          { mean: 0.8, std: Number.NaN },
          { mean: 0.25, std: 0.05 },
        ],
      },
      {
        name: 'RP-SAM2',
        values: [
          { mean: 0.6, std: 0.1 },
          { mean: 0.9, std: 0.02 },
          { mean: 0.3, std: 0.05 },
        ],
      },
    ],
    yRange: [0, 1],
  };

  it('draws bars of height ∝ mean from the baseline, error bars unless std is NaN', () => {
    const fig = barPlotSvg(opts);
    const p = fig.layout.plot;
    expect(fig.bars.length).toBe(6);
    for (const b of fig.bars) {
      const v = opts.series[b.series].values[b.group];
      expect(b.h).toBeCloseTo(v.mean * p.h, 9);
      expect(b.y + b.h).toBeCloseTo(p.y + p.h, 9);
      expect(b.color).toBe(b.series === 0 ? '#0072b2' : '#d55e00');
      expect(b.errorBar).toBe(!(b.series === 0 && b.group === 1));
    }
    // Bars of one group side by side, groups left to right.
    expect(fig.bars[0].x).toBeLessThan(fig.bars[1].x);
    expect(fig.bars[1].x).toBeLessThan(fig.bars[2].x);
    expect(count(fig.svg, 'stroke="#1a1a1a"')).toBe(5);
    expect(fig.rotatedLabels).toBe(false);
    // Auto range: nice bounds over 0 and every mean ± std (max 0.92) → [0, 1], same bars.
    const auto = barPlotSvg({ ...opts, yRange: undefined });
    auto.bars.forEach((b, i) => expect(b.h).toBeCloseTo(fig.bars[i].h, 9));
  });

  it('renders bars in their series colour on white', () => {
    const scale = 2;
    const fig = barPlotSvg(opts);
    const img = decode(renderBarPlot({ ...opts, scale }));
    expect([img.width, img.height]).toEqual([Math.round(fig.width * scale), Math.round(fig.height * scale)]);
    expect(img.at(2, 2)).toEqual([255, 255, 255]);
    for (const b of fig.bars) expect(img.at((b.x + b.w * 0.2) * scale, (b.y + b.h * 0.9) * scale)).toEqual(hexRgb(b.color));
  });

  it('rotates group labels that do not fit', () => {
    const groups = Array.from({ length: 12 }, (_, i) => `Phacoemulsification Tip ${i}`);
    const series = [{ name: 'm', values: groups.map(() => ({ mean: 0.5, std: 0.1 })) }];
    expect(barPlotSvg({ title: 't', yLabel: 'y', groups, series }).rotatedLabels).toBe(true);
  });

  it('names the argument that is wrong', () => {
    const s = opts.series;
    expect(() => barPlotSvg({ ...opts, series: [s[0], { name: 'x', values: s[1].values.slice(1) }] })).toThrow('renderBarPlot: series[1].values has 2 values for 3 groups');
    expect(() => barPlotSvg({ ...opts, series: [{ name: 'x', values: [s[0].values[0], { mean: Number.NaN, std: 0 }, s[0].values[2]] }] })).toThrow('series[0].values[1].mean is NaN');
    expect(() => barPlotSvg({ ...opts, series: [{ name: 'x', values: [{ mean: 1, std: -1 }, ...s[0].values.slice(1)] }] })).toThrow('series[0].values[0].std is -1');
    expect(() => barPlotSvg({ ...opts, groups: [] })).toThrow('renderBarPlot: groups is empty');
    expect(() => barPlotSvg({ ...opts, yRange: [1, 0] })).toThrow('yRange is [1, 0] (expected lo < hi)');
  });
});

describe('renderLinePlot', () => {
  const opts: LinePlotOptions = {
    title: 'mDSC vs clicks',
    xLabel: 'clicks per object',
    yLabel: 'mDSC',
    x: [6, 8, 10, 12],
    series: [
      { name: 'SAM 2', mean: [0.7, 0.72, 0.74, 0.76], std: [0.02, 0.02, 0.02, 0.02] },
      { name: 'RP-SAM2', mean: [0.78, 0.79, 0.8, 0.81], std: [0.02, Number.NaN, 0.02, 0.02] },
    ],
  };

  it('places markers on the scales, one band per series', () => {
    const fig = linePlotSvg(opts);
    const p = fig.layout.plot;
    // y: data 0.68 … 0.83 → nice [0.65, 0.85]; x: 6 … 12 padded by 6 % → [5.64, 12.36].
    const X = (v: number) => p.x + (p.w * (v - 5.64)) / 6.72;
    const Y = (v: number) => p.y + (p.h * (0.85 - v)) / 0.2;
    opts.series.forEach((s, i) =>
      s.mean.forEach((m, k) => {
        expect(fig.markers[i][k].x).toBeCloseTo(X(opts.x[k]), 9);
        expect(fig.markers[i][k].y).toBeCloseTo(Y(m), 9);
      }),
    );
    expect(count(fig.svg, 'fill-opacity="0.16"')).toBe(2);
    // Tick labels at the data's x positions.
    for (const t of ['>6<', '>8<', '>10<', '>12<', '>0.65<', '>0.85<']) expect(fig.svg).toContain(t);
  });

  it('renders markers in their series colour', () => {
    const scale = 2;
    const fig = linePlotSvg(opts);
    const img = decode(renderLinePlot({ ...opts, scale }));
    expect(img.at(2, 2)).toEqual([255, 255, 255]);
    fig.markers[0].forEach((m) => expect(img.at(m.x * scale, m.y * scale)).toEqual([0, 114, 178]));
    fig.markers[1].forEach((m) => expect(img.at(m.x * scale, m.y * scale)).toEqual([213, 94, 0]));
  });

  it('names the argument that is wrong', () => {
    expect(() => linePlotSvg({ ...opts, x: [6, 8, 8, 12] })).toThrow('renderLinePlot: x must be strictly increasing (x[1] = 8, x[2] = 8)');
    expect(() => linePlotSvg({ ...opts, series: [{ name: 'a', mean: [1, 2, 3, 4], std: [0, 0, 0] }] })).toThrow('series[0].std has 3 values for 4 x positions');
    expect(() => linePlotSvg({ ...opts, series: [{ name: 'a', mean: [1, Number.POSITIVE_INFINITY, 3, 4], std: [0, 0, 0, 0] }] })).toThrow('series[0].mean[1] is Infinity');
    expect(() => linePlotSvg({ ...opts, series: [] })).toThrow('renderLinePlot: series is empty');
  });
});

describe('renderTrainingCurve', () => {
  it('smooths with a bias-corrected EMA whose weight is per unit of x', () => {
    // Weight 0.5, a point every step: 1; (0.25·1 + 0.5·2)/0.75; (0.125·1 + 0.25·2 + 0.5·3)/0.875.
    const s = ema([0, 1, 2], [1, 2, 3], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(5 / 3, 12);
    expect(s[2]).toBeCloseTo(2.125 / 0.875, 12);
    // Points 10 steps apart keep w = 0.5^10 of the past: (w·0.5·1 + (1 − w)·3)/(w·0.5 + 1 − w).
    const w = 0.5 ** 10;
    expect(ema([0, 10], [1, 3], 0.5)[1]).toBeCloseTo((w * 0.5 + (1 - w) * 3) / (w * 0.5 + 1 - w), 12);
    // Non-finite values pass through and do not disturb the average (the gap is 2 steps: w = 0.25).
    const g = ema([0, 1, 2], [1, Number.NaN, 3], 0.5);
    expect(Number.isNaN(g[1])).toBe(true);
    expect(g[2]).toBeCloseTo((0.25 * 0.5 * 1 + 0.75 * 3) / (0.25 * 0.5 + 0.75), 12);
  });

  it('breaks the line at non-finite values and draws the raw curve faintly when smoothing', () => {
    const x = [0, 1, 2, 3, 4, 5];
    const y = [1, 0.8, Number.NaN, 0.5, 0.4, 0.3];
    const plain = trainingCurveSvg({ title: 't', yLabel: 'loss', series: [{ name: 'loss', x, y }] });
    const path = /<path d="([^"]+)" fill="none" stroke="#0072b2" stroke-width="2"/.exec(plain.svg);
    expect(path).not.toBeNull();
    expect(count(path![1], 'M')).toBe(2);
    expect(count(plain.svg, 'stroke-opacity="0.25"')).toBe(0);
    const smooth = trainingCurveSvg({ title: 't', yLabel: 'loss', series: [{ name: 'loss', x, y }], smoothing: 0.6, logY: true });
    expect(count(smooth.svg, 'stroke-opacity="0.25"')).toBe(1);
    expect(smooth.markers).toEqual([[]]);
    const img = decode(renderTrainingCurve({ title: 't', yLabel: 'loss', series: [{ name: 'loss', x, y }], scale: 1 }));
    expect([img.width, img.height]).toEqual([Math.round(plain.width), Math.round(plain.height)]);
  });

  it('names the argument that is wrong', () => {
    expect(() => trainingCurveSvg({ title: 't', yLabel: 'loss', logY: true, series: [{ name: 'a', x: [0, 1], y: [1, 0] }] })).toThrow('series[0].y[1] is 0, which a log axis cannot show');
    expect(() => trainingCurveSvg({ title: 't', yLabel: 'loss', series: [{ name: 'a', x: [0, 2, 1], y: [1, 1, 1] }] })).toThrow('series[0].x must be non-decreasing');
    expect(() => trainingCurveSvg({ title: 't', yLabel: 'loss', smoothing: 1, series: [{ name: 'a', x: [0], y: [1] }] })).toThrow('smoothing is 1');
    expect(() => trainingCurveSvg({ title: 't', yLabel: 'loss', series: [{ name: 'a', x: [0, 1], y: [Number.NaN, Number.NaN] }] })).toThrow('no finite y value');
  });
});
