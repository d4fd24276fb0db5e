/**
 * The Dice-over-click-position heatmap (the paper's Fig. 1/4): for one object, every simulated
 * click drawn as a dot where it was placed, coloured by the Dice of the mask it produced, one
 * panel per method side by side (SAM 2, RP-SAM2) on the same crop of the frame with the object's
 * outline; RP-SAM2's panel can show where the shift block moved each click (arrows). A viridis
 * colour bar with the fixed range 0..1 serves all panels, so their colours compare directly.
 */
import { checkMask, type BinaryMask, traceMask } from '@rpsam2/data';
import { meanStd } from '../metrics/aggregate.js';
import type { Click } from '../protocol/clicks.js';
import { viridisHex } from './colormap.js';
import { cropDataUri, objectCrop, type CropBox } from './crop.js';
import { rasterizeSvg } from './rasterize.js';
import { STYLE } from './style.js';
import { num, pathData, SvgBuilder, type SvgFigure } from './svg.js';
import { textWidth } from './text-metrics.js';
import { formatTick, niceTicks } from './ticks.js';
import { checkFinite, checkLength, checkNonEmptyArray, checkString } from './validate.js';

/** One method's clicks and their Dice. */
export interface HeatmapPanel {
  /** E.g. "SAM 2", "RP-SAM2". */
  title: string;
  /** Click positions (pixel (x, y) of the frame; drawn at the pixel's centre). */
  clicks: Click[];
  /** Dice in 0..1 of the mask predicted from each click. */
  dice: number[];
  /**
   * Where each click was moved to (RP-SAM2's refined clicks, fractional pixels in the same frame
   * as `clicks`): drawn as arrows from the click, clipped to the panel if they leave the crop.
   */
  refined?: Click[];
}

/** A heatmap figure's input. */
export interface ClickHeatmapOptions {
  /** The frame, 8-bit RGB row-major. */
  image: { width: number; height: number; rgb: Uint8Array };
  /** The object's ground-truth mask (same size as the frame). */
  mask: BinaryMask;
  panels: HeatmapPanel[];
  /** Figure title above the panels. */
  title?: string;
  /** Longer side of each panel's image, in px (default 360). */
  panelSize?: number;
  /** Device pixels per px of the PNG (default 2). */
  scale?: number;
}

/** A drawn click (figure px). */
export interface HeatmapDot {
  x: number;
  y: number;
  r: number;
  dice: number;
  color: string;
}

/** Where a panel went. */
export interface HeatmapPanelGeometry {
  /** The panel's image area in figure px. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Figure px per frame pixel. */
  zoom: number;
  dots: HeatmapDot[];
  /** Arrows drawn (clicks moved past their dot's edge). */
  arrows: number;
  mean: number;
  std: number;
}

/** The SVG and where things went. */
export interface ClickHeatmapFigure extends SvgFigure {
  /** The frame region every panel shows. */
  crop: CropBox;
  panels: HeatmapPanelGeometry[];
  /** The colour bar's rectangle (figure px): Dice 1 at the top, 0 at the bottom. */
  colorBar: { x: number; y: number; w: number; h: number };
}

const FN = 'renderClickHeatmap';
const PANEL_GAP = 28;
const BAR_W = 16;
const BAR_GAP = 22;
const ARROW_HEAD = 6;
/** Width of the dark ring around a dot. */
const DOT_RING = 1.4;

