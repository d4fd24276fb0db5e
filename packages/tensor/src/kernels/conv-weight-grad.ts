/**
 * The weight gradient of a convolution (conv2d and convTranspose2d alike; see conv-geometry.ts):
 *
 * dW[a, b, ky, kx] = Σ_{n, P} G[n, a, P] · S[n, group(a)·B + b, P·s − p + k·d]
 *
 * This is a matmul of G (rows a, reduction over n·P) with the im2col view of S (columns
 * j = (b, ky, kx)), computed without materialising im2col: one thread owns a tile of AT channels
 * a × 4 columns j, keeps the AT·4 sums in registers and reads the columns' S values straight
 * from S with bounds checks. The reduction (N·Hg·Wg terms, 65536 for a 256×256 output) is split
 * into chunks of rows (n, y) so that enough threads run; each chunk writes its own partial
 * weight and the partials are summed by a second pass — no float atomics.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, bindings, grid } from './wgsl.js';
import { isPointwise, type ConvGeometry } from './conv-geometry.js';
import { sum } from '../ops/reduce.js';
import { zeros } from '../ops/creation.js';
import { add } from '../ops/binary.js';
import { sizeOf } from '../tensor/shape.js';
import type { BufferRange } from '../backend/backend.js';
import { sampleChunks, sampleRange } from './conv-batch.js';

const WG = 64;
/** Threads to aim for when choosing how many chunks the reduction is split into. */
const TARGET_THREADS = 8192;
/** Cap on the partial sums' size (bytes). */
const MAX_PARTIAL_BYTES = 64 << 20;
const JT = 4;

/** dW [A, B, kH, kW] from `gt` (G) and `st` (S). */
export function convWeightGrad(gt: Tensor, st: Tensor, g: ConvGeometry): Tensor {
  const shape = [g.a, g.b, g.kh, g.kw];
  if (sizeOf(shape) === 0 || g.n * g.hg * g.wg === 0) return zeros(shape);
  // Batches larger than one binding: one gradient per chunk of samples, summed.
  let total: Tensor | null = null;
  for (const [n0, count] of sampleChunks('conv weight gradient', g.n, [(gt.size / g.n) * 4, (st.size / g.n) * 4])) {
    const gs = { ...g, n: count };
    const [gr, sr] = [sampleRange(gt, g.n, n0, count), sampleRange(st, g.n, n0, count)];
    const part = isPointwise(g) && (g.hg * g.wg) % 4 === 0 ? pointwiseWeightGrad(gr, sr, gs) : generalWeightGrad(gr, sr, gs);
    if (total) {
      const t: Tensor = add(total, part);
      total.dispose();
      part.dispose();
      total = t;
    } else total = part;
  }
  return total!;
}

/** The general kernel (any geometry) on the bindings of G and S. */
function generalWeightGrad(gr: BufferRange, sr: BufferRange, g: ConvGeometry): Tensor {
  const j = g.b * g.kh * g.kw;
  const numel = g.a * j;
  const rows = g.n * g.hg;
  const shape = [g.a, g.b, g.kh, g.kw];
  const at = g.aG >= 4 ? 4 : g.aG >= 2 ? 2 : 1;
  const aBlocks = Math.ceil(g.aG / at);
  const jTiles = Math.ceil(j / JT);
  const tiles = g.groups * aBlocks * jTiles;
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(tiles / WG) > maxWg) {
    throw new RangeError(`conv weight gradient: weight ${JSON.stringify(shape)} needs ${tiles} thread tiles, more than one dispatch allows`);
  }
  const { chunks, per: rowsPer } = chunkCount(rows, tiles, numel);
  const partial = Tensor.empty(chunks === 1 ? shape : [chunks, ...shape]);
  const p = new Params()
    .u32('tiles', tiles)
    .u32('j_tiles', jTiles)
    .u32('a_blocks', aBlocks)
    .u32('j', j)
    .u32('rows', rows)
    .u32('rows_per', rowsPer)
    .u32('hg', g.hg)
    .u32('wg', g.wg)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('b', g.b)
    .u32('groups', g.groups)
    .u32('kh', g.kh)
    .u32('kw', g.kw)
    .i32('sy', g.stride[0])
    .i32('sx', g.stride[1])
    .i32('py', g.padding[0])
    .i32('px', g.padding[1])
    .i32('dy', g.dilation[0])
    .i32('dx', g.dilation[1]);
  const cols = [...Array(JT).keys()];
  const ats = [...Array(at).keys()];
  const wgsl = () => `${bindings(['G', 'S'], ['DW'])}
${p.wgsl(3)}
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
    let g_row = (n * params.a + grp * params.a_g) * plane_g + y * params.wg;
    let s_n = n * params.groups * params.b * plane_s;
${cols
  .map(
    (c) => `    let iy${c} = i32(y) * params.sy + oy${c};
    let rok${c} = ok${c} && iy${c} >= 0 && iy${c} < i32(params.hs);
    let srow${c} = s_n + ch${c} + u32(max(iy${c}, 0)) * params.ws;`,
  )
  .join('\n')}
    for (var x = 0u; x < params.wg; x++) {
      let ix = i32(x) * params.sx;
${cols
  .map(
    (c) => `      let ix${c} = ix + ox${c};
      let in${c} = rok${c} && ix${c} >= 0 && ix${c} < i32(params.ws);
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
  getBackend().run({
    kernel: { key: `conv_weight_grad:at${at}`, wgsl },
    inputs: [gr, sr],
    outputs: [partial.range],
    params: p.bytes(),
    workgroups: [Math.ceil(tiles / WG), chunks],
  });
  return sumChunks(partial, chunks);
}

