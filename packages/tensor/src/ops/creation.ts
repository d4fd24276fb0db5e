/** Creating tensors: from host data, filled with a constant, and parameters. */
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { assertShape, fmtShape, sizeOf, type Shape } from '../tensor/shape.js';
import { f32ToF16Bits } from '../tensor/half.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { fillKernel } from '../kernels/fill.js';
import { runLinear } from './run.js';

/** Options for tensors made from host data. */
export interface TensorOptions {
  dtype?: DType;
  /** Make a leaf that collects gradients. */
  requiresGrad?: boolean;
  /** Name used in error messages. */
  name?: string;
}

/** A tensor with the given data (row-major) and shape. */
export function tensor(data: ArrayLike<number>, shape: Shape, options: TensorOptions = {}): Tensor {
  assertShape(shape, 'tensor');
  const dtype = options.dtype ?? 'f32';
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new RangeError(`tensor${options.name ? ` '${options.name}'` : ''}: ${data.length} values given for shape ${fmtShape(shape)} (${n} elements)`);
  }
  if (options.requiresGrad && dtype !== 'f32') {
    throw new TypeError(`tensor${options.name ? ` '${options.name}'` : ''}: only f32 tensors can require grad (got ${dtype})`);
  }
  const t = Tensor.empty(shape, dtype);
  if (options.name) t.name = options.name;
  let bytes: ArrayBufferView;
  if (dtype === 'f32') bytes = data instanceof Float32Array ? data : Float32Array.from(data);
  else if (dtype === 'i32') bytes = data instanceof Int32Array ? data : Int32Array.from(data);
  else {
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = f32ToF16Bits(data[i]);
    bytes = h;
  }
  getBackend().write(t.store.buffer, 0, bytes);
  t.requiresGrad = Boolean(options.requiresGrad);
  return t;
}

/** A scalar (rank-0) f32 tensor. */
export function scalar(value: number, options: TensorOptions = {}): Tensor {
  return tensor([value], [], options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  assertShape(shape, 'full');
  if (dtype === 'f16') return tensor(new Float32Array(sizeOf(shape)).fill(value), shape, { dtype });
  const t = Tensor.empty(shape, dtype);
  if (t.size === 0) return t;
  const view = new DataView(new ArrayBuffer(4));
  if (dtype === 'i32') view.setInt32(0, value, true);
  else view.setFloat32(0, value, true);
  const p = new Params().u32('n', t.size).u32('bits', view.getUint32(0, true));
  runLinear(getBackend(), fillKernel(p), [], [t.range], p, t.size);
  return t;
}

/** A tensor of `shape` filled with 0 (f32 unless `dtype` says otherwise). */
export const zeros = (shape: Shape, dtype: DType = 'f32'): Tensor => full(shape, 0, dtype);
/** A tensor of `shape` filled with 1 (f32 unless `dtype` says otherwise). */
export const ones = (shape: Shape, dtype: DType = 'f32'): Tensor => full(shape, 1, dtype);
/** A tensor of 0s with the shape and dtype of `t`. */
export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, t.dtype);
/** A tensor of 1s with the shape and dtype of `t`. */
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1, t.dtype);

/** A trainable leaf: f32 data that collects gradients in `.grad`. */
export function parameter(data: ArrayLike<number>, shape: Shape, name?: string): Tensor {
  return tensor(data, shape, { requiresGrad: true, name });
}
