/**
 * The tight bounding box of a binary mask's foreground, shared by the prompt sampler (SAM 2's
 * `mask_to_box`), the benchmark (HD95 crop, click grids, figure crops) and the studio's exports.
 */

/** A mask, row-major: pixel (x, y) is `data[y * width + x]`; any non-zero value is foreground. */
export interface BoundsMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A pixel box with INCLUSIVE bounds: the foreground spans columns x0 … x1 and rows y0 … y1, both
 * ends included, so the box is x1 − x0 + 1 pixels wide and y1 − y0 + 1 pixels high (a single
 * pixel at (x, y) has x0 = x1 = x, y0 = y1 = y).
 */
export interface MaskBounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The tight box of the mask's foreground (non-zero pixels), with inclusive bounds (see
 * {@link MaskBounds}: width x1 − x0 + 1), or `undefined` when the mask has no foreground pixel:
 * callers choose their own empty-mask behaviour. Throws when `data` does not hold
 * width × height values.
 */
export function maskBounds(mask: BoundsMask): MaskBounds | undefined {
  const { width, height, data } = mask;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`maskBounds: mask size ${width}×${height}; width and height must be integers ≥ 0`);
  }
  if (!(data instanceof Uint8Array)) throw new TypeError('maskBounds: mask.data must be a Uint8Array');
  if (data.length !== width * height) {
    throw new RangeError(`maskBounds: ${data.length} values for a ${width}×${height} mask (expected ${width * height})`);
  }
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y0 === height) y0 = y;
      y1 = y; // rows are visited in order, so the last foreground row is the largest
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
}

/**
 * The smallest box holding both `a` and `b` (inclusive bounds); an `undefined` side (an empty
 * mask) is ignored, and two undefined sides give `undefined`.
 */
export function unionBounds(a: MaskBounds | undefined, b: MaskBounds | undefined): MaskBounds | undefined {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}