/** Builds the heatmap's SVG (see {@link renderClickHeatmap}). */
export function clickHeatmapSvg(opts: ClickHeatmapOptions): ClickHeatmapFigure {
  validate(opts);
  const { image, mask, panels } = opts;
  const m = STYLE.margin;
  const points: Click[] = [];
  for (const p of panels) points.push(...p.clicks, ...(p.refined ?? []));
  const crop = objectCrop(mask, points)!;
  const size = opts.panelSize ?? 360;
  const zoom = size / Math.max(crop.w, crop.h);
  const pw = crop.w * zoom;
  const ph = crop.h * zoom;

  const titleH = opts.title ? STYLE.titleSize * 1.3 + 8 : 0;
  const panelTitleH = STYLE.labelSize * 1.3 + 6;
  const statsH = 8 + STYLE.tickSize * 1.3;
  const hasArrows = panels.some((p) => p.refined);
  const captionH = hasArrows ? STYLE.tickSize * 1.3 + 6 : 0;
  const barTicks = niceTicks(0, 1, 5);
  const barLabelW = Math.max(...barTicks.values.map((v) => textWidth(formatTick(v, barTicks.decimals), STYLE.tickSize)));
  const panelsW = panels.length * pw + (panels.length - 1) * PANEL_GAP;
  const contentW = panelsW + BAR_GAP + BAR_W + STYLE.tickLength + 4 + barLabelW;
  const titleW = opts.title ? textWidth(opts.title, STYLE.titleSize, 'bold') : 0;
  const width = Math.max(contentW, titleW) + 2 * m;
  const left = (width - contentW) / 2;
  const imgY = m + titleH + panelTitleH;
  const height = imgY + ph + statsH + captionH + m;
  const svg = new SvgBuilder(width, height);
  if (opts.title) svg.text(width / 2, m + STYLE.titleSize, opts.title, { size: STYLE.titleSize, weight: 'bold', anchor: 'middle', fill: STYLE.text });

  const href = cropDataUri(image, crop);
  const outline = outlineRings(mask);
  const geometry: HeatmapPanelGeometry[] = [];
  panels.forEach((panel, pi) => {
    const px = left + pi * (pw + PANEL_GAP);
    geometry.push(drawPanel(svg, panel, { x: px, y: imgY, w: pw, h: ph }, crop, zoom, href, outline));
  });

  // Colour bar: the same colormap as the dots, fixed 0..1, ticks on its right.
  const bx = left + panelsW + BAR_GAP;
  const gradient = svg.id('viridis');
  const stops: string[] = [];
  for (let k = 0; k <= 51; k++) stops.push(`<stop offset="${num(k / 51)}" stop-color="${viridisHex(k / 51)}"/>`);
  svg.raw(`<linearGradient id="${gradient}" x1="0" y1="1" x2="0" y2="0">${stops.join('')}</linearGradient>`);
  svg.rect(bx, imgY, BAR_W, ph, { fill: `url(#${gradient})`, stroke: STYLE.axis, 'stroke-width': 0.8 });
  for (const v of barTicks.values) {
    const ty = imgY + ph * (1 - v);
    svg.line(bx + BAR_W, ty, bx + BAR_W + STYLE.tickLength, ty, { stroke: STYLE.axis, 'stroke-width': 1 });
    svg.text(bx + BAR_W + STYLE.tickLength + 3, ty, formatTick(v, barTicks.decimals), { size: STYLE.tickSize, baseline: 'middle', fill: STYLE.text });
  }
  svg.text(bx + BAR_W / 2, imgY - 8, 'Dice', { size: STYLE.tickSize, anchor: 'middle', fill: STYLE.text });
  if (hasArrows) {
    svg.text(left + panelsW / 2, imgY + ph + statsH + STYLE.tickSize + 4, 'dots: clicks coloured by the Dice of their mask; arrows: click → refined click', {
      size: STYLE.tickSize - 1,
      anchor: 'middle',
      fill: STYLE.muted,
    });
  }
  return { svg: svg.toString(), width, height, crop, panels: geometry, colorBar: { x: bx, y: imgY, w: BAR_W, h: ph } };
}

/**
 * Renders the click heatmap as PNG bytes: one panel per entry of `panels`, side by side, each
 * the frame cropped around the object (margin included) with the object's outline, every click
 * as a dot coloured by its Dice (viridis, fixed 0..1, colour bar on the right), the panel's
 * title above and its Dice mean ± sample std (ddof = 1) below; with `refined`, an arrow from
 * each click's dot to its refined click (moves that end inside the dot are not drawn).
 * Deterministic: the same input gives the same bytes. Throws, naming the argument, on sizes that
 * disagree, empty lists, clicks outside the frame, non-finite refined clicks, or a Dice that is
 * not a finite number in 0..1.
 */
export function renderClickHeatmap(opts: ClickHeatmapOptions): Uint8Array {
  return rasterizeSvg(clickHeatmapSvg(opts).svg, { scale: opts.scale });
}

