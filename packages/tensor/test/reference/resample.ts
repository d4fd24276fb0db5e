/**
 * Reference resampling ops (float64): PyTorch's interpolate (nearest, nearest-exact, bilinear
 * with and without antialias, bicubic) and grid_sample at normalised points. Written directly
 * from the formulas of ATen's UpSample.h / GridSampler.h, one output sample at a time.
 */
import { refZeros, sizeOfShape, type Ref, type RefOp } from './ref.js';

export interface InterpolateArgs {
  size: [number, number];
  mode: 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';
  alignCorners?: boolean;
  antialias?: boolean;
  /** Scale factors (then `size` must be floor(in·s)). */
  scaleFactor?: [number, number];
}

/** Weights of the input samples read by output sample `d` along one axis: index → weight. */
export function axisWeights(args: InterpolateArgs, inSize: number, outSize: number, d: number, factor?: number): Map<number, number> {
  const { mode, alignCorners = false, antialias = false } = args;
  const wts = new Map<number, number>();
  const put = (i: number, w: number) => wts.set(i, (wts.get(i) ?? 0) + w);
  if (mode === 'nearest' || mode === 'nearest-exact') {
    // float32 scale and arithmetic, as ATen's nearest_idx / nearest_exact_idx
    const s = Math.fround(factor ? 1 / factor : inSize / outSize);
    let i: number;
    if (mode === 'nearest') i = outSize === inSize ? d : outSize === 2 * inSize ? Math.floor(d / 2) : Math.floor(Math.fround(Math.fround(d) * s));
    else i = Math.floor(Math.fround((d + 0.5) * s));
    put(Math.min(i, inSize - 1), 1);
    return wts;
  }
  let scale: number;
  if (alignCorners) scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  else scale = factor ? 1 / factor : inSize / outSize;
  if (antialias) {
    // PIL-style: triangle of half-width max(1, scale) around centre scale·(d + 0.5)
    const support = Math.max(scale, 1);
    const center = scale * (d + 0.5);
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const raw: [number, number][] = [];
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j - center + 0.5) / support));
      raw.push([j, w]);
      total += w;
    }
    for (const [j, w] of raw) put(j, total !== 0 ? w / total : w);
    return wts;
  }
  const cubic = mode === 'bicubic';
  let src = alignCorners ? scale * d : scale * (d + 0.5) - 0.5;
  if (!alignCorners && !cubic) src = Math.max(src, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const t = Math.min(Math.max(src - i0, 0), 1);
  const clampIdx = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  if (!cubic) {
    put(i0, 1 - t);
    put(Math.min(i0 + 1, inSize - 1), t);
    return wts;
  }
  const A = -0.75;
  // Keys' cubic convolution kernel evaluated at the four tap distances.
  const k = (x: number) => {
    const ax = Math.abs(x);
    if (ax <= 1) return (A + 2) * ax ** 3 - (A + 3) * ax ** 2 + 1;
    if (ax < 2) return A * ax ** 3 - 5 * A * ax ** 2 + 8 * A * ax - 4 * A;
    return 0;
  };
  for (let j = -1; j <= 2; j++) put(clampIdx(i0 + j), k(t - j));
  return wts;
}

/** Per output index of one axis: the input indices read and their weights (flat arrays for speed). */
interface AxisTaps {
  idx: Int32Array[];
  w: Float64Array[];
}

function axisTaps(args: InterpolateArgs, inSize: number, outSize: number, factor?: number): AxisTaps {
  const rows = Array.from({ length: outSize }, (_, d) => [...axisWeights(args, inSize, outSize, d, factor)]);
  return { idx: rows.map((r) => Int32Array.from(r, (e) => e[0])), w: rows.map((r) => Float64Array.from(r, (e) => e[1])) };
}

function interpTables(x: Ref, args: InterpolateArgs) {
  const [h, w] = x.shape.slice(-2);
  const [oh, ow] = args.size;
  const rows = axisTaps(args, h, oh, args.scaleFactor?.[0]);
  const cols = axisTaps(args, w, ow, args.scaleFactor?.[1]);
  const outer = sizeOfShape(x.shape.slice(0, -2));
  return { h, w, oh, ow, rows, cols, outer, outShape: [...x.shape.slice(0, -2), oh, ow] };
}

/**
 * Calls `tap(o, i, weight)` for every (output, input) pair of flat indices that interpolation
 * links, output by output and each output's taps in row-then-column order.
 */
