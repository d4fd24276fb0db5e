/**
 * gatherRows (index_select on dim 0); kernels: kernels/gather.ts.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import type { Kernel } from '../backend/backend.js';
import { Params, grid } from '../kernels/wgsl.js';
import { GATHER_WG as WG, gatherRowsGradKernel, gatherRowsKernel } from '../kernels/gather.js';
import { assertBindable, assertWordTensor } from './indexing.js';

function run(kernel: Kernel, inputs: Tensor[], out: Tensor, p: Params, n: number): void {
  const backend = getBackend();
  backend.run({
    kernel,
    inputs: inputs.map((t) => t.range),
    outputs: [out.range],
    params: p.bytes(),
    workgroups: grid(n, WG, backend.info.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Output row i = x[indices[i]]; out-of-range indices give a row of zeros. */
function gatherKernel(x: Tensor, indices: Tensor, outShape: number[], cols: number): Tensor {
  const out = Tensor.empty(outShape, x.dtype);
  if (out.size === 0) return out;
  const rows = indices.size;
  const n = rows * Math.ceil(cols / 4);
  const p = new Params().u32('n', n).u32('cols', cols).u32('nsrc', x.shape[0]);
  run(gatherRowsKernel(p), [x, indices], out, p, n);
  return out;
}

/** dx[s] = Σ over i with indices[i] == s of g[i]. */
function scatterAddKernel(g: Tensor, indices: Tensor, shape: readonly number[], cols: number): Tensor {
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const n = shape[0] * Math.ceil(cols / 4);
  const p = new Params().u32('n', n).u32('cols', cols).u32('m', indices.size);
  run(gatherRowsGradKernel(p), [g, indices], out, p, n);
  return out;
}

/**
 * Rows of `x` (dim 0) at `indices` (a 1-D i32 tensor): the result has shape
 * `[indices.size, ...x.shape.slice(1)]`, like `torch.index_select(x, 0, indices)`. Indices are
 * not checked on the CPU (they live on the GPU); an index outside `[0, x.shape[0])` gives a row
 * of zeros. The gradient adds up over duplicate indices.
 */
export function gatherRows(x: Tensor, indices: Tensor): Tensor {
  assertWordTensor(x, 'gatherRows', 'x');
  assertTensor(indices, 'gatherRows', 'indices');
  assertDType(indices, ['i32'], 'gatherRows', 'indices');
  if (x.rank === 0) throw new RangeError(`gatherRows: x (${x.describe()}) must have at least one dim`);
  if (indices.rank !== 1) throw new RangeError(`gatherRows: indices (${indices.describe()}) must be 1-D, got shape ${fmtShape(indices.shape)}`);
  assertBindable(x, 'gatherRows', 'x');
  const cols = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const y = gatherKernel(x, indices, [indices.size, ...x.shape.slice(1)], cols);
  return record('gatherRows', [x, indices], y, (g, [idx]) => [scatterAddKernel(g, idx, x.shape, cols), null], [indices]);
}
