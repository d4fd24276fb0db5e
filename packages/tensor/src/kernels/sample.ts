/**
 * The kernels of samplePoints (bilinear sampling at normalised points, run by ops/sample.ts):
 * `params` holds n, c, h, w, q (batch, channels, image size, points per batch); the dispatch is
 * (grid-stride x, rows y, folded rows z). Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings } from './wgsl.js';

export const SAMPLE_WG = 64;
const WG = SAMPLE_WG;

/**
 * WGSL shared by the kernels: the corner (x0, y0) and fractions (tx, ty) of point `q` of batch
 * `n`. Coordinates are clamped to [−2, size + 1] first, which keeps the integer conversion safe
 * and changes nothing (beyond that every corner is outside and reads 0).
 */
const POINT_WGSL = `
struct Pt { x0: i32, y0: i32, tx: f32, ty: f32 };
fn point_at(n: u32, q: u32) -> Pt {
  let o = 2u * (n * params.q + q);
  let w = f32(params.w);
  let h = f32(params.h);
  let ix = clamp(P[o] * w - 0.5, -2.0, w + 1.0);
  let iy = clamp(P[o + 1u] * h - 0.5, -2.0, h + 1.0);
  let fx = floor(ix);
  let fy = floor(iy);
  return Pt(i32(fx), i32(fy), ix - fx, iy - fy);
}`;

/** WGSL: the image value at (x, y) of the channel plane starting at `base`, 0 outside. */
const TAP_WGSL = `
fn tap(base: u32, x: i32, y: i32) -> f32 {
  if (x < 0 || y < 0 || x >= i32(params.w) || y >= i32(params.h)) { return 0.0; }
  return I[base + u32(y) * params.w + u32(x)];
}`;

const MAIN_HEAD = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.y + wid.z * nwg.y;`;

/** Forward: one thread per (n, c, point). Bindings I, P → Y. */
export function samplePointsKernel(p: Params): Kernel {
  return {
    key: 'sample_points',
    wgsl: () => `${bindings(['I', 'P'], ['Y'])}\n${p.wgsl(3)}\n${POINT_WGSL}\n${TAP_WGSL}
${MAIN_HEAD}
  if (row >= params.n * params.c) { return; }
  let b = row / params.c;
  let base = row * params.h * params.w;
  for (var q = wid.x * ${WG}u + lid; q < params.q; q += nwg.x * ${WG}u) {
    let pt = point_at(b, q);
    let v = (1.0 - pt.ty) * ((1.0 - pt.tx) * tap(base, pt.x0, pt.y0) + pt.tx * tap(base, pt.x0 + 1, pt.y0))
          + pt.ty * ((1.0 - pt.tx) * tap(base, pt.x0, pt.y0 + 1) + pt.tx * tap(base, pt.x0 + 1, pt.y0 + 1));
    Y[row * params.q + q] = v;
  }
}`,
  };
}

/**
 * Image gradient as a gather: one thread per (n, pixel) walks the points of its batch and, for
 * each point whose 2×2 footprint holds the pixel, adds weight · upstream to every channel.
 * Bindings G, P → GI.
 */
export function samplePointsImageGradKernel(p: Params): Kernel {
  return {
    key: 'sample_points_grad_image',
    wgsl: () => `${bindings(['G', 'P'], ['GI'])}\n${p.wgsl(3)}\n${POINT_WGSL}
${MAIN_HEAD}
  if (row >= params.n) { return; }
  let plane = params.h * params.w;
  for (var pix = wid.x * ${WG}u + lid; pix < plane; pix += nwg.x * ${WG}u) {
    let y = i32(pix / params.w);
    let x = i32(pix) - y * i32(params.w);
    for (var ch = 0u; ch < params.c; ch++) { GI[(row * params.c + ch) * plane + pix] = 0.0; }
    for (var q = 0u; q < params.q; q++) {
      let pt = point_at(row, q);
      let dx = x - pt.x0;
      let dy = y - pt.y0;
      if (dx < 0 || dx > 1 || dy < 0 || dy > 1) { continue; }
      let wx = select(1.0 - pt.tx, pt.tx, dx == 1);
      let wy = select(1.0 - pt.ty, pt.ty, dy == 1);
      let wt = wx * wy;
      for (var ch = 0u; ch < params.c; ch++) {
        let o = (row * params.c + ch) * plane + pix;
        GI[o] += wt * G[(row * params.c + ch) * params.q + q];
      }
    }
  }
}`,
  };
}

/** Point gradient: one thread per (n, point), summing over channels. Bindings I, P, G → GP. */
export function samplePointsPointGradKernel(p: Params): Kernel {
  return {
    key: 'sample_points_grad_points',
    wgsl: () => `${bindings(['I', 'P', 'G'], ['GP'])}\n${p.wgsl(4)}\n${POINT_WGSL}\n${TAP_WGSL}
${MAIN_HEAD}
  if (row >= params.n) { return; }
  for (var q = wid.x * ${WG}u + lid; q < params.q; q += nwg.x * ${WG}u) {
    let pt = point_at(row, q);
    var gx = 0.0;
    var gy = 0.0;
    for (var ch = 0u; ch < params.c; ch++) {
      let base = (row * params.c + ch) * params.h * params.w;
      let nw = tap(base, pt.x0, pt.y0);
      let ne = tap(base, pt.x0 + 1, pt.y0);
      let sw = tap(base, pt.x0, pt.y0 + 1);
      let se = tap(base, pt.x0 + 1, pt.y0 + 1);
      let gv = G[(row * params.c + ch) * params.q + q];
      gx += gv * ((ne - nw) * (1.0 - pt.ty) + (se - sw) * pt.ty);
      gy += gv * ((sw - nw) * (1.0 - pt.tx) + (se - ne) * pt.tx);
    }
    // d(pixel x)/d(p.x) = W, d(pixel y)/d(p.y) = H.
    let o = 2u * (row * params.q + q);
    GP[o] = gx * f32(params.w);
    GP[o + 1u] = gy * f32(params.h);
  }
}`,
  };
}
