/**
 * Elementwise maps over N inputs with NumPy broadcasting (kernels: kernels/map.ts): one thread per
 * output element, each input read through its broadcast strides. When every input already has
 * the output's shape the index math is skipped and the kernel is vectorised (see `kernels/vec4.ts`);
 * when the output's last dim is a multiple of 4, the broadcast indices are decoded once per vec4.
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, shapeEq, type Shape } from '../tensor/shape.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { broadcastVec4MapKernel, mapKernel, vec4MapKernel, type MapConfig } from '../kernels/map.js';
import { runLinear, runVec4Map, vec4Grid } from './run.js';

/** Output shape of broadcasting all inputs (error names the op and shapes). */
export function broadcastAll(shapes: readonly Shape[], op: string): number[] {
  return shapes.reduce<number[]>((acc, s) => broadcastShapes(acc, s, op), []);
}

/**
 * Runs `expr` (WGSL, reading `a`, `b`, … for the inputs and `p0`, `p1` for the scalar params)
 * elementwise. `key` must identify `expr`. The output has the inputs' broadcast shape, or
 * `outShape` when given (which the inputs must broadcast to).
 */
export function broadcastMap(
  key: string,
  expr: string,
  inputs: readonly Tensor[],
  scalars: readonly number[] = [],
  op = key,
  outShape: Shape = broadcastAll(inputs.map((t) => t.shape), op),
): Tensor {
  if (!shapeEq(broadcastAll([...inputs.map((t) => t.shape), outShape], op), outShape)) {
    throw new RangeError(`${op}: ${inputs.map((t) => t.describe()).join(', ')} cannot be broadcast to [${outShape.join(', ')}]`);
  }
  const out = Tensor.empty(outShape);
  if (out.size === 0) return out;
  const same = inputs.every((t) => shapeEq(t.shape, outShape));
  const rank = outShape.length;
  const p = new Params().u32('n', out.size);
  scalars.forEach((s, k) => p.f32(`p${k}`, s));
  const cap = Math.max(4, Math.ceil(rank / 4) * 4);
  if (!same) {
    p.u32s('shape', outShape, cap);
    inputs.forEach((t, k) => p.u32s(`st${k}`, broadcastStrides(t.shape, outShape), cap));
  }
  const backend = getBackend();
  const cfg: MapConfig = { name: key, expr, inputs: inputs.length, scalars: scalars.length, same, rank, params: p };
  const ranges = inputs.map((t) => t.range);
  if (same && runVec4Map(backend, vec4MapKernel(cfg), { params: p, inputs: ranges, output: out.range, n: out.size })) return out;
  if (!same && outShape[rank - 1] % 4 === 0) {
    // Every input is contiguous, so its innermost broadcast stride is 1 or 0 and 4 consecutive
    // outputs (one row, as the last dim is a multiple of 4) read 4 consecutive or equal elements.
    backend.run({ kernel: broadcastVec4MapKernel(cfg), inputs: ranges, outputs: [out.range], params: p.bytes(), workgroups: vec4Grid(backend, out.size) });
    return out;
  }
  runLinear(backend, mapKernel(cfg), ranges, [out.range], p, out.size);
  return out;
}
