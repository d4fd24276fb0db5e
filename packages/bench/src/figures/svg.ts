/**
 * A small SVG document builder for the benchmark's figures: elements are appended as strings in
 * drawing order (later on top), numbers are written compactly (at most 2 decimals, no trailing
 * zeros) and every text and attribute value is XML-escaped. A non-finite number anywhere throws,
 * so a NaN that slipped through a layout computation surfaces as an error naming the attribute
 * instead of an element that silently disappears from the picture.
 */

/** The font stack of every figure: DejaVu Sans first (its metrics drive `textWidth`). */
export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/** A figure's SVG document and its size in px: what every `*Svg` builder returns, with where things went. */
export interface SvgFigure {
  svg: string;
  width: number;
  height: number;
}

/** Attribute values: numbers are formatted with {@link num}, strings escaped, `undefined` skipped. */
export type Attrs = Record<string, string | number | undefined>;

/**
 * A number as SVG text: rounded to 2 decimals (1/100 px is far below what the rasteriser can
 * show), without trailing zeros, and never "-0". Throws on NaN/±∞, naming `what`.
 */
export function num(n: number, what = 'number'): string {
  if (!Number.isFinite(n)) throw new Error(`svg: ${what} is ${n} (expected a finite number)`);
  const r = Math.round(n * 100) / 100;
  if (r === 0) return '0';
  return String(r);
}

/** Escapes the five XML special characters (for text content and attribute values). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** Serialises attributes as ` name="value"` pairs, in the given key order. */
export function attrs(a: Attrs): string {
  let s = '';
  for (const k of Object.keys(a)) {
    const v = a[k];
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? num(v, `attribute ${k}`) : escapeXml(v)}"`;
  }
  return s;
}

/** Text placement: `anchor` is the horizontal alignment at x; `baseline: 'middle'` centres the text vertically on y. */
export interface TextStyle {
  size: number;
  weight?: 'normal' | 'bold';
  anchor?: 'start' | 'middle' | 'end';
  /** 'alphabetic' (default): y is the baseline; 'middle': y is the vertical centre of the digits and capitals. */
  baseline?: 'alphabetic' | 'middle';
  fill?: string;
  /** Rotation in degrees around (x, y), clockwise on screen (−90 for a y-axis label). */
  rotate?: number;
  /** Extra attributes (stroke for a halo, opacity, …). */
  extra?: Attrs;
}

/**
 * Baseline offset that centres DejaVu Sans text on a y coordinate: half its cap height
 * (0.729 em) below the centre, so digits and capitals are centred exactly. resvg's support for
 * `dominant-baseline` is partial, so the offset is applied here.
 */
const MIDDLE_SHIFT = 0.3645;

/** Builds one SVG document. */
export class SvgBuilder {
  private readonly parts: string[] = [];
  private nextId = 0;

  /** A `width`×`height` (CSS px) document with an opaque background. */
  constructor(
    readonly width: number,
    readonly height: number,
    background = '#ffffff',
  ) {
    num(width, 'document width');
    num(height, 'document height');
    if (width <= 0 || height <= 0) throw new Error(`svg: document size must be positive, got ${width}×${height}`);
    this.rect(0, 0, width, height, { fill: background });
  }

  /** A fresh id for a `clipPath` (unique within the document, deterministic). */
  id(prefix: string): string {
    return `${prefix}${this.nextId++}`;
  }

  /** Appends raw markup (already escaped). */
  raw(markup: string): this {
    this.parts.push(markup);
    return this;
  }

  /** A rectangle. */
  rect(x: number, y: number, w: number, h: number, a: Attrs = {}): this {
    return this.raw(`<rect${attrs({ x, y, width: w, height: h, ...a })}/>`);
  }

  /** A straight line. */
  line(x1: number, y1: number, x2: number, y2: number, a: Attrs = {}): this {
    return this.raw(`<line${attrs({ x1, y1, x2, y2, ...a })}/>`);
  }

  /** A circle. */
  circle(cx: number, cy: number, r: number, a: Attrs = {}): this {
    return this.raw(`<circle${attrs({ cx, cy, r, ...a })}/>`);
  }

  /** A path with data `d` (build it with {@link pathData}). */
  path(d: string, a: Attrs = {}): this {
    return this.raw(`<path${attrs({ d, ...a })}/>`);
  }

  /** An open polyline through the points. */
  polyline(points: readonly (readonly [number, number])[], a: Attrs = {}): this {
    return this.raw(`<polyline${attrs({ points: pointList(points), ...a })}/>`);
  }

  /** A closed polygon. */
  polygon(points: readonly (readonly [number, number])[], a: Attrs = {}): this {
    return this.raw(`<polygon${attrs({ points: pointList(points), ...a })}/>`);
  }

  /** A single line of text (see {@link TextStyle}). */
  text(x: number, y: number, content: string, style: TextStyle): this {
    const yy = style.baseline === 'middle' ? y + MIDDLE_SHIFT * style.size : y;
    const rotate = style.rotate ? `rotate(${num(style.rotate)} ${num(x)} ${num(y)})` : undefined;
    const a = attrs({
      x,
      y: yy,
      'font-size': style.size,
      'font-weight': style.weight === 'bold' ? 'bold' : undefined,
      'text-anchor': style.anchor && style.anchor !== 'start' ? style.anchor : undefined,
      fill: style.fill ?? '#222222',
      transform: rotate,
      ...style.extra,
    });
    return this.raw(`<text${a}>${escapeXml(content)}</text>`);
  }

  /** An embedded raster image (`href` is usually a `data:` URI), stretched to the box. */
  image(x: number, y: number, w: number, h: number, href: string, a: Attrs = {}): this {
    return this.raw(`<image${attrs({ x, y, width: w, height: h, preserveAspectRatio: 'none', 'xlink:href': href, ...a })}/>`);
  }

  /** A rectangular clip path; returns the `clip-path` attribute value that applies it. */
  clipRect(x: number, y: number, w: number, h: number): string {
    const id = this.id('clip');
    this.raw(`<clipPath id="${id}"><rect${attrs({ x, y, width: w, height: h })}/></clipPath>`);
    return `url(#${id})`;
  }

  /** Opens a group; close it with {@link endGroup}. */
  group(a: Attrs = {}): this {
    return this.raw(`<g${attrs(a)}>`);
  }

  /** Closes the innermost open group. */
  endGroup(): this {
    return this.raw('</g>');
  }

  /** The document. */
  toString(): string {
    const head =
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"` +
      `${attrs({ width: this.width, height: this.height, viewBox: `0 0 ${num(this.width)} ${num(this.height)}`, 'font-family': FONT_FAMILY })}>`;
    return `${head}${this.parts.join('')}</svg>`;
  }
}

/** `x1,y1 x2,y2 …` for `points` attributes. */
function pointList(points: readonly (readonly [number, number])[]): string {
  return points.map(([x, y]) => `${num(x, 'point x')},${num(y, 'point y')}`).join(' ');
}

/**
 * Path data: `M` to each ring's first point, `L` through the rest, `Z` when `closed`.
 * Rings with fewer than 2 points are skipped.
 */
export function pathData(rings: readonly (readonly (readonly [number, number])[])[], closed: boolean): string {
  let d = '';
  for (const ring of rings) {
    if (ring.length < 2) continue;
    d += `M${num(ring[0][0])} ${num(ring[0][1])}`;
    for (let i = 1; i < ring.length; i++) d += `L${num(ring[i][0])} ${num(ring[i][1])}`;
    if (closed) d += 'Z';
  }
  return d;
}
