/**
 * softmax and log_softmax over one axis, numerically stable (the row maximum is subtracted).
 *
 * The tensor is seen as [outer, n, inner] with the axis in the middle. Every row (one (outer,
 * inner) position) is reduced and then written by the same thread in one kernel: the forward
 * keeps a running (max, sum of exp) pair, so the row is read twice and written once. When the axis
 * is not the last one, neighbouring threads own neighbouring `inner` positions, so their loads are
 * contiguous. Long rows on the last axis get a workgroup each with a tree reduction instead.
 *
 * Backward: softmax dx = y·(g − Σ g·y); log_softmax dx = g − exp(y)·Σ g — again one reduction
 * and one write per row, in one kernel.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { normAxis } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, grid } from '../kernels/wgsl.js';
import { SOFTMAX_WG as WG, softmaxKernel, type SoftmaxMode as Mode, type SoftmaxPass as Pass } from '../kernels/softmax.js';

/** Rows on the last axis at least this long get a workgroup each instead of one thread. */
const LONG_ROW = 256;

interface RowLayout {
  outer: number;
  n: number;
  inner: number;
}

function rowLayout(shape: readonly number[], axis: number): RowLayout {
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return { outer: prod(shape.slice(0, axis)), n: shape.length ? shape[axis] : 1, inner: prod(shape.slice(axis + 1)) };
}

function rowParams(l: RowLayout): Params {
  return new Params().u32('rows', l.outer * l.inner).u32('n', l.n).u32('inner', l.inner);
}

/** Runs the forward (inputs [x]) or backward (inputs [g, y]) row kernel. */
function rowKernel(mode: Mode, pass: Pass, inputs: Tensor[], l: RowLayout): Tensor {
  const out = Tensor.empty(inputs[0].shape);
  const rows = l.outer * l.inner;
  if (out.size === 0) return out;
  const wide = l.inner === 1 && l.n >= LONG_ROW;
  const p = rowParams(l);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  backend.run({
    kernel: softmaxKernel(mode, pass, wide, p),
    inputs: inputs.map((t) => t.range),
    outputs: [out.range],
    params: p.bytes(),
    workgroups: wide ? grid(rows, 1, maxWg) : grid(rows, WG, maxWg),
  });
  return out;
}

function softmaxOp(mode: Mode, x: Tensor, axis: number): Tensor {
  assertTensor(x, mode, 'x');
  assertDType(x, ['f32'], mode, 'x');
  const ax = normAxis(axis, x.rank, mode);
  const l = rowLayout(x.shape, ax);
  const y = rowKernel(mode, 'fwd', [x], l);
  return record(mode, [x], y, (g, [sy]) => [rowKernel(mode, 'bwd', [g, sy], l)], [y]);
}

/** softmax(x) along `axis` (default the last): exp(x − max) / Σ exp(x − max). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('softmax', x, axis);
}

/** log(softmax(x)) along `axis` (default the last), computed as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('log_softmax', x, axis);
}
