/**
 * Binary mask → polygons that rasterise back to exactly the same pixels under the benchmark's
 * rule (`annotations/polygon.ts`: pixel centres, even-odd). Boundaries follow pixel edges ("crack
 * following"), so vertices are integer corner coordinates; a pixel's centre is inside the traced
 * rings exactly when the pixel is foreground.
 *
 * Foreground is 4-connected (background 8-connected): each 4-connected component becomes one
 * polygon with one exterior ring and one interior ring per hole. Where two foreground pixels
 * touch only at a corner, the trace keeps them apart (it turns around the pixel it came along).
 */
import type { BinaryMask } from '../mask.js';
import type { Scratch } from './scratch.js';

/** A polygon with holes, as Supervisely stores it: [x, y] integer corner coordinates. */
export interface TracedPolygon {
  exterior: number[][];
  interiors: number[][][];
  /** Foreground pixels of the component. */
  area: number;
}

/**
 * Labels the 4-connected components of the mask: returns the label per pixel (0 background,
 * 1..count) and the count. Iterative flood fill (no recursion). With `scratch` the label and
 * stack arrays are its buffers (valid until the next call with it).
 */
export function labelComponents4(mask: BinaryMask, scratch?: Scratch): { labels: Int32Array; count: number; areas: number[] } {
  const { width: w, height: h, data } = mask;
  const labels = scratch ? scratch.i32('cc.labels', w * h).fill(0) : new Int32Array(w * h);
  const stack = scratch ? scratch.i32('cc.stack', w * h) : new Int32Array(w * h);
  const areas: number[] = [0];
  let count = 0;
  for (let start = 0; start < data.length; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    count++;
    let area = 0;
    let sp = 0;
    stack[sp++] = start;
    labels[start] = count;
    while (sp > 0) {
      const i = stack[--sp];
      area++;
      const x = i % w;
      if (x > 0 && data[i - 1] !== 0 && labels[i - 1] === 0) (labels[i - 1] = count), (stack[sp++] = i - 1);
      if (x < w - 1 && data[i + 1] !== 0 && labels[i + 1] === 0) (labels[i + 1] = count), (stack[sp++] = i + 1);
      if (i >= w && data[i - w] !== 0 && labels[i - w] === 0) (labels[i - w] = count), (stack[sp++] = i - w);
      if (i + w < data.length && data[i + w] !== 0 && labels[i + w] === 0) (labels[i + w] = count), (stack[sp++] = i + w);
    }
    areas.push(area);
  }
  return { labels, count, areas };
}

/** True when the mask's foreground is non-empty and one 4-connected component. */
export function isConnected4(mask: BinaryMask): boolean {
  return labelComponents4(mask).count === 1;
}

/** One polygon (exterior + holes) per 4-connected component, largest first. */
export function traceMask(mask: BinaryMask): TracedPolygon[] {
  const { labels, count, areas } = labelComponents4(mask);
  const out: TracedPolygon[] = [];
  for (let k = 1; k <= count; k++) out.push(traceComponent(labels, mask.width, mask.height, k, areas[k]));
  return out.sort((a, b) => b.area - a.area);
}

// Sides of a pixel, clockwise on screen (y down): 0 top (TL→TR), 1 right (TR→BR),
// 2 bottom (BR→BL), 3 left (BL→TL).
const DX = [0, 1, 0, -1]; // neighbour across side s
const DY = [-1, 0, 1, 0];
// Start corner of side s relative to the pixel's top-left corner.
const SX = [0, 1, 1, 0];
const SY = [0, 0, 1, 1];

function traceComponent(labels: Int32Array, w: number, h: number, k: number, area: number): TracedPolygon {
  // Bounding box of the component, to keep the visited-edge array small.
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (labels[y * w + x] !== k) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const inside = (x: number, y: number) => x >= x0 && x <= x1 && y >= y0 && y <= y1 && labels[y * w + x] === k;
  const isBoundary = (x: number, y: number, s: number) => inside(x, y) && !inside(x + DX[s], y + DY[s]);
  const visited = new Uint8Array(bw * bh); // 4 bits per pixel: sides already traced
  const rings: number[][][] = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!inside(x, y)) continue;
      for (let s = 0; s < 4; s++) {
        const vi = (y - y0) * bw + (x - x0);
        if (visited[vi] & (1 << s) || !isBoundary(x, y, s)) continue;
        rings.push(traceLoop(x, y, s, inside, isBoundary, (px, py, ps) => {
          const j = (py - y0) * bw + (px - x0);
          const seen = (visited[j] & (1 << ps)) !== 0;
          visited[j] |= 1 << ps;
          return seen;
        }));
      }
    }
  }
  // The exterior is the ring with the largest |area| (it encloses all holes); clockwise on screen.
  let ext = 0;
  let best = -Infinity;
  for (let i = 0; i < rings.length; i++) {
    const a = Math.abs(area2(rings[i]));
    if (a > best) {
      best = a;
      ext = i;
    }
  }
  return { exterior: rings[ext], interiors: rings.filter((_, i) => i !== ext), area };
}

/** Follows boundary edges from (x, y, side) until the loop closes; returns its corner vertices. */
function traceLoop(
  x: number,
  y: number,
  s: number,
  inside: (x: number, y: number) => boolean,
  isBoundary: (x: number, y: number, s: number) => boolean,
  markSeen: (x: number, y: number, s: number) => boolean,
): number[][] {
  const pts: number[][] = [];
  const sx = x;
  const sy = y;
  const ss = s;
  let prevDir = -1;
  for (;;) {
    markSeen(x, y, s);
    // Edge direction equals the side index here (top edge runs +x = dir 0, right edge +y = 1, …);
    // emit a vertex only where the direction changes.
    if (s !== prevDir) pts.push([x + SX[s], y + SY[s]]);
    prevDir = s;
    // Next edge from the end corner of this one.
    const s1 = (s + 1) & 3;
    if (isBoundary(x, y, s1)) {
      s = s1; // convex corner: around this pixel
    } else {
      const nx = x + DX[s1];
      const ny = y + DY[s1];
      if (isBoundary(nx, ny, s)) {
        x = nx; // straight on, along the neighbour
        y = ny;
      } else {
        // Concave corner: the diagonal pixel's previous side.
        x = nx + DX[s];
        y = ny + DY[s];
        s = (s + 3) & 3;
        if (!inside(x, y)) throw new Error('traceMask: internal error (lost the boundary)');
      }
    }
    if (x === sx && y === sy && s === ss) break;
  }
  // The start vertex may sit mid-way along a straight run: drop it if collinear.
  if (pts.length > 2) {
    const a = pts[pts.length - 1];
    const b = pts[0];
    const c = pts[1];
    if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) === 0) pts.shift();
  }
  return pts;
}

function area2(ring: number[][]): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s;
}
