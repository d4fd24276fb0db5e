/**
 * Runs the direct convolution kernels (kernels/conv-direct.ts): G-shaped output from the sampled
 * tensor S and the weight — conv2d's forward, convTranspose2d's input gradient, and stride-1
 * transposed convs through a flipped weight. See kernels/conv-geometry.ts for G, S, A, B.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Kernel } from '../backend/backend.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { convGeometryParams, isPointwise, type ConvGeometry } from '../kernels/conv-geometry.js';
import {
  CONV_WG,
  channelBlock,
  convDirectKernel,
  convDirectRowsKernel,
  convFillBiasKernel,
  convPointwiseKernel,
  rowSpan,
} from '../kernels/conv-direct.js';
import { packConvWeight } from './conv-pack.js';
import { runOverSamples } from './conv-batch.js';
import { matmulKernelKind, stridedGemmFits, stridedGemmInto } from './matmul.js';

/** Workgroups along x for a uniform grid-stride loop over `items` (capped at the dispatch limit). */
function pixelGroups(items: number): number {
  return Math.max(1, Math.min(Math.ceil(items / CONV_WG), getBackend().info.limits.maxComputeWorkgroupsPerDimension));
}

/**
 * Runs a conv kernel over chunks of samples (ops/conv-batch.ts): `x` and `out` bound per sample,
 * the packed weight and the bias whole; a grid-stride x over `items`, y over `blocks`, z the
 * samples of the chunk.
 */
export function runConvBlocks(n: number, kernel: Kernel, x: Tensor, packed: Tensor, bias: Tensor | null, out: Tensor, p: Params, items: number, blocks: number): void {
  runOverSamples('conv', n, kernel, [{ perSample: x }, packed, ...(bias ? [bias] : [])], [{ perSample: out }], p.bytes(), (count) => [pixelGroups(items), blocks, count]);
}

/** Longest input row segment a thread of the rows kernel keeps in registers. */
const MAX_SPAN = 40;

/**
 * Runs the direct conv: `s` [N, groups·B, Hs, Ws], `w` [A, B, kH, kW], optional `bias` [A];
 * returns G-shaped [N, A, Hg, Wg].
 */
export function convDirect(s: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.a, g.hg, g.wg]);
  if (out.size === 0) return out;
  if (g.b * g.kh * g.kw === 0) return fillBias(out, bias, g.a, g.hg * g.wg);
  if (isPointwise(g) && (g.hg * g.wg) % 4 === 0) return pointwise(s, w, bias, g, 'direct', out);
  const at = Math.min(4, channelBlock(g.aG));
  const packed = packConvWeight(w, g, 'direct', at);
  const aPad = Math.ceil(g.aG / at) * at;
  const aBlocks = aPad / at;
  const span = (px: number) => rowSpan(px, g.kw, g.stride[1], g.dilation[1]);
  const px = span(Math.min(4, g.wg)) <= MAX_SPAN ? Math.min(4, g.wg) : 1;
  if (span(px) <= MAX_SPAN) {
    directRows(s, packed, bias, g, at, px, aPad, out);
    packed.dispose();
    return out;
  }
  // Kernel rows too wide (dilated) to keep in registers: one pixel per thread, taps in loops.
  const p = convGeometryParams(
    new Params().u32('hw', g.hg * g.wg).u32('a_blocks', aBlocks).u32('a_pad', aPad),
    g,
  );
  runConvBlocks(g.n, convDirectKernel({ block: at, bias: bias !== null, params: p }), s, packed, bias, out, p, g.hg * g.wg, g.groups * aBlocks);
  packed.dispose();
  return out;
}

/**
 * The direct conv specialised on the kernel width, x-stride and x-dilation (see
 * `convDirectRowsKernel`). For SAM 2's 7×7 stride-4 patch embedding that is 5 vec4 input loads
 * and 7 vec4 weight loads per 112 multiply-adds, instead of 28 scalar input loads with one pixel
 * per thread.
 */
function directRows(s: Tensor, packed: Tensor, bias: Tensor | null, g: ConvGeometry, at: number, px: number, aPad: number, out: Tensor): void {
  const [, sx] = g.stride;
  const [, dx] = g.dilation;
  const aBlocks = aPad / at;
  const wq = Math.ceil(g.wg / px);
  // Rows whose segments start at a fixed offset inside a vec4 load as vec4s.
  const vecS = dx === 1 && g.ws % 4 === 0 && (px * sx) % 4 === 0;
  const ph = (4 - (g.padding[1] % 4)) % 4;
  const p = convGeometryParams(
    new Params().u32('threads', g.hg * wq).u32('wq', wq).u32('hw', g.hg * g.wg).u32('a_blocks', aBlocks).u32('a_pad', aPad),
    g,
  );
  runConvBlocks(g.n, convDirectRowsKernel({ at, px, kw: g.kw, sx, dx, vecS, ph, bias: bias !== null, sub: matmulKernelKind() === 'subgroup', params: p }), s, packed, bias, out, p, g.hg * wq, g.groups * aBlocks);
}

/**
 * A 1×1 stride-1 conv as a per-sample matmul (`convPointwiseKernel`). `layout` says which side of
 * W is the output channel j: 'direct' (conv2d forward, j = a) or 'gather' (its input gradient,
 * j = b). Needs the pixel count to be a multiple of 4.
 */
export function pointwise(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, layout: 'direct' | 'gather', out: Tensor): Tensor {
  const [rDim, jDim] = layout === 'direct' ? [g.b, g.a] : [g.a, g.b];
  const hw = g.hg * g.wg;
  if (matmulKernelKind() === 'subgroup' && stridedGemmFits(g.n, x.size, out.size)) {
    // out[n] = op(W)·x[n] (+ bias per output channel) on the subgroup matmul, in place: on lavapipe
    // ~3× this kernel's rate (Hiera-T's FPN 1×1 convs: 710 → ~250 ms). W is [a, b]; the channel
    // sum runs over b ('direct') or a ('gather', W read transposed).
    stridedGemmInto({
      M: jDim,
      N: hw,
      K: rDim,
      batch: [g.n],
      a: { t: w, offset: 0, ld: g.b, trans: layout === 'gather', batchStrides: [0] },
      b: { t: x, offset: 0, ld: hw, batchStrides: [rDim * hw] },
      c: { t: out, offset: 0, ld: hw, batchStrides: [jDim * hw] },
      bias,
    });
    return out;
  }
  const at = channelBlock(jDim) >= 4 ? 8 : 4;
  const packed = packConvWeight(w, g, layout, at);
  const jPad = Math.ceil(jDim / at) * at;
  const hw4 = (g.hg * g.wg) / 4;
  const p = new Params().u32('hw4', hw4).u32('r', rDim).u32('j', jDim).u32('j_pad4', jPad / 4);
  runConvBlocks(g.n, convPointwiseKernel({ block: at, bias: bias !== null, params: p }), x, packed, bias, out, p, hw4, jPad / at);
  packed.dispose();
  return out;
}

/** Output of a conv with nothing to sum over: the bias broadcast (or zeros). */
export function fillBias(out: Tensor, bias: Tensor | null, c: number, hw: number): Tensor {
  const n = out.shape[0];
  const params = (_n0: number, count: number) => new Params().u32('n', count * c * hw).u32('c', c).u32('hw', hw);
  runOverSamples(
    'conv',
    n,
    convFillBiasKernel(bias !== null, params(0, 0)),
    bias ? [bias] : [],
    [{ perSample: out }],
    (n0, count) => params(n0, count).bytes(),
    (count) => [pixelGroups(count * c * hw), 1, 1],
  );
  return out;
}
