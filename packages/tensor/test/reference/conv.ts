/**
 * Reference convolutions and pooling (float64, NCHW), written as plain loops over every output
 * element and kernel tap. The transposed convolution is written as a scatter (each input pixel
 * spreads into the output), the opposite of the GPU's gather, so the two check each other.
 */
import { refZeros, type Ref, type RefOp } from './ref.js';

export type Pair = [number, number];

export interface ConvArgs {
  stride?: number | Pair;
  padding?: number | Pair;
  dilation?: number | Pair;
  groups?: number;
}

export interface ConvTransposeArgs extends ConvArgs {
  outputPadding?: number | Pair;
}

export interface PoolArgs {
  kernelSize: number | Pair;
  stride?: number | Pair;
  padding?: number | Pair;
}

const pair = (v: number | Pair | undefined, dflt: number): Pair => (v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v);

interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  s: Pair;
  p: Pair;
  d: Pair;
  k: Pair;
}

/** Calls `f(n, oy, ox, iy, ix, ky, kx)` for every in-bounds tap of a conv-like window. */
function forEachTap(
  g: Geometry,
  outHW: Pair,
  f: (n: number, oy: number, ox: number, iy: number, ix: number, ky: number, kx: number) => void,
): void {
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < outHW[0]; oy++)
      for (let ox = 0; ox < outHW[1]; ox++)
        for (let ky = 0; ky < g.k[0]; ky++) {
          const iy = oy * g.s[0] - g.p[0] + ky * g.d[0];
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.k[1]; kx++) {
            const ix = ox * g.s[1] - g.p[1] + kx * g.d[1];
            if (ix < 0 || ix >= g.w) continue;
            f(n, oy, ox, iy, ix, ky, kx);
          }
        }
}

