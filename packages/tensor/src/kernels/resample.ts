/**
 * The resampling kernel of interpolate (run by ops/interpolate.ts): along one axis,
 * Y[a, d, b] = Σ_k w[k] · X[a, col[k], b], with the sparse map (row pointers, then (col, weight
 * bits) pairs from `params.base`) in the i32 binding M. `vec` reads and writes `inner` as vec4s.
 * Pure generator: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings } from './wgsl.js';

export const RESAMPLE_WG = 64;
const WG_AXIS = RESAMPLE_WG;

/** X, M → Y; `params`: outer, lin, lout, inner, base, xoff, yoff. */
export function resampleAxisKernel(vec: boolean, p: Params): Kernel {
  return { key: `resample_axis:${vec ? 'v4' : 's'}`, wgsl: () => axisKernelWgsl(vec, p) };
}

function axisKernelWgsl(vec: boolean, p: Params): string {
  const T = vec ? 'vec4<f32>' : 'f32';
  return `${bindings(['X', 'M'], ['Y'], { X: T, M: 'i32', Y: T })}
${p.wgsl(3)}
@compute @workgroup_size(${WG_AXIS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = wid.y + wid.z * nwg.y;
  if (a >= params.outer) { return; }
  let n = params.lout * params.inner;
  let xrow = params.xoff + a * params.lin * params.inner;
  let yrow = params.yoff + a * n;
  // Grid-stride over the (output index, inner) pairs of this row.
  for (var t = wid.x * ${WG_AXIS}u + lid; t < n; t += nwg.x * ${WG_AXIS}u) {
    let d = t / params.inner;
    let b = t - d * params.inner;
    let start = u32(M[d]);
    let end = u32(M[d + 1u]);
    var acc = ${T}(0.0);
    for (var k = start; k < end; k++) {
      let e = params.base + 2u * k;
      acc += bitcast<f32>(M[e + 1u]) * X[xrow + u32(M[e]) * params.inner + b];
    }
    Y[yrow + t] = acc;
  }
}`;
}
