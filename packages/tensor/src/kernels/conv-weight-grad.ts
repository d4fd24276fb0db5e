/**
 * The weight-gradient kernels of a convolution (conv2d and convTranspose2d alike; see
 * conv-geometry.ts), run by ops/conv-weight-grad.ts:
 *
 * dW[a, b, ky, kx] = Σ_{n, P} G[n, a, P] · S[n, group(a)·B + b, P·s − p + k·d]
 *
 * This is a matmul of G (rows a, reduction over n·P) with the im2col view of S (columns
 * j = (b, ky, kx)), computed without materialising im2col: one thread owns a tile of AT channels
 * a × 4 columns j, keeps the AT·4 sums in registers and reads the columns' S values straight
 * from S with bounds checks. The reduction is split into chunks of rows (n, y) along the
 * dispatch's y axis; each chunk writes its own partial weight (summed by the op) — no float
 * atomics. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings } from './wgsl.js';
import { CONV_WG as WG } from './conv-direct.js';
import { CONV_INDEX_WGSL } from './conv-geometry.js';

/** Columns j per thread of the general kernel. */
export const JT = 4;

/** The general kernel (any geometry): `at` channels a × {@link JT} columns per thread. */
export function convWeightGradKernel(at: number, p: Params): Kernel {
  return { key: `conv_weight_grad:at${at}`, wgsl: () => convWeightGradWgsl(at, p) };
}

function convWeightGradWgsl(at: number, p: Params): string {
  const cols = [...Array(JT).keys()];
  const ats = [...Array(at).keys()];
  return `${bindings(['G', 'S'], ['DW'])}
${p.wgsl(3)}${CONV_INDEX_WGSL}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x * ${WG}u + lid;
  if (tile >= params.tiles) { return; }
  let chunk = wid.y;
  let ablk = tile / params.j_tiles;
  let jt0 = (tile % params.j_tiles) * ${JT}u;
  let grp = ablk / params.a_blocks;
  let a0 = (ablk % params.a_blocks) * ${at}u;
  let plane_g = params.hg * params.wg;
  let plane_s = params.hs * params.ws;
  let kk = params.kh * params.kw;
  // Per column j = (b, ky, kx): whether it exists, its S channel offset and tap offsets.
${cols
  .map(
    (c) => `  let j${c} = jt0 + ${c}u;
  let ok${c} = j${c} < params.j;
  let b${c} = j${c} / kk;
  let ky${c} = i32((j${c} % kk) / params.kw);
  let kx${c} = i32(j${c} % params.kw);
  let ch${c} = (grp * params.b + b${c}) * plane_s;
  let oy${c} = ky${c} * params.dy - params.py;
  let ox${c} = kx${c} * params.dx - params.px;`,
  )
  .join('\n')}
  // Channels past the group's end read a valid channel; their sums are dropped.
${ats.map((i) => `  let ga${i} = min(a0 + ${i}u, params.a_g - 1u) * plane_g;`).join('\n')}
${ats.map((i) => `  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  let r_end = min(params.rows, (chunk + 1u) * params.rows_per);
  for (var r = chunk * params.rows_per; r < r_end; r++) {
    let n = r / params.hg;
    let y = r - n * params.hg;
    let g_row = g_chan0(n, grp) * plane_g + y * params.wg;
    let s_n = s_chan0(n, 0u) * plane_s;
${cols
  .map(
    (c) => `    let iy${c} = i32(y) * params.sy + oy${c};
    let rok${c} = ok${c} && s_row_in(iy${c});
    let srow${c} = s_n + ch${c} + u32(max(iy${c}, 0)) * params.ws;`,
  )
  .join('\n')}
    for (var x = 0u; x < params.wg; x++) {
      let ix = i32(x) * params.sx;
${cols
  .map(
    (c) => `      let ix${c} = ix + ox${c};
      let in${c} = rok${c} && s_col_in(ix${c});
      let v${c} = select(0.0, S[select(0u, srow${c} + u32(ix${c}), in${c})], in${c});`,
  )
  .join('\n')}
      let v = vec4<f32>(${cols.map((c) => `v${c}`).join(', ')});
${ats.map((i) => `      acc${i} += G[g_row + ga${i} + x] * v;`).join('\n')}
    }
  }
  let o_base = chunk * params.a * params.j;
${ats
  .map(
    (i) =>
      `  if (a0 + ${i}u < params.a_g) {\n    let o = o_base + (grp * params.a_g + a0 + ${i}u) * params.j;\n${cols
        .map((c) => `    if (ok${c}) { DW[o + j${c}] = acc${i}[${c}]; }`)
        .join('\n')}\n  }`,
  )
  .join('\n')}
}`;
}

/** Tile of the pointwise kernel: 8 × 4 measured fastest on lavapipe (12 vec4 loads per 128 multiply-adds; 8 × 8 spills). */
export const POINTWISE_TA = 8;
export const POINTWISE_TB = 4;

/**
 * dW of a 1×1 stride-1 conv: dW[a, b] = Σ_{n, p} G[n, a, p] · S[n, b, p], a matmul with a long
 * reduction over pixels. One thread owns a TA × TB tile of (a, b) and walks its chunk of pixels
 * four at a time, with vec4 loads of both operands.
 */
export function convWeightGradPointwiseKernel(p: Params): Kernel {
  return { key: `conv_weight_grad_pointwise:${POINTWISE_TA}x${POINTWISE_TB}`, wgsl: () => convWeightGradPointwiseWgsl(p) };
}

function convWeightGradPointwiseWgsl(p: Params): string {
  const TA = POINTWISE_TA;
  const TB = POINTWISE_TB;
  const ra = [...Array(TA).keys()];
  const rb = [...Array(TB).keys()];
  const nbv = TB / 4;
  return `${bindings(['G', 'S'], ['DW'], { G: 'vec4<f32>', S: 'vec4<f32>' })}
