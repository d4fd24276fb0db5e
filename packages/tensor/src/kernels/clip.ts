/**
 * The kernels of gradient clipping by norm (run by optim/clip.ts): per-workgroup partial sums of
 * squares into one shared buffer, then one single-workgroup kernel that adds them up into the
 * norm and the clip factor min(1, maxNorm / (norm + 1e-6)). Pure generators: no tensors, no
 * dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params } from './wgsl.js';
import { LANES_WGSL, VEC_MAIN_ARGS, vec4Loop } from './vec4.js';

/** Threads per workgroup of the sum-of-squares kernel, and elements each thread adds. */
const WG_SQ = 256;
const ITEMS = 16;
/** Elements per workgroup of the sum-of-squares kernel. */
export const SUMSQ_BLOCK = WG_SQ * ITEMS;
const BLOCK = SUMSQ_BLOCK;

/**
 * G → PART: the sum of squares of each block of {@link SUMSQ_BLOCK} elements at `params.base +
 * block`; vec4 loads (lanes past the data masked) when `vec`. `params`: n, base.
 */
export function sumSquaresKernel(vec: boolean, p: Params): Kernel {
  const loop = vec
    ? vec4Loop('      let v = select(vec4<f32>(0.0), G[i], lanes_(i));\n      s += dot(v, v);', WG_SQ, ITEMS / 4)
    : `  for (var k = 0u; k < ${ITEMS}u; k++) {
    let j = start + k * ${WG_SQ}u + lid;
    if (j < params.n) { let v = G[j]; s += v * v; }
  }`;
  const wgsl = () => `@group(0) @binding(0) var<storage, read> G: array<${vec ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read_write> PART: array<f32>;
${p.wgsl(2)}${vec ? LANES_WGSL : ''}
var<workgroup> acc: array<f32, ${WG_SQ}>;
@compute @workgroup_size(${WG_SQ})
fn main(${VEC_MAIN_ARGS}) {
  let block = wid.y * nwg.x + wid.x;
  let start = block * ${BLOCK}u;
  var s = 0.0;
${loop}
  acc[lid] = s;
  workgroupBarrier();
  for (var w = ${WG_SQ / 2}u; w > 0u; w >>= 1u) {
    if (lid < w) { acc[lid] += acc[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u && start < params.n) { PART[params.base + block] = acc[0]; }
}`;
  return { key: vec ? 'optim:sumsq:v4' : 'optim:sumsq', wgsl };
}

/** PART → NORM, SCALE (one element each): the norm and the clip factor. `params`: n, max_norm. */
export function clipNormKernel(p: Params): Kernel {
  const wgsl = () => `@group(0) @binding(0) var<storage, read> PART: array<f32>;
@group(0) @binding(1) var<storage, read_write> NORM: array<f32>;
@group(0) @binding(2) var<storage, read_write> SCALE: array<f32>;
${p.wgsl(3)}
var<workgroup> acc: array<f32, ${WG_SQ}>;
@compute @workgroup_size(${WG_SQ})
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var j = lid; j < params.n; j += ${WG_SQ}u) { s += PART[j]; }
  acc[lid] = s;
  workgroupBarrier();
  for (var w = ${WG_SQ / 2}u; w > 0u; w >>= 1u) {
    if (lid < w) { acc[lid] += acc[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let norm = sqrt(acc[0]);
    let c = params.max_norm / (norm + 1e-6);
    // torch.clamp(c, max=1) keeps a NaN (the gradients then become NaN, as in PyTorch).
    let is_nan = (bitcast<u32>(c) & 0x7fffffffu) > 0x7f800000u;
    NORM[0] = norm;
    SCALE[0] = select(min(c, 1.0), c, is_nan);
  }
}`;
  return { key: 'optim:clipnorm', wgsl };
}
