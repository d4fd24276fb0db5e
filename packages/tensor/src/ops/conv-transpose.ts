/**
 * convTranspose2d (NCHW, PyTorch semantics and weight layout [Cin, Cout/groups, kH, kW]): the
 * adjoint of conv2d. Forward is the gather kernel (each output pixel sums the input positions
 * that map onto it), the input gradient is a direct conv of the output gradient, the weight
 * gradient the shared split-reduction kernel (kernels/conv-geometry.ts explains the roles).
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { pair, type ConvGeometry, type Size2 } from '../kernels/conv-geometry.js';
import { convDirect } from './conv-direct.js';
import { convGather } from './conv-gather.js';
import { convWeightGrad } from './conv-weight-grad.js';
import { checkConvArgs, recordConv, type Conv2dOptions } from './conv.js';

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns added on the bottom/right of the output; each must be < max(stride, dilation). Default 0. */
  outputPadding?: Size2;
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
  const [n, cin, h, w] = x.shape;
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
  const y = convGather(x, weight, bias, g);
  // dx of a transposed conv is the direct conv; dweight swaps the roles of x and dy.
  return recordConv(op, x, weight, bias, y, (dy, w) => convDirect(dy, w, null, g), (dy, xs) => convWeightGrad(xs, dy, g));
}
