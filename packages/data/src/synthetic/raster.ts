/**
 * Rasterising a list of parts into a field over its bounding box: per pixel centre, the union's
 * signed distance (min over parts), and the part that shades it (the last part in list order
 * containing the centre, else the nearest). Shading coordinates are recomputed only where the
 * part is drawn.
 */
import type { Scratch } from './scratch.js';
import { partBounds, samplePart, type Part, type PartSample } from './shapes.js';

/** The field of one instrument (or any part list) over its bounding box. */
export interface PartRaster {
  x0: number;
  y0: number;
  w: number;
  h: number;
  /** Signed distance (pixels) of the union; < 0 inside. */
  sd: Float32Array;
  /** Index of the shading part (−1 where no part is near). */
  part: Int8Array;
  parts: readonly Part[];
}

const FAR = 1e9;

/**
 * Rasterises parts over the image (width × height), or undefined when none reaches it. Pixels
 * farther than `pad` from every part keep sd = 1e9 and part −1. With `scratch`, the fields live in
 * its buffers `<slot>.sd` / `<slot>.part` (valid until the slot is reused).
 */
export function rasterizeParts(parts: readonly Part[], width: number, height: number, pad = 1.5, scratch?: Scratch, slot = 'raster'): PartRaster | undefined {
  if (parts.length > 127) throw new Error(`rasterizeParts: at most 127 parts, got ${parts.length}`);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  const boxes = parts.map((p) => partBounds(p, pad));
  for (const [a, b, c, d] of boxes) {
    x0 = Math.min(x0, a);
    y0 = Math.min(y0, b);
    x1 = Math.max(x1, c);
    y1 = Math.max(y1, d);
  }
  x0 = Math.max(0, x0);
  y0 = Math.max(0, y0);
  x1 = Math.min(width - 1, x1);
  y1 = Math.min(height - 1, y1);
  if (x1 < x0 || y1 < y0) return undefined;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const sd = (scratch ? scratch.f32(`${slot}.sd`, w * h) : new Float32Array(w * h)).fill(FAR);
  const part = (scratch ? scratch.i8(`${slot}.part`, w * h) : new Int8Array(w * h)).fill(-1);
  const s: PartSample = { sd: 0, along: 0, across: 0 };
  parts.forEach((p, k) => {
    const [bx0, by0, bx1, by1] = boxes[k];
    const ya = Math.max(y0, by0);
    const yb = Math.min(y1, by1);
    const xa = Math.max(x0, bx0);
    const xb = Math.min(x1, bx1);
    const capsule = p.type === 'capsule' ? p : undefined;
    for (let y = ya; y <= yb; y++) {
      let cx0 = xa;
      let cx1 = xb;
      if (capsule) {
        // Only the columns where this row can be within reach of the capsule's segment.
        const range = capsuleRowRange(capsule, y + 0.5, Math.max(capsule.ra, capsule.rb) + pad);
        if (!range) continue;
        cx0 = Math.max(cx0, range[0]);
        cx1 = Math.min(cx1, range[1]);
      }
      const row = (y - y0) * w - x0;
      for (let x = cx0; x <= cx1; x++) {
        samplePart(p, x + 0.5, y + 0.5, s);
        if (s.sd > pad) continue;
        const i = row + x;
        const cur = sd[i];
        if (s.sd < 0 || (cur >= 0 && s.sd < cur)) part[i] = k;
        if (s.sd < cur) sd[i] = s.sd;
      }
    }
  });
  return { x0, y0, w, h, sd, part, parts };
}

/** Columns [x0, x1] where the horizontal line y is within distance r of segment ab, or undefined. */
function capsuleRowRange(p: { a: readonly number[]; b: readonly number[] }, y: number, r: number): [number, number] | undefined {
  const [ax, ay] = p.a;
  const [bx, by] = p.b;
  const ylo = Math.min(ay, by) - r;
  const yhi = Math.max(ay, by) + r;
  if (y < ylo || y > yhi) return undefined;
  const dy = by - ay;
  const dx = bx - ax;
  let xlo: number;
  let xhi: number;
  if (Math.abs(dy) < 1e-9) {
    xlo = Math.min(ax, bx) - r;
    xhi = Math.max(ax, bx) + r;
  } else {
    // The band around the infinite line crosses this row over |Δx| ≤ r·len/|dy| around the
    // line's x; clamp to the segment's x extent (± r for the end caps).
    const len = Math.hypot(dx, dy);
    const xc = ax + ((y - ay) * dx) / dy;
    const half = (r * len) / Math.abs(dy);
    xlo = Math.max(xc - half, Math.min(ax, bx) - r);
    xhi = Math.min(xc + half, Math.max(ax, bx) + r);
  }
  return [Math.floor(xlo - 0.5), Math.ceil(xhi - 0.5)];
}
