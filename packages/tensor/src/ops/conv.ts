/**
 * conv2d (NCHW, PyTorch semantics): forward by the direct kernels, input gradient by the gather
 * kernels, weight gradient by the split-reduction kernel, bias gradient by a per-channel sum.
 * The kernels are shared with convTranspose2d (see kernels/conv-geometry.ts); all of them split
 * batches whose tensors exceed one storage binding (ops/conv-batch.ts).
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { assertNCHW, convOutLen, pair, type ConvGeometry, type Size2 } from '../kernels/conv-geometry.js';
import { convDirect } from './conv-direct.js';
import { convGather } from './conv-gather.js';
import { convBiasGrad, convWeightGrad } from './conv-weight-grad.js';

export type { Size2 } from '../kernels/conv-geometry.js';

/** Options of {@link conv2d}; each size is one number for both axes or [height, width]. */
export interface Conv2dOptions {
  /** Default 1. */
  stride?: Size2;
  /** Zero padding on each side; default 0. */
  padding?: Size2;
  /** Default 1. */
  dilation?: Size2;
  /** Input and output channels are split into this many groups; default 1 (groups = C is depthwise). */
  groups?: number;
}

/** Checks the common arguments of conv2d/convTranspose2d: 4-D f32 tensors, groups, bias. */
export function checkConvArgs(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, groups: number, biasLen: (w: Tensor) => number): void {
  assertTensor(x, op, 'x');
  assertTensor(weight, op, 'weight');
  assertDType(x, ['f32'], op, 'x');
  assertDType(weight, ['f32'], op, 'weight');
  assertNCHW(x.shape, op, 'input x');
  assertNCHW(weight.shape, op, 'weight');
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  if (bias !== null && bias !== undefined) {
    assertTensor(bias, op, 'bias');
    assertDType(bias, ['f32'], op, 'bias');
    const c = biasLen(weight);
    if (bias.rank !== 1 || bias.shape[0] !== c) {
      throw new RangeError(`${op}: bias must have shape [${c}] for weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
    }
  }
}


/**
 * 2-D convolution of `x` [N, C, H, W] with `weight` [Cout, C/groups, kH, kW] plus an optional
 * `bias` [Cout]; returns [N, Cout, Hout, Wout] with Hout = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const groups = options.groups ?? 1;
  checkConvArgs(op, x, weight, bias, groups, (w) => w.shape[0]);
  const [n, c, h, w] = x.shape;
  const [cout, cinG, kh, kw] = weight.shape;
  if (cinG * groups !== c) {
    throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} expects ${cinG}·groups = ${cinG * groups} input channels (groups ${groups}), input x has ${fmtShape(x.shape)}`);
  }
  if (cout % groups !== 0) throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} has ${cout} output channels, not divisible by groups ${groups}`);
  const stride = pair(options.stride, 1, op, 'stride', 1);
  const padding = pair(options.padding, 0, op, 'padding', 0);
  const dilation = pair(options.dilation, 1, op, 'dilation', 1);
  const ho = convOutLen(h, kh, stride[0], padding[0], dilation[0]);
  const wo = convOutLen(w, kw, stride[1], padding[1], dilation[1]);
  if (ho < 1 || wo < 1) {
    throw new RangeError(
      `${op}: kernel ${kh}×${kw} (dilation ${dilation.join('×')}) does not fit input x ${fmtShape(x.shape)} padded by ${padding.join('×')} (output would be ${ho}×${wo})`,
    );
  }
  const g: ConvGeometry = { n, a: cout, b: cinG, groups, aG: cout / groups, hg: ho, wg: wo, hs: h, ws: w, kh, kw, stride, padding, dilation };
  const y = convDirect(x, weight, bias, g);
  return recordConv(op, x, weight, bias, y, (dy, w) => convGather(dy, w, null, g), (dy, xs) => convWeightGrad(dy, xs, g));
}

/**
 * Records a convolution-like op (conv2d and its transpose are each other's adjoint): dx from the
 * output gradient and the weight, dweight from the output gradient and x, dbias by a channel sum.
 * Only what the wanted gradients read is saved.
 */
export function recordConv(
  op: string,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  y: Tensor,
  inputGrad: (dy: Tensor, weight: Tensor) => Tensor,
  weightGrad: (dy: Tensor, x: Tensor) => Tensor,
): Tensor {
  const needX = x.requiresGrad;
  const needW = weight.requiresGrad;
  const needB = bias?.requiresGrad ?? false;
  const save = [...(needW ? [x] : []), ...(needX ? [weight] : [])];
  return record(
    op,
    bias ? [x, weight, bias] : [x, weight],
    y,
    (dy, saved) => {
      const sx = needW ? saved[0] : null;
      const sw = needX ? saved[needW ? 1 : 0] : null;
      return [needX ? inputGrad(dy, sw!) : null, needW ? weightGrad(dy, sx!) : null, needB ? convBiasGrad(dy) : null];
    },
    save,
  );
}