function forEachTap(tables: ReturnType<typeof interpTables>, tap: (o: number, i: number, weight: number) => void): void {
  const { h, w, oh, ow, rows, cols, outer } = tables;
  for (let a = 0; a < outer; a++) {
    for (let oy = 0; oy < oh; oy++) {
      const ry = rows.idx[oy];
      const wy = rows.w[oy];
      for (let ox = 0; ox < ow; ox++) {
        const rx = cols.idx[ox];
        const wx = cols.w[ox];
        const o = (a * oh + oy) * ow + ox;
        for (let i = 0; i < ry.length; i++) {
          const base = (a * h + ry[i]) * w;
          for (let j = 0; j < rx.length; j++) tap(o, base + rx[j], wy[i] * wx[j]);
        }
      }
    }
  }
}

export const interpolateRef: RefOp<InterpolateArgs> = {
  forward([x], args) {
    const tables = interpTables(x, args);
    const out = refZeros(tables.outShape);
    forEachTap(tables, (o, i, weight) => (out.data[o] += weight * x.data[i]));
    return out;
  },
  vjp([x], args, up) {
    const g = refZeros(x.shape);
    forEachTap(interpTables(x, args), (o, i, weight) => (g.data[i] += weight * up.data[o]));
    return [g];
  },
};

/**
 * grid_sample(image, 2p − 1, bilinear, zeros, align_corners=False) at points p: image
 * [N, C, H, W], points [N, P, 2] or [N, Hg, Wg, 2] → [N, C, 1, P] or [N, C, Hg, Wg].
 */
export const samplePointsRef: RefOp<Record<string, never>> = {
  forward([img, pts]) {
    const [n, c, h, w] = img.shape;
    const [gh, gw] = pts.shape.length === 3 ? [1, pts.shape[1]] : [pts.shape[1], pts.shape[2]];
    const q = gh * gw;
    const out = refZeros([n, c, gh, gw]);
    const at = (b: number, ch: number, y: number, x: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : img.data[((b * c + ch) * h + y) * w + x]);
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < q; k++) {
        // unnormalise the grid value g = 2p − 1: ((g + 1)·W − 1) / 2
        const ix = ((2 * pts.data[2 * (b * q + k)] - 1 + 1) * w - 1) / 2;
        const iy = ((2 * pts.data[2 * (b * q + k) + 1] - 1 + 1) * h - 1) / 2;
        const x0 = Math.floor(ix);
        const y0 = Math.floor(iy);
        const tx = ix - x0;
        const ty = iy - y0;
        for (let ch = 0; ch < c; ch++) {
          out.data[(b * c + ch) * q + k] =
            at(b, ch, y0, x0) * (1 - tx) * (1 - ty) +
            at(b, ch, y0, x0 + 1) * tx * (1 - ty) +
            at(b, ch, y0 + 1, x0) * (1 - tx) * ty +
            at(b, ch, y0 + 1, x0 + 1) * tx * ty;
        }
      }
    }
    return out;
  },
  vjp([img, pts], _args, up) {
    const [n, c, h, w] = img.shape;
    const q = pts.data.length / 2 / n;
    const gi = refZeros(img.shape);
    const gp = refZeros(pts.shape);
    const inside = (y: number, x: number) => x >= 0 && y >= 0 && x < w && y < h;
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < q; k++) {
        const ix = pts.data[2 * (b * q + k)] * w - 0.5;
        const iy = pts.data[2 * (b * q + k) + 1] * h - 0.5;
        const x0 = Math.floor(ix);
        const y0 = Math.floor(iy);
        const tx = ix - x0;
        const ty = iy - y0;
        const corners: [number, number, number, number, number][] = [
          // y, x, weight, d weight/d ix, d weight/d iy
          [y0, x0, (1 - tx) * (1 - ty), -(1 - ty), -(1 - tx)],
          [y0, x0 + 1, tx * (1 - ty), 1 - ty, -tx],
          [y0 + 1, x0, (1 - tx) * ty, -ty, 1 - tx],
          [y0 + 1, x0 + 1, tx * ty, ty, tx],
        ];
        for (let ch = 0; ch < c; ch++) {
          const u = up.data[(b * c + ch) * q + k];
          for (const [y, x, wt, dx, dy] of corners) {
            if (!inside(y, x)) continue;
            const idx = ((b * c + ch) * h + y) * w + x;
            gi.data[idx] += wt * u;
            gp.data[2 * (b * q + k)] += dx * img.data[idx] * u * w;
            gp.data[2 * (b * q + k) + 1] += dy * img.data[idx] * u * h;
          }
        }
      }
    }
    return [gi, gp];
  },
};
