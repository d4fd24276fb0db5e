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
 * The same broadcast over fewer dims: the inputs expanded to the output's rank, dims of size 1 in
 * the output dropped, and neighbouring dims merged where every input is either full along both or
 * broadcast along both (e.g. [1, 256, 64, 64] + [1, 256, 1, 1] → [256, 4096] + [256, 1]). Inputs
 * are contiguous, so merged dims address the same elements.
 */
export function coalesceBroadcast(outShape: Shape, inShapes: readonly Shape[]): { out: number[]; ins: number[][] } {
  const rank = outShape.length;
  const full = inShapes.map((s) => [...Array(rank - s.length).fill(1), ...s]);
  const out: number[] = [];
  const ins: number[][] = inShapes.map(() => []);
  for (let d = 0; d < rank; d++) {
    if (outShape[d] === 1) continue;
    const last = out.length - 1;
    // merge with the previous kept dim when every input is full along both or broadcast along both
    const merge = last >= 0 && full.every((s, k) => (s[d] === 1) === (ins[k][last] === 1));
    if (merge) {
      out[last] *= outShape[d];
      full.forEach((s, k) => (ins[k][last] *= s[d]));
    } else {
      out.push(outShape[d]);
      full.forEach((s, k) => ins[k].push(s[d]));
    }
  }
  if (out.length === 0) return { out: [1], ins: inShapes.map(() => [1]) };
  return { out, ins };
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
  // the index math runs over the coalesced shapes (fewer dims, the same elements)
  const c = same ? { out: [...outShape], ins: inputs.map((t) => [...t.shape]) } : coalesceBroadcast(outShape, inputs.map((t) => t.shape));
  const rank = c.out.length;
  const p = new Params().u32('n', out.size);
  scalars.forEach((s, k) => p.f32(`p${k}`, s));
  const cap = Math.max(4, Math.ceil(rank / 4) * 4);
  if (!same) {
    p.u32s('shape', c.out, cap);
    c.ins.forEach((s, k) => p.u32s(`st${k}`, broadcastStrides(s, c.out), cap));
  }
  const backend = getBackend();
  const cfg: MapConfig = { name: key, expr, inputs: inputs.length, scalars: scalars.length, same, rank, params: p };
  const ranges = inputs.map((t) => t.range);
  if (same && runVec4Map(backend, vec4MapKernel(cfg), { params: p, inputs: ranges, output: out.range, n: out.size })) return out;
  if (!same && c.out[rank - 1] % 4 === 0) {
    // Every input is contiguous, so after coalescing each runs along the last dim (stride 1, and
    // its rows start at multiples of 4: read as vec4s) or is broadcast along it (stride 0).
    const alongLast = c.ins.map((s) => s[rank - 1] !== 1);
    backend.run({ kernel: broadcastVec4MapKernel({ ...cfg, alongLast }), inputs: ranges, outputs: [out.range], params: p.bytes(), workgroups: vec4Grid(backend, out.size) });
    return out;
  }
  runLinear(backend, mapKernel(cfg), ranges, [out.range], p, out.size);
  return out;
}
