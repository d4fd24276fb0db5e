/**
 * The viridis colormap (van der Walt & Smith, matplotlib's default): perceptually uniform,
 * monotonic in lightness, readable in grey and by colour-blind readers, so a Dice of 0.9 looks
 * "more" than 0.8 by the same amount as 0.3 over 0.2.
 *
 * Stored as every 5th entry of the 256-entry lookup table (52 anchors, 8-bit sRGB) and
 * interpolated linearly in between: t ∈ [0, 1] sits at position 255·t of the table, and the
 * result is within 1/255 per channel of the full table everywhere.
 */

const ANCHORS_HEX = [
  '440154 46085c 471063 481769 481d6f 482475 472a7a 46307e',
  '453781 433d84 414287 3f4889 3d4e8a 3a538b 38598c 355e8d',
  '33638d 31688e 2e6d8e 2c718e 2a768e 297b8e 27808e 25848e',
  '23898e 218e8d 20928c 1f978b 1e9c89 1fa188 21a585 24aa83',
  '28ae80 2eb37c 35b779 3dbc74 46c06f 50c46a 5ac864 65cb5e',
  '70cf57 7cd250 89d548 95d840 a2da37 b0dd2f bddf26 cae11f',
  'd8e219 e5e419 f1e51d fde725',
]
  .join(' ')
  .split(' ');

const ANCHORS: readonly (readonly [number, number, number])[] = ANCHORS_HEX.map((h) => [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)]);

/** Table entries between two anchors. */
const STEP = 5;

/** An 8-bit sRGB colour. */
export type Rgb = readonly [number, number, number];

/**
 * Viridis at t ∈ [0, 1] (values outside are clamped: the colour bar's range is fixed) as 8-bit
 * RGB. Throws on NaN, which has no colour.
 */
export function viridis(t: number): Rgb {
  if (Number.isNaN(t)) throw new Error('viridis: value is NaN (expected a number in 0..1)');
  const p = (Math.min(1, Math.max(0, t)) * 255) / STEP;
  const k = Math.min(ANCHORS.length - 2, Math.floor(p));
  const f = p - k;
  const a = ANCHORS[k];
  const b = ANCHORS[k + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** `#rrggbb` of an 8-bit RGB colour. */
export function rgbHex(c: Rgb): string {
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Viridis at t as `#rrggbb`. */
export function viridisHex(t: number): string {
  return rgbHex(viridis(t));
}
