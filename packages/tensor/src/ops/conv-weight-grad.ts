/**
 * The weight and bias gradients of a convolution (conv2d and convTranspose2d alike; kernels:
 * kernels/conv-weight-grad.ts). The reduction (N·Hg·Wg terms, 65536 for a 256×256 output) is
 * split into chunks of rows so that enough threads run; each chunk writes its own partial weight
 * and the partials are summed by a second pass — no float atomics. Batches larger than one
 * binding give one gradient per chunk of samples, summed.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, grid } from '../kernels/wgsl.js';
import { convGeometryParams, isPointwise, type ConvGeometry } from '../kernels/conv-geometry.js';
import { CONV_WG as WG } from '../kernels/conv-direct.js';
import {
  JT,
  POINTWISE_TA,
  POINTWISE_TB,
  convBiasGradKernel,
  convWeightGradKernel,
  convWeightGradPointwiseKernel,
} from '../kernels/conv-weight-grad.js';
import { sum } from './reduce.js';
import { zeros } from './creation.js';
import { add } from './binary.js';
import { sizeOf } from '../tensor/shape.js';
import type { BufferRange } from '../backend/backend.js';
import { sampleChunks, sampleRange } from './conv-batch.js';

/** Threads to aim for when choosing how many chunks the reduction is split into. */
const TARGET_THREADS = 8192;
/** Cap on the partial sums' size (bytes). */
const MAX_PARTIAL_BYTES = 64 << 20;

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
  const p = convGeometryParams(
    new Params().u32('tiles', tiles).u32('j_tiles', jTiles).u32('a_blocks', aBlocks).u32('j', j).u32('rows', rows).u32('rows_per', rowsPer),
    g,
  );
  getBackend().run({
    kernel: convWeightGradKernel(at, p),
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

/** dW of a 1×1 stride-1 conv (kernel: `convWeightGradPointwiseKernel`). */
function pointwiseWeightGrad(gr: BufferRange, sr: BufferRange, g: ConvGeometry): Tensor {
  const shape = [g.a, g.b, 1, 1];
  const hw4 = (g.hg * g.wg) / 4;
  const aTiles = Math.ceil(g.a / POINTWISE_TA);
  const bTiles = Math.ceil(g.b / POINTWISE_TB);
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
  getBackend().run({
    kernel: convWeightGradPointwiseKernel(p),
    inputs: [gr, sr],
    outputs: [partial.range],
    params: p.bytes(),
    workgroups: [Math.ceil(tiles / WG), chunks],
  });
  return sumChunks(partial, chunks);
}

/**
 * The bias gradient db[c] = Σ_{n, p} dy[n, c, p] (kernel: `convBiasGradKernel`); batches larger
 * than one binding give one partial row per chunk of samples, summed at the end.
 */
export function convBiasGrad(dy: Tensor): Tensor {
  const [n, c, h, w] = dy.shape;
  const hw = h * w;
  const chunks = sampleChunks('conv bias gradient', n, [c * hw * 4]);
  const partial = Tensor.empty(chunks.length === 1 ? [c] : [chunks.length, c]);
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  const params = (slot: number, count: number) => new Params().u32('c', c).u32('hw', hw).u32('count', count).u32('slot', slot);
  const kernel = convBiasGradKernel(params(0, 0));
  chunks.forEach(([n0, count], slot) => {
    getBackend().run({
      kernel,
      inputs: [sampleRange(dy, n, n0, count)],
      outputs: [partial.range],
      params: params(slot, count).bytes(),
      workgroups: grid(c, 1, maxWg),
    });
  });
  return sumChunks(partial, chunks.length);
}
