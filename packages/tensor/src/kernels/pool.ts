/**
 * The 2-D pooling kernels (run by ops/pool.ts), one thread per element. `params` holds n, h, w,
 * ho, wo, kh, kw, sy, sx, py, px (and `scale` = 1/(kh·kw) for average pooling). Backward gathers:
 * each input pixel sums the output gradients of the windows that contain it (for max pooling
 * only those whose stored argmax is this pixel), so there are no scattered writes and no
 * atomics. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

/**
 * WGSL: output pixel `idx` of [outer, ho, wo] → `outer`, the window origin (y0, x0) and the
 * in-bounds tap ranges.
 */
const windowOf = (idx: string) => `
  let ox = ${idx} % params.wo;
  let t = ${idx} / params.wo;
  let oy = t % params.ho;
  let outer = t / params.ho;
  let y0 = i32(oy) * params.sy - params.py;
  let x0 = i32(ox) * params.sx - params.px;
  let y_lo = max(y0, 0); let y_hi = min(y0 + params.kh, i32(params.h));
  let x_lo = max(x0, 0); let x_hi = min(x0 + params.kw, i32(params.w));`;

/** WGSL: NCHW output element i → its window (see {@link windowOf}) and input plane. */
const WINDOW = `${windowOf('i')}
  let plane = outer * params.h * params.w;`;

/**
 * WGSL: input element i → plane nc, pixel (iy, ix), and the range of output windows containing
 * it: oy from ceil((iy + p − k + 1) / s) to floor((iy + p) / s), clamped to the output.
 */
const WINDOWS_OF = `
  let ix = i32(i % params.w);
  let t = i / params.w;
  let iy = i32(t % params.h);
  let nc = t / params.h;
  let oy_lo = max((iy + params.py - params.kh + params.sy) / params.sy, 0);
  let oy_hi = min((iy + params.py) / params.sy, i32(params.ho) - 1);
  let ox_lo = max((ix + params.px - params.kw + params.sx) / params.sx, 0);
  let ox_hi = min((ix + params.px) / params.sx, i32(params.wo) - 1);
  let oplane = nc * params.ho * params.wo;`;

/** X → Y, IDX (the first maximum of each window, row-major, as PyTorch; NaN wins). */
export function maxPoolKernel(p: Params): Kernel {
  return {
    key: 'max_pool2d',
    wgsl: () => `${bindings(['X'], ['Y', 'IDX'], { IDX: 'i32' })}\n${p.wgsl(3)}
${linearMain(`${WINDOW}
  var m = -3.4028234663852886e38;
  var arg = y_lo * i32(params.w) + x_lo;
  var first = true;
  for (var iy = y_lo; iy < y_hi; iy++) {
    for (var ix = x_lo; ix < x_hi; ix++) {
      let j = iy * i32(params.w) + ix;
      let v = X[plane + u32(j)];
      if (first || v > m || v != v) { m = v; arg = j; first = false; }
    }
  }
  Y[i] = m;
  IDX[i] = arg;`)}`,
  };
}

/**
 * Channels last, values only (no argmax: the op takes this path without autograd): X [N, H, W,
 * C] → Y [N, Ho, Wo, C], one thread per output element, or per 4 channels (`vec`, C a multiple
 * of 4; `params.c` counts vec4s then). Same NaN and tie rules as {@link maxPoolKernel}.
 */
export function maxPoolChannelsLastKernel(p: Params, vec: boolean): Kernel {
  const t = vec ? 'vec4<f32>' : 'f32';
  return {
    key: `max_pool2d_nhwc:${vec ? 'v4' : 's'}`,
    wgsl: () => `${bindings(['X'], ['Y'], { X: t, Y: t })}\n${p.wgsl(2)}
${linearMain(`
  let ch = i % params.c;
  let pixel = i / params.c;${windowOf('pixel')}
  let plane = outer * params.h;
  var m = X[((plane + u32(y_lo)) * params.w + u32(x_lo)) * params.c + ch];
  for (var iy = y_lo; iy < y_hi; iy++) {
    for (var ix = x_lo; ix < x_hi; ix++) {
      let v = X[((plane + u32(iy)) * params.w + u32(ix)) * params.c + ch];
      m = select(m, v, (v > m) | (v != v));
    }
  }
  Y[i] = m;`)}`,
  };
}

/** DY, IDX → DX. */
export function maxPoolGradKernel(p: Params): Kernel {
  return {
    key: 'max_pool2d_grad',
    wgsl: () => `${bindings(['DY', 'IDX'], ['DX'], { IDX: 'i32' })}\n${p.wgsl(3)}
${linearMain(`${WINDOWS_OF}
  let me = iy * i32(params.w) + ix;
  var acc = 0.0;
  for (var oy = oy_lo; oy <= oy_hi; oy++) {
    for (var ox = ox_lo; ox <= ox_hi; ox++) {
      let o = oplane + u32(oy) * params.wo + u32(ox);
      if (IDX[o] == me) { acc += DY[o]; }
    }
  }
  DX[i] = acc;`)}`,
  };
}

/** X → Y: window sums times `params.scale` (padded taps count as zeros). */
export function avgPoolKernel(p: Params): Kernel {
  return {
    key: 'avg_pool2d',
    wgsl: () => `${bindings(['X'], ['Y'])}\n${p.wgsl(2)}
${linearMain(`${WINDOW}
  var acc = 0.0;
  for (var iy = y_lo; iy < y_hi; iy++) {
    let row = plane + u32(iy) * params.w;
    for (var ix = x_lo; ix < x_hi; ix++) { acc += X[row + u32(ix)]; }
  }
  Y[i] = acc * params.scale;`)}`,
  };
}

/** DY → DX. */
export function avgPoolGradKernel(p: Params): Kernel {
  return {
    key: 'avg_pool2d_grad',
    wgsl: () => `${bindings(['DY'], ['DX'])}\n${p.wgsl(2)}
${linearMain(`${WINDOWS_OF}
  var acc = 0.0;
  for (var oy = oy_lo; oy <= oy_hi; oy++) {
    let row = oplane + u32(oy) * params.wo;
    for (var ox = ox_lo; ox <= ox_hi; ox++) { acc += DY[row + u32(ox)]; }
  }
  DX[i] = acc * params.scale;`)}`,
  };
}
