/**
 * Runs the gather (transposed) convolution: S-shaped output from the grid tensor G and the weight
 * (convTranspose2d's forward, conv2d's input gradient). Kernels: kernels/conv-gather.ts. Three
 * faster special cases come first:
 * - 1×1 stride 1: the matmul-shaped pointwise kernel (kernels/conv-direct.ts);
 * - kernel = stride, no padding (SAM 2's 2×2 stride-2 upscaling): every output pixel has exactly
 *   one tap, so per tap it is a 1×1 conv with strided writes ({@link unpatch});
 * - any other stride 1: a direct conv with the kernel flipped ({@link flippedDirect}).
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { convGeometryParams, isPointwise, type ConvGeometry } from '../kernels/conv-geometry.js';
import { channelBlock } from '../kernels/conv-direct.js';
import { UNPATCH_BT, convFlipTransposeKernel, convGatherKernel, convUnpatchKernel } from '../kernels/conv-gather.js';
import { packConvWeight } from './conv-pack.js';
import { convDirect, fillBias, pointwise, runConvBlocks } from './conv-direct.js';
import { runLinear } from './run.js';
import { matmulKernelKind, stridedGemmFits, stridedGemmInto } from './matmul.js';
import type { MatmulActivation } from '../kernels/matmul-tiled.js';

/**
 * Runs the gather conv: `gt` [N, A, Hg, Wg], `w` [A, B, kH, kW], optional `bias` [groups·B];
 * returns S-shaped [N, groups·B, Hs, Ws].
 */
export function convGather(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.groups * g.b, g.hs, g.ws]);
  if (out.size === 0) return out;
  if (g.aG * g.kh * g.kw * g.hg * g.wg === 0) return fillBias(out, bias, g.groups * g.b, g.hs * g.ws);
  if (isPointwise(g) && (g.hs * g.ws) % 4 === 0) return pointwise(gt, w, bias, g, 'gather', out);
  if (isUnpatch(g) && (g.hg * g.wg) % 4 === 0) return unpatch(gt, w, bias, g, out);
  if (g.stride[0] === 1 && g.stride[1] === 1 && g.padding[0] <= g.dilation[0] * (g.kh - 1) && g.padding[1] <= g.dilation[1] * (g.kw - 1)) {
    out.dispose();
    return flippedDirect(gt, w, bias, g);
  }
  const bt = channelBlock(g.b);
  const packed = packConvWeight(w, g, 'gather', bt);
  const bPad = Math.ceil(g.b / bt) * bt;
  const bBlocks = bPad / bt;
  const [sy, sx] = g.stride;
  const my = Math.ceil(g.hs / sy);
  const mx = Math.ceil(g.ws / sx);
  const total = sy * sx * my * mx;
  const p = convGeometryParams(
    new Params().u32('total', total).u32('my', my).u32('mx', mx).u32('b_blocks', bBlocks).u32('b_pad', bPad),
    g,
  );
  runConvBlocks(g.n, convGatherKernel({ block: bt, bias: bias !== null, params: p }), gt, packed, bias, out, p, total, g.groups * bBlocks);
  packed.dispose();
  return out;
}

/** Kernel == stride, no padding or dilation, output exactly stride × the grid: every output pixel has one tap. */
export function isUnpatch(g: ConvGeometry): boolean {
  return (
    g.kh === g.stride[0] && g.kw === g.stride[1] && g.padding[0] === 0 && g.padding[1] === 0 && g.dilation[0] === 1 && g.dilation[1] === 1 && g.hs === g.hg * g.kh && g.ws === g.wg * g.kw
  );
}

/** What {@link unpatchMatmulInto} adds to its result: a residual of the output's shape (batch 1 broadcasts), then an activation. */
export interface UnpatchEpilogue {
  residual: Tensor | null;
  act?: MatmulActivation;
}

/**
 * Whether the transposed conv whose kernel equals its stride runs as one subgroup matmul that
 * scatters its columns (one group, CPU adapters, each tensor within one binding).
 */
