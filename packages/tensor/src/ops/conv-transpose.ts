/**
 * convTranspose2d (NCHW, PyTorch semantics and weight layout [Cin, Cout/groups, kH, kW]): the
 * adjoint of conv2d. Forward is the gather kernel (each output pixel sums the input positions
 * that map onto it), the input gradient is a direct conv of the output gradient, the weight
 * gradient the shared split-reduction kernel (kernels/conv-geometry.ts explains the roles).
 */
import { Tensor, assertTensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { recordsGrad } from '../autograd/record.js';
import { tidy } from '../scope.js';
import { add } from './binary.js';
import { permute } from './permute.js';
import { activationOp } from './unary.js';
import { pair, type ConvGeometry, type Size2 } from '../kernels/conv-geometry.js';
import { convDirect } from './conv-direct.js';
import { convGather, isUnpatch, unpatchMatmulInto, unpatchOnMatmul } from './conv-gather.js';
import { convWeightGrad } from './conv-weight-grad.js';
import { checkConvArgs, recordConv, type Conv2dOptions } from './conv.js';
import type { MatmulActivation } from '../kernels/matmul-tiled.js';

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns added on the bottom/right of the output; each must be < max(stride, dilation). Default 0. */
  outputPadding?: Size2;
  /**
   * Added to the output (its shape, or batch 1 broadcast over N) before `activation`: a
   * residual. Without gradients, where the conv runs as one matmul (a kernel equal to its stride,
   * one group, CPU adapters), the add and the activation happen as the result is stored.
   */
  add?: Tensor;
  /** Applied last: 'relu' or 'gelu' (erf). */
  activation?: MatmulActivation;
  /**
   * `x` is [N, H, W, Cin] (channels last, e.g. a transformer's tokens reshaped to their grid)
   * instead of [N, Cin, H, W]; the output stays [N, Cout, Hout, Wout]. Where the conv runs as one
   * matmul (see `add`) x is read in place, saving the permute copy; elsewhere x is permuted first.
   */
  channelsLast?: boolean;
}

/**
 * Transposed 2-D convolution of `x` [N, Cin, H, W] with `weight` [Cin, Cout/groups, kH, kW] plus
 * an optional `bias` [Cout]; returns [N, Cout, Hout, Wout] with
 * Hout = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const groups = options.groups ?? 1;
  checkConvArgs(op, x, weight, bias, groups, (w) => w.shape[1] * groups);
  const [n, cin, h, w] = options.channelsLast ? [x.shape[0], x.shape[3], x.shape[1], x.shape[2]] : x.shape;
  const [wcin, coutG, kh, kw] = weight.shape;
  if (wcin !== cin) throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} expects ${wcin} input channels, input x has ${fmtShape(x.shape)}`);
  if (cin % groups !== 0) throw new RangeError(`${op}: input x ${fmtShape(x.shape)} has ${cin} channels, not divisible by groups ${groups}`);
  const stride = pair(options.stride, 1, op, 'stride', 1);
  const padding = pair(options.padding, 0, op, 'padding', 0);
  const dilation = pair(options.dilation, 1, op, 'dilation', 1);
  const outPad = pair(options.outputPadding, 0, op, 'outputPadding', 0);
  for (const i of [0, 1]) {
    if (outPad[i] >= Math.max(stride[i], dilation[i])) {
      throw new RangeError(`${op}: outputPadding ${outPad.join('×')} must be smaller than stride ${stride.join('×')} or dilation ${dilation.join('×')}`);
    }
  }
  const ho = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outPad[0] + 1;
  const wo = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outPad[1] + 1;
  if (ho < 1 || wo < 1) throw new RangeError(`${op}: padding ${padding.join('×')} leaves no output for input x ${fmtShape(x.shape)} and weight ${fmtShape(weight.shape)} (${ho}×${wo})`);
  const g: ConvGeometry = { n, a: cin, b: coutG, groups, aG: cin / groups, hg: h, wg: w, hs: ho, ws: wo, kh, kw, stride, padding, dilation };
  if (options.add || options.activation || options.channelsLast) return withEpilogue(x, weight, bias, options, g);
  const y = convGather(x, weight, bias, g);
  // dx of a transposed conv is the direct conv; dweight swaps the roles of x and dy.
  return recordConv(op, x, weight, bias, y, (dy, w) => convDirect(dy, w, null, g), (dy, xs) => convWeightGrad(xs, dy, g));
}

/**
 * convTranspose2d with `add` / `activation` / `channelsLast`: fused into the matmul (its stores,
 * its reads) where it can be, else the ops in turn.
 */
function withEpilogue(x: Tensor, weight: Tensor, bias: Tensor | null, options: ConvTranspose2dOptions, g: ConvGeometry): Tensor {
  const op = 'convTranspose2d';
  const { add: residual, activation, channelsLast, ...plain } = options;
  const shape = [g.n, g.groups * g.b, g.hs, g.ws];
  const activate = activation === undefined ? null : activationOp(op, activation);
  if (residual) {
    assertTensor(residual, op, 'add');
    const ok = residual.rank === 4 && (residual.shape[0] === g.n || residual.shape[0] === 1) && residual.shape.slice(1).every((d, i) => d === shape[i + 1]);
    if (!ok) throw new RangeError(`${op}: add ${fmtShape(residual.shape)} must have the output's shape ${fmtShape(shape)} (or batch 1)`);
  }
  if (!recordsGrad(x, weight, bias, residual) && residual?.dtype !== 'f16' && isUnpatch(g) && unpatchOnMatmul(x, g, sizeOf(shape))) {
    return unpatchMatmulInto(x, weight, bias, g, Tensor.empty(shape), { residual: residual ?? null, act: activation }, channelsLast);
  }
  return tidy(() => {
    let y = convTranspose2d(channelsLast ? permute(x, [0, 3, 1, 2]) : x, weight, bias, plain);
    if (residual) y = add(y, residual);
    return activate ? activate(y) : y;
  });
}