/** Sums the per-chunk partial weights (a view of the single chunk when there is one). */
function sumChunks(partial: Tensor, chunks: number): Tensor {
  if (chunks === 1) return partial;
  const dw = sum(partial, 0);
  partial.dispose();
  return dw;
}

/** How many chunks to split a reduction of `len` terms into, for `tiles` thread tiles and a weight of `numel`. */
function chunkCount(len: number, tiles: number, numel: number): { chunks: number; per: number } {
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  // The partial sums must fit one binding too.
  const maxBytes = Math.min(MAX_PARTIAL_BYTES, getBackend().maxBinding);
  const want = Math.min(len, Math.max(1, Math.ceil(TARGET_THREADS / tiles)), Math.max(1, Math.floor(maxBytes / 4 / numel)), maxWg);
  const per = Math.ceil(len / want);
  return { chunks: Math.ceil(len / per), per };
}

/**
 * dW of a 1×1 stride-1 conv: dW[a, b] = Σ_{n, p} G[n, a, p] · S[n, b, p], a matmul with a long
 * reduction over pixels. One thread owns an 8 × 4 tile of (a, b) and walks its chunk of pixels
 * four at a time, with vec4 loads of both operands.
 */
function pointwiseWeightGrad(gr: BufferRange, sr: BufferRange, g: ConvGeometry): Tensor {
  // 8 × 4 measured fastest on lavapipe (12 vec4 loads per 128 multiply-adds; 8 × 8 spills).
  const TA = 8;
  const TB = 4;
  const shape = [g.a, g.b, 1, 1];
  const hw4 = (g.hg * g.wg) / 4;
  const aTiles = Math.ceil(g.a / TA);
  const bTiles = Math.ceil(g.b / TB);
  const tiles = aTiles * bTiles;
  if (Math.ceil(tiles / WG) > getBackend().info.limits.maxComputeWorkgroupsPerDimension) {
    throw new RangeError(`conv weight gradient: weight ${JSON.stringify(shape)} needs ${tiles} thread tiles, more than one dispatch allows`);
  }
  // Chunks are ranges of pixel quads within one sample, so the loop has no division.
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  if (g.n > maxWg) throw new RangeError(`conv weight gradient: batch ${g.n} exceeds ${maxWg}`);
  const first = chunkCount(hw4, tiles, g.a * g.b * g.n);
  const perSample = Math.min(first.chunks, Math.floor(maxWg / g.n));
  const per = Math.ceil(hw4 / perSample);
  const chunks = perSample * g.n;
  const partial = Tensor.empty(chunks === 1 ? shape : [chunks, ...shape]);
  const p = new Params().u32('tiles', tiles).u32('b_tiles', bTiles).u32('a', g.a).u32('b', g.b).u32('hw4', hw4).u32('per', per).u32('chunks_per_sample', perSample);
  const ra = [...Array(TA).keys()];
  const rb = [...Array(TB).keys()];
  const nbv = TB / 4;
  const wgsl = () => `${bindings(['G', 'S'], ['DW'], { G: 'vec4<f32>', S: 'vec4<f32>' })}
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
  getBackend().run({
    kernel: { key: `conv_weight_grad_pointwise:${TA}x${TB}`, wgsl },
    inputs: [gr, sr],
    outputs: [partial.range],
    params: p.bytes(),
    workgroups: [Math.ceil(tiles / WG), chunks],
  });
  return sumChunks(partial, chunks);
}

/**
 * The bias gradient db[c] = Σ_{n, p} dy[n, c, p]: one workgroup per channel sums its planes with
 * a tree reduction in workgroup memory; batches larger than one binding give one partial row
 * per chunk of samples, summed at the end.
 */
export function convBiasGrad(dy: Tensor): Tensor {
  const [n, c, h, w] = dy.shape;
  const hw = h * w;
  const chunks = sampleChunks('conv bias gradient', n, [c * hw * 4]);
  const partial = Tensor.empty(chunks.length === 1 ? [c] : [chunks.length, c]);
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  const params = (slot: number, count: number) => new Params().u32('c', c).u32('hw', hw).u32('count', count).u32('slot', slot);
  const wgsl = () => `${bindings(['DY'], ['DB'])}
${params(0, 0).wgsl(2)}
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
  chunks.forEach(([n0, count], slot) => {
    getBackend().run({
      kernel: { key: 'conv_bias_grad', wgsl },
      inputs: [sampleRange(dy, n, n0, count)],
      outputs: [partial.range],
      params: params(slot, count).bytes(),
      workgroups: grid(c, 1, maxWg),
    });
  });
  return sumChunks(partial, chunks.length);
}