function drawPanel(
  svg: SvgBuilder,
  panel: HeatmapPanel,
  area: { x: number; y: number; w: number; h: number },
  crop: CropBox,
  zoom: number,
  href: string,
  outline: readonly (readonly number[][])[],
): HeatmapPanelGeometry {
  const { x, y, w, h } = area;
  // A title wider than the panel (plus half the gaps) is set smaller rather than run into its neighbour.
  const titleSize = fitSize(panel.title, STYLE.labelSize + 1, w + PANEL_GAP - 4, 'bold');
  svg.text(x + w / 2, y - 10, panel.title, { size: titleSize, weight: 'bold', anchor: 'middle', fill: STYLE.text });
  const clip = svg.clipRect(x, y, w, h);
  svg.group({ 'clip-path': clip });
  svg.image(x, y, w, h, href);
  // The outline: a dark halo under a white line, visible on bright and dark tissue alike.
  const od = pathData(
    outline.map((ring) => ring.map(([px, py]) => [x + (px - crop.x0) * zoom, y + (py - crop.y0) * zoom] as [number, number])),
    true,
  );
  if (od) {
    svg.path(od, { fill: 'none', stroke: '#000000', 'stroke-opacity': 0.55, 'stroke-width': 3, 'stroke-linejoin': 'round' });
    svg.path(od, { fill: 'none', stroke: '#ffffff', 'stroke-width': 1.4, 'stroke-linejoin': 'round' });
  }
  const centres = panel.clicks.map((c) => ({ x: x + (c.x + 0.5 - crop.x0) * zoom, y: y + (c.y + 0.5 - crop.y0) * zoom }));
  const r = dotRadius(centres);
  const dots: HeatmapDot[] = [];
  panel.clicks.forEach((_, i) => {
    const c = centres[i];
    const d = panel.dice[i];
    const color = viridisHex(d);
    // A dark ring outside a white rim keeps every colour visible on any background.
    svg.circle(c.x, c.y, r + DOT_RING, { fill: '#000000', 'fill-opacity': 0.6 });
    svg.circle(c.x, c.y, r, { fill: color, stroke: '#ffffff', 'stroke-width': 1 });
    dots.push({ x: c.x, y: c.y, r, dice: d, color });
  });
  // Arrows over the dots, starting at the dot's edge so that its colour stays visible.
  let arrows = 0;
  if (panel.refined) {
    panel.refined.forEach((t, i) => {
      const a = centres[i];
      const bx = x + (t.x + 0.5 - crop.x0) * zoom;
      const by = y + (t.y + 0.5 - crop.y0) * zoom;
      const len = Math.hypot(bx - a.x, by - a.y);
      const start = r + DOT_RING;
      if (len <= start + 2) return;
      drawArrow(svg, a.x + ((bx - a.x) * start) / len, a.y + ((by - a.y) * start) / len, bx, by);
      arrows++;
    });
  }
  svg.endGroup();
  svg.rect(x, y, w, h, { fill: 'none', stroke: STYLE.axis, 'stroke-width': 0.8 });
  const s = meanStd(panel.dice);
  const stats = Number.isNaN(s.std) ? `Dice ${s.mean.toFixed(3)} (n = ${s.n})` : `Dice ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)} (n = ${s.n})`;
  svg.text(x + w / 2, y + h + 8 + STYLE.tickSize, stats, { size: fitSize(stats, STYLE.tickSize + 1, w + PANEL_GAP - 4), anchor: 'middle', fill: STYLE.text });
  return { x, y, w, h, zoom, dots, arrows, mean: s.mean, std: s.std };
}

/** `size`, or the smaller size (down to 8 px) at which `text` fits in `width`. */
function fitSize(text: string, size: number, width: number, weight: 'normal' | 'bold' = 'normal'): number {
  const w = textWidth(text, size, weight);
  return w <= width ? size : Math.max(8, (size * width) / w);
}

/**
 * Dot radius from the clicks' spacing: 0.4 × the median distance to the nearest other click
 * (so neighbouring grid dots do not touch), between 3 and 7 px.
 */
function dotRadius(centres: readonly { x: number; y: number }[]): number {
  const nn: number[] = [];
  for (let i = 0; i < centres.length; i++) {
    let best = Infinity;
    for (let j = 0; j < centres.length; j++) {
      if (j === i) continue;
      const d = Math.hypot(centres[i].x - centres[j].x, centres[i].y - centres[j].y);
      if (d > 0 && d < best) best = d;
    }
    if (Number.isFinite(best)) nn.push(best);
  }
  if (nn.length === 0) return 7;
  nn.sort((a, b) => a - b);
  const med = nn[Math.floor(nn.length / 2)];
  return Math.min(7, Math.max(3, 0.4 * med));
}