function convGeometry(x: Ref, w: Ref, a: ConvArgs): Geometry & { groups: number; cout: number; cinG: number; outHW: Pair } {
  const [n, c, h, wd] = x.shape;
  const [cout, cinG, kh, kw] = w.shape;
  const s = pair(a.stride, 1);
  const p = pair(a.padding, 0);
  const d = pair(a.dilation, 1);
  const outHW: Pair = [Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1, Math.floor((wd + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1];
  return { n, c, h, w: wd, s, p, d, k: [kh, kw], groups: a.groups ?? 1, cout, cinG, outHW };
}

/** conv2d: inputs [x [N, C, H, W], weight [Cout, C/groups, kH, kW], bias [Cout]?]. */
export const conv2dRef: RefOp<ConvArgs> = {
  forward([x, w, b], a) {
    const g = convGeometry(x, w, a);
    const [ho, wo] = g.outHW;
    const coutG = g.cout / g.groups;
    const out = refZeros([g.n, g.cout, ho, wo]);
    for (let co = 0; co < g.cout; co++) {
      const grp = Math.floor(co / coutG);
      for (let ci = 0; ci < g.cinG; ci++) {
        const c = grp * g.cinG + ci;
        forEachTap(g, g.outHW, (n, oy, ox, iy, ix, ky, kx) => {
          out.data[((n * g.cout + co) * ho + oy) * wo + ox] +=
            x.data[((n * g.c + c) * g.h + iy) * g.w + ix] * w.data[((co * g.cinG + ci) * g.k[0] + ky) * g.k[1] + kx];
        });
      }
    }
    if (b) for (let i = 0; i < out.data.length; i++) out.data[i] += b.data[Math.floor(i / (ho * wo)) % g.cout];
    return out;
  },
  vjp([x, w, b], a, up) {
    const g = convGeometry(x, w, a);
    const [ho, wo] = g.outHW;
    const coutG = g.cout / g.groups;
    const dx = refZeros(x.shape);
    const dw = refZeros(w.shape);
    for (let co = 0; co < g.cout; co++) {
      const grp = Math.floor(co / coutG);
      for (let ci = 0; ci < g.cinG; ci++) {
        const c = grp * g.cinG + ci;
        forEachTap(g, g.outHW, (n, oy, ox, iy, ix, ky, kx) => {
          const u = up.data[((n * g.cout + co) * ho + oy) * wo + ox];
          const xi = ((n * g.c + c) * g.h + iy) * g.w + ix;
          const wi = ((co * g.cinG + ci) * g.k[0] + ky) * g.k[1] + kx;
          dx.data[xi] += u * w.data[wi];
          dw.data[wi] += u * x.data[xi];
        });
      }
    }
    let db: Ref | null = null;
    if (b) {
      db = refZeros(b.shape);
      for (let i = 0; i < up.data.length; i++) db.data[Math.floor(i / (ho * wo)) % g.cout] += up.data[i];
    }
    return b ? [dx, dw, db] : [dx, dw];
  },
};

function convTGeometry(x: Ref, w: Ref, a: ConvTransposeArgs) {
  const [n, cin, h, wd] = x.shape;
  const [, coutG, kh, kw] = w.shape;
  const groups = a.groups ?? 1;
  const s = pair(a.stride, 1);
  const p = pair(a.padding, 0);
  const d = pair(a.dilation, 1);
  const op = pair(a.outputPadding, 0);
  const ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1;
  const wo = (wd - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1;
  return { n, cin, h, w: wd, coutG, cout: coutG * groups, cinG: cin / groups, kh, kw, s, p, d, ho, wo };
}

/**
 * Calls `f(xi, wi, oi)` for every (input element, weight element, output element) triple of a
 * transposed convolution: input pixel (iy, ix) scatters into output (iy·s − p + ky·d, …).
 */
function forEachScatter(x: Ref, w: Ref, a: ConvTransposeArgs, f: (xi: number, wi: number, oi: number) => void) {
  const g = convTGeometry(x, w, a);
  for (let n = 0; n < g.n; n++)
    for (let ci = 0; ci < g.cin; ci++) {
      const grp = Math.floor(ci / g.cinG);
      for (let iy = 0; iy < g.h; iy++)
        for (let ix = 0; ix < g.w; ix++)
          for (let co = 0; co < g.coutG; co++)
            for (let ky = 0; ky < g.kh; ky++) {
              const oy = iy * g.s[0] - g.p[0] + ky * g.d[0];
              if (oy < 0 || oy >= g.ho) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ox = ix * g.s[1] - g.p[1] + kx * g.d[1];
                if (ox < 0 || ox >= g.wo) continue;
                f(
                  ((n * g.cin + ci) * g.h + iy) * g.w + ix,
                  ((ci * g.coutG + co) * g.kh + ky) * g.kw + kx,
                  ((n * g.cout + grp * g.coutG + co) * g.ho + oy) * g.wo + ox,
                );
              }
            }
    }
  return g;
}

/** conv_transpose2d: inputs [x [N, Cin, H, W], weight [Cin, Cout/groups, kH, kW], bias [Cout]?]. */
export const convTranspose2dRef: RefOp<ConvTransposeArgs> = {
  forward([x, w, b], a) {
    const { n, cout, ho, wo } = convTGeometry(x, w, a);
    const out = refZeros([n, cout, ho, wo]);
    forEachScatter(x, w, a, (xi, wi, oi) => (out.data[oi] += x.data[xi] * w.data[wi]));
    if (b) for (let i = 0; i < out.data.length; i++) out.data[i] += b.data[Math.floor(i / (ho * wo)) % cout];
    return out;
  },
  vjp([x, w, b], a, up) {
    const dx = refZeros(x.shape);
    const dw = refZeros(w.shape);
    const { cout, ho, wo } = forEachScatter(x, w, a, (xi, wi, oi) => {
      dx.data[xi] += up.data[oi] * w.data[wi];
      dw.data[wi] += up.data[oi] * x.data[xi];
    });
    let db: Ref | null = null;
    if (b) {
      db = refZeros(b.shape);
      for (let i = 0; i < up.data.length; i++) db.data[Math.floor(i / (ho * wo)) % cout] += up.data[i];
    }
    return b ? [dx, dw, db] : [dx, dw];
  },
};

function poolGeometry(x: Ref, a: PoolArgs) {
  const [n, c, h, w] = x.shape;
  const k = pair(a.kernelSize, 1);
  const s = pair(a.stride, 0);
  if (a.stride === undefined) [s[0], s[1]] = k;
  const p = pair(a.padding, 0);
  const ho = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const wo = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  return { n, c, h, w, k, s, p, ho, wo };
}

/** For each output element: the flat input index of its window's first maximum (−1 if none). */
function argmaxes(x: Ref, a: PoolArgs): { shape: number[]; idx: Int32Array; val: Float64Array } {
  const g = poolGeometry(x, a);
  const shape = [g.n, g.c, g.ho, g.wo];
  const idx = new Int32Array(g.n * g.c * g.ho * g.wo).fill(-1);
  const val = new Float64Array(idx.length).fill(-Infinity);
  let o = 0;
  for (let nc = 0; nc < g.n * g.c; nc++)
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++, o++)
        for (let ky = 0; ky < g.k[0]; ky++) {
          const iy = oy * g.s[0] - g.p[0] + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.k[1]; kx++) {
            const ix = ox * g.s[1] - g.p[1] + kx;
            if (ix < 0 || ix >= g.w) continue;
            const i = (nc * g.h + iy) * g.w + ix;
            if (x.data[i] > val[o]) {
              val[o] = x.data[i];
              idx[o] = i;
            }
          }
        }
  return { shape, idx, val };
}

/** max_pool2d (floor mode, −∞ padding); the gradient goes to the first maximum of each window. */
export const maxPool2dRef: RefOp<PoolArgs> = {
  forward([x], a) {
    const { shape, val } = argmaxes(x, a);
    return { shape, data: val };
  },
  vjp([x], a, up) {
    const { idx } = argmaxes(x, a);
    const dx = refZeros(x.shape);
    idx.forEach((i, o) => {
      if (i >= 0) dx.data[i] += up.data[o];
    });
    return [dx];
  },
};

/** avg_pool2d (floor mode; padded taps count as zeros, divisor kH·kW as PyTorch's default). */
export const avgPool2dRef: RefOp<PoolArgs> = {
  forward([x], a) {
    const g = poolGeometry(x, a);
    const out = refZeros([g.n, g.c, g.ho, g.wo]);
    forEachTap({ ...g, n: g.n * g.c, d: [1, 1] }, [g.ho, g.wo], (nc, oy, ox, iy, ix) => {
      out.data[(nc * g.ho + oy) * g.wo + ox] += x.data[(nc * g.h + iy) * g.w + ix] / (g.k[0] * g.k[1]);
    });
    return out;
  },
  vjp([x], a, up) {
    const g = poolGeometry(x, a);
    const dx = refZeros(x.shape);
    forEachTap({ ...g, n: g.n * g.c, d: [1, 1] }, [g.ho, g.wo], (nc, oy, ox, iy, ix) => {
      dx.data[(nc * g.h + iy) * g.w + ix] += up.data[(nc * g.ho + oy) * g.wo + ox] / (g.k[0] * g.k[1]);
    });
    return [dx];
  },
};
