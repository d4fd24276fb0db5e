/**
 * cast between f32, f16 and i32 (kernels: kernels/cast.ts). f16 is a storage type: two halves
 * per u32 word (`array<u32>` bindings), so it works on adapters without the shader-f16 feature,
 * and odd element counts leave the upper half of the last word zero.
 */
import { Tensor, assertTensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { castKernel as castKernelOf, castToF16Kernel } from '../kernels/cast.js';
import { runLinear } from './run.js';
import { assertBindable } from './indexing.js';

const DTYPES: readonly DType[] = ['f32', 'f16', 'i32'];

function castOp(x: Tensor, to: DType): Tensor {
  const out = Tensor.empty(x.shape, to);
  if (out.size === 0) return out;
  assertBindable(x, 'cast', 'input');
  assertBindable(out, 'cast', 'output');
  const from = x.dtype;
  if (to === 'f16') {
    // One thread per output word (two halves).
    const words = Math.ceil(x.size / 2);
    const p = new Params().u32('n', words).u32('size', x.size);
    runLinear(getBackend(), castToF16Kernel(from, p), [x.range], [out.range], p, words);
    return out;
  }
  const p = new Params().u32('n', x.size);
  runLinear(getBackend(), castKernelOf(from, to, p), [x.range], [out.range], p, x.size);
  return out;
}

/**
 * `x` converted to `dtype` ('f32', 'f16' or 'i32'). Only f32→f32 passes a gradient (the
 * identity, and no copy); casts that change the dtype cut the graph.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor(x, 'cast', 'x');
  if (!DTYPES.includes(dtype)) throw new TypeError(`cast: unknown dtype ${JSON.stringify(dtype)} (expected ${DTYPES.join(', ')}) for ${x.describe()}`);
  if (dtype === x.dtype) {
    const y = x.view(x.shape);
    return dtype === 'f32' ? record('cast', [x], y, (g) => [g.view(g.shape)]) : y;
  }
  return castOp(x, dtype);
}