${p.wgsl(3)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x * ${WG}u + lid;
  if (tile >= params.tiles) { return; }
  let a0 = (tile / params.b_tiles) * ${TA}u;
  let b0 = (tile % params.b_tiles) * ${TB}u;
  let n = wid.y / params.chunks_per_sample;
  let q0 = (wid.y % params.chunks_per_sample) * params.per;
  let q1 = min(params.hw4, q0 + params.per);
  // Rows past the end read a valid row; their sums are dropped.
${ra.map((i) => `  let ga${i} = (n * params.a + min(a0 + ${i}u, params.a - 1u)) * params.hw4;`).join('\n')}
${rb.map((j) => `  let sb${j} = (n * params.b + min(b0 + ${j}u, params.b - 1u)) * params.hw4;`).join('\n')}
${ra.map((i) => rb.filter((j) => j % 4 === 0).map((j) => `  var acc${i}_${j / 4} = vec4<f32>(0.0);`).join(' ')).join('\n')}
  for (var q = q0; q < q1; q++) {
${rb.map((j) => `    let s${j} = S[sb${j} + q];`).join('\n')}
${ra
  .map(
    (i) =>
      `    { let v = G[ga${i} + q]; ${[...Array(nbv).keys()]
        .map((c) => `acc${i}_${c} += vec4<f32>(${[0, 1, 2, 3].map((k) => `dot(v, s${4 * c + k})`).join(', ')});`)
        .join(' ')} }`,
  )
  .join('\n')}
  }
  let o = wid.y * params.a * params.b;
${ra
  .map(
    (i) =>
      `  if (a0 + ${i}u < params.a) {\n${rb.map((j) => `    if (b0 + ${j}u < params.b) { DW[o + (a0 + ${i}u) * params.b + b0 + ${j}u] = acc${i}_${j >> 2}[${j & 3}]; }`).join('\n')}\n  }`,
  )
  .join('\n')}
}`;
}

/**
 * The bias gradient db[c] = Σ_{n, p} dy[n, c, p]: one workgroup per channel sums its planes with
 * a tree reduction in workgroup memory, writing row `params.slot` of the partial sums.
 */
export function convBiasGradKernel(p: Params): Kernel {
  return { key: 'conv_bias_grad', wgsl: () => convBiasGradWgsl(p) };
}

function convBiasGradWgsl(p: Params): string {
  return `${bindings(['DY'], ['DB'])}
${p.wgsl(2)}
var<workgroup> acc: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ch = wid.y * nwg.x + wid.x;
  var v = 0.0;
  if (ch < params.c) {
    for (var s = 0u; s < params.count; s++) {
      let base = (s * params.c + ch) * params.hw;
      for (var p = lid; p < params.hw; p += ${WG}u) { v += DY[base + p]; }
    }
  }
  acc[lid] = v;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k >>= 1u) {
    if (lid < k) { acc[lid] += acc[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u && ch < params.c) { DB[params.slot * params.c + ch] = acc[0]; }
}`;
}