export function unpatchOnMatmul(gt: Tensor, g: ConvGeometry, outSize: number): boolean {
  return g.groups === 1 && matmulKernelKind() === 'subgroup' && stridedGemmFits(g.n, gt.size, outSize);
}

/**
 * The transposed conv whose kernel equals its stride as a matmul: out pixels (y·k + dy, x·k +
 * dx) of channel o = Σ_a gt[a, y, x]·W[a, o, dy, dx], i.e. gt read transposed ([pixels, A]) times
 * W ([A, B·k²]), each column scattered to its tap. On lavapipe the subgroup matmul runs the
 * decoder's two 2×2 upscaling convs ~2× faster than the unpatch kernel. `residual` (out's shape)
 * is added and GELU applied in the same pass when asked (no autograd: the caller checks). With
 * `channelsLast`, gt is [N, H, W, A]: already [pixels, A], read as it is.
 */
export function unpatchMatmulInto(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, out: Tensor, epilogue: UnpatchEpilogue = { residual: null }, channelsLast = false): Tensor {
  const pixels = g.hg * g.wg;
  const taps = g.kh * g.kw;
  stridedGemmInto({
    M: pixels,
    N: g.b * taps,
    K: g.a,
    batch: [g.n],
    a: channelsLast ? { t: gt, offset: 0, ld: g.a, batchStrides: [g.a * pixels] } : { t: gt, offset: 0, ld: pixels, trans: true, batchStrides: [g.a * pixels] },
    b: { t: w, offset: 0, ld: g.b * taps, batchStrides: [0] },
    c: { t: out, offset: 0, ld: 0, batchStrides: [g.b * g.hs * g.ws] },
    act: epilogue.act,
    bias,
    unpatch: { uw: g.wg, ukh: g.kh, ukw: g.kw, uws: g.ws, uplane: g.hs * g.ws, residual: epilogue.residual, urb: epilogue.residual && epilogue.residual.shape[0] === g.n ? g.b * g.hs * g.ws : 0 },
  });
  return out;
}

/** The transposed conv whose kernel equals its stride (see `convUnpatchKernel`, or the matmul above). */
function unpatch(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, out: Tensor): Tensor {
  if (unpatchOnMatmul(gt, g, out.size)) return unpatchMatmulInto(gt, w, bias, g, out);
  const bt = UNPATCH_BT;
  const packed = packConvWeight(w, g, 'gather', bt);
  const bPad = Math.ceil(g.b / bt) * bt;
  const bBlocks = bPad / bt;
  const taps = g.kh * g.kw;
  const hw4 = (g.hg * g.wg) / 4;
  const p = convGeometryParams(
    new Params().u32('hw4', hw4).u32('b_blocks', bBlocks).u32('b_pad4', bPad / 4).u32('taps', taps),
    g,
  );
  runConvBlocks(g.n, convUnpatchKernel(bias !== null, p), gt, packed, bias, out, p, hw4, g.groups * taps * bBlocks);
  packed.dispose();
  return out;
}

/**
 * A stride-1 transposed conv is a direct conv of G with the kernel flipped, the channel roles of
 * the weight swapped and padding d·(k − 1) − p, so it runs on the faster direct kernel.
 */
function flippedDirect(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const wf = Tensor.empty([g.groups * g.b, g.aG, g.kh, g.kw]);
  const k = g.kh * g.kw;
  const p = new Params().u32('n', wf.size).u32('a_g', g.aG).u32('b', g.b).u32('k', k);
  runLinear(getBackend(), convFlipTransposeKernel(p), [w.range], [wf.range], p, wf.size);
  const out = convDirect(gt, wf, bias, {
    n: g.n,
    a: g.groups * g.b,
    b: g.aG,
    groups: g.groups,
    aG: g.b,
    hg: g.hs,
    wg: g.ws,
    hs: g.hg,
    ws: g.wg,
    kh: g.kh,
    kw: g.kw,
    stride: [1, 1],
    padding: [g.dilation[0] * (g.kh - 1) - g.padding[0], g.dilation[1] * (g.kw - 1) - g.padding[1]],
    dilation: g.dilation,
  });
  wf.dispose();
  return out;
}