/** A thin white arrow with a dark halo from (x0, y0) to (x1, y1), head at the end. */
function drawArrow(svg: SvgBuilder, x0: number, y0: number, x1: number, y1: number): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  const head = Math.min(ARROW_HEAD, len * 0.6);
  // The shaft stops where the head begins, so the head's tip stays sharp.
  const sx = x1 - ux * head;
  const sy = y1 - uy * head;
  const hw = head * 0.45;
  const tip: [number, number][] = [
    [x1, y1],
    [sx - uy * hw, sy + ux * hw],
    [sx + uy * hw, sy - ux * hw],
  ];
  const shaft = `M${num(x0)} ${num(y0)}L${num(sx)} ${num(sy)}`;
  svg.group({ class: 'arrow' });
  svg.path(shaft, { stroke: '#000000', 'stroke-opacity': 0.6, 'stroke-width': 3, 'stroke-linecap': 'round', fill: 'none' });
  svg.polygon(tip, { fill: '#000000', 'fill-opacity': 0.6, stroke: '#000000', 'stroke-opacity': 0.6, 'stroke-width': 1.6, 'stroke-linejoin': 'round' });
  svg.path(shaft, { stroke: '#ffffff', 'stroke-width': 1.3, 'stroke-linecap': 'round', fill: 'none' });
  svg.polygon(tip, { fill: '#ffffff' });
  svg.endGroup();
}

/** The mask's outline: every ring (exteriors and holes) of its traced pixel-edge polygons, in frame pixels. */
function outlineRings(mask: BinaryMask): number[][][] {
  const rings: number[][][] = [];
  for (const poly of traceMask(mask)) rings.push(poly.exterior, ...poly.interiors);
  return rings;
}

function validate(opts: ClickHeatmapOptions): void {
  if (!opts || typeof opts !== 'object') throw new Error(`${FN}: options must be an object`);
  const img = opts.image;
  if (!img || typeof img !== 'object') throw new Error(`${FN}: image must be { width, height, rgb }`);
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new Error(`${FN}: image size must be positive integers, got ${img.width}×${img.height}`);
  }
  if (!(img.rgb instanceof Uint8Array)) throw new Error(`${FN}: image.rgb must be a Uint8Array`);
  if (img.rgb.length !== img.width * img.height * 3) {
    throw new Error(`${FN}: image.rgb has ${img.rgb.length} bytes for a ${img.width}×${img.height} RGB image (expected ${img.width * img.height * 3})`);
  }
  checkMask(opts.mask, `${FN}: mask`);
  if (opts.mask.width !== img.width || opts.mask.height !== img.height) {
    throw new Error(`${FN}: mask is ${opts.mask.width}×${opts.mask.height} but image is ${img.width}×${img.height}`);
  }
  if (!opts.mask.data.some((v) => v !== 0)) throw new Error(`${FN}: mask is empty (no object to draw)`);
  if (opts.title !== undefined) checkString(FN, 'title', opts.title);
  if (opts.panelSize !== undefined) checkFinite(FN, 'panelSize', opts.panelSize, 64, 4096);
  checkNonEmptyArray(FN, 'panels', opts.panels);
  opts.panels.forEach((p, i) => {
    const at = `panels[${i}]`;
    if (!p || typeof p !== 'object') throw new Error(`${FN}: ${at} must be { title, clicks, dice }`);
    checkString(FN, `${at}.title`, p.title);
    checkNonEmptyArray(FN, `${at}.clicks`, p.clicks);
    checkLength(FN, `${at}.dice`, p.dice, p.clicks.length, 'clicks');
    p.clicks.forEach((c, k) => checkPoint(`${at}.clicks[${k}]`, c, img.width, img.height));
    p.dice.forEach((d, k) => checkFinite(FN, `${at}.dice[${k}]`, d, 0, 1));
    if (p.refined !== undefined) {
      checkLength(FN, `${at}.refined`, p.refined, p.clicks.length, 'clicks');
      // A refined click may leave the frame (the shift block is not bounded); it is drawn clipped.
      p.refined.forEach((c, k) => checkPoint(`${at}.refined[${k}]`, c));
    }
  });
}

/** Throws unless `c` is a finite point, inside [0, w) × [0, h) when a size is given. */
function checkPoint(path: string, c: Click, w?: number, h?: number): void {
  if (!c || typeof c !== 'object') throw new Error(`${FN}: ${path} must be { x, y }`);
  checkFinite(FN, `${path}.x`, c.x);
  checkFinite(FN, `${path}.y`, c.y);
  if (w !== undefined && h !== undefined && (c.x < 0 || c.y < 0 || c.x >= w || c.y >= h)) {
    throw new Error(`${FN}: ${path} = (${c.x}, ${c.y}) lies outside the ${w}×${h} image`);
  }
}
