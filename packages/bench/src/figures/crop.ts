/**
 * The part of a frame a heatmap panel shows: the object's bounding box (and any click outside
 * it) with a margin of context, widened to a not-too-elongated shape, kept inside the frame; and
 * that crop as an embeddable PNG data URI.
 */
import { maskBounds, unionBounds } from '@rpsam2/sam2';
import type { BinaryMask } from '@rpsam2/data';
import { encodePng } from '../datasets/png.js';

/** A pixel rectangle of the frame: columns x0 … x0 + w − 1, rows y0 … y0 + h − 1. */
export interface CropBox {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/** The crop's sides are kept within this ratio (so a thin instrument still shows its surroundings). */
export const MIN_ASPECT = 0.75;

/**
 * The crop around the mask's foreground and the given points (clamped to the frame): their
 * bounding box, grown by a margin of 12 % of its longer side (at least 8 px) on every side,
 * the shorter side widened to {@link MIN_ASPECT} of the longer, then moved (or, if larger,
 * clipped) to lie inside the frame. Returns undefined for an empty mask without points.
 */
export function objectCrop(mask: BinaryMask, points: readonly { x: number; y: number }[]): CropBox | undefined {
  const { width: W, height: H } = mask;
  let box = maskBounds(mask);
  for (const p of points) {
    const px = Math.min(W - 1, Math.max(0, Math.floor(p.x)));
    const py = Math.min(H - 1, Math.max(0, Math.floor(p.y)));
    box = unionBounds(box, { x0: px, y0: py, x1: px, y1: py });
  }
  if (!box) return undefined;
  const { x0, y0, x1, y1 } = box;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const margin = Math.max(8, Math.round(0.12 * side));
  let bx = x0 - margin;
  let by = y0 - margin;
  let bw = x1 - x0 + 1 + 2 * margin;
  let bh = y1 - y0 + 1 + 2 * margin;
  if (bw < MIN_ASPECT * bh) {
    const nw = Math.ceil(MIN_ASPECT * bh);
    bx -= Math.floor((nw - bw) / 2);
    bw = nw;
  } else if (bh < MIN_ASPECT * bw) {
    const nh = Math.ceil(MIN_ASPECT * bw);
    by -= Math.floor((nh - bh) / 2);
    bh = nh;
  }
  [bx, bw] = fitInside(bx, bw, W);
  [by, bh] = fitInside(by, bh, H);
  return { x0: bx, y0: by, w: bw, h: bh };
}

/** Moves [start, start + len) inside [0, limit), clipping it when it is longer. */
function fitInside(start: number, len: number, limit: number): [number, number] {
  if (len >= limit) return [0, limit];
  if (start < 0) return [0, len];
  if (start + len > limit) return [limit - len, len];
  return [start, len];
}

/** The crop of an 8-bit RGB frame as a `data:image/png;base64,…` URI. */
export function cropDataUri(image: { width: number; height: number; rgb: Uint8Array }, box: CropBox): string {
  const out = new Uint8Array(box.w * box.h * 3);
  for (let y = 0; y < box.h; y++) {
    const src = ((box.y0 + y) * image.width + box.x0) * 3;
    out.set(image.rgb.subarray(src, src + box.w * 3), y * box.w * 3);
  }
  const png = encodePng({ width: box.w, height: box.h, channels: 3, data: out });
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}
