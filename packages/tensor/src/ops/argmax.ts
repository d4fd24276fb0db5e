/**
 * argmax over the last axis: the index of the first maximum (as PyTorch's argmax), as i32
 * indices or as a one-hot f32 mask. No gradient (a selection, not a function of the values).
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { argmaxKernel as argmaxKernelOf } from '../kernels/argmax.js';
import { runLinear } from './run.js';

function argmaxOp(x: Tensor, mode: 'index' | 'onehot', op: string): Tensor {
  assertTensor(x, op, 'x');
  assertDType(x, ['f32'], op, 'x');
  if (x.rank === 0 || x.shape[x.rank - 1] === 0) throw new RangeError(`${op}: ${x.describe()} needs a non-empty last axis`);
  const k = x.shape[x.rank - 1];
  const rows = x.size / k;
  const out = mode === 'index' ? Tensor.empty(x.shape.slice(0, -1), 'i32') : Tensor.empty(x.shape);
  if (rows === 0) return out;
  const p = new Params().u32('n', rows).u32('k', k);
  runLinear(
    getBackend(),
    argmaxKernelOf(mode, p),
    [x.range],
    [out.range],
    p,
    rows,
  );
  return out;
}

/** Index (i32) of the first maximum along the last axis: [..., K] → [...]. */
export function argmax(x: Tensor): Tensor {
  return argmaxOp(x, 'index', 'argmax');
}

/** One-hot (f32) of the first maximum along the last axis: [..., K] → [..., K]. */
export function argmaxOneHot(x: Tensor): Tensor {
  return argmaxOp(x, 'onehot', 'argmaxOneHot');
}
