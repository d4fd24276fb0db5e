/**
 * The elementwise kernel over N inputs with NumPy broadcasting: one thread per output element,
 * each input read through its broadcast strides. When every input already has the output's
 * shape the index math is skipped and the kernel is vectorised (see `kernels/vec4.ts`).
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, shapeEq, type Shape } from '../tensor/shape.js';
import { getBackend } from '../runtime.js';
import { MATH_WGSL } from '../kernels/math.wgsl.js';
import { Params, bindings, broadcastIndex, linearMain, runLinear } from '../kernels/wgsl.js';
import { runVec4Map } from '../kernels/vec4.js';

const NAMES = ['A', 'B', 'C', 'D'];

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
  const names = NAMES.slice(0, inputs.length);
  const backend = getBackend();
  const kernelKey = `map:${key}:${same ? 'same' : `r${rank}`}:${inputs.length}:${scalars.length}`;
  const sc = scalars.map((_, k) => `let p${k} = params.p${k};`).join(' ');
  if (same) {
    // The expression stays scalar (applied per lane); loads and stores are vec4.
    const args = names.map((n) => `${n.toLowerCase()}: f32`).join(', ');
    const fn = `${MATH_WGSL}\nfn map_(${args}) -> f32 { ${sc} return ${expr}; }`;
    const ranges = inputs.map((t) => t.range);
    if (runVec4Map(backend, { key: `${kernelKey}:v4`, fn, params: p, inputs: ranges, output: out.range, n: out.size })) return out;
  }
  const loads = names
    .map((n, k) => {
      const v = n.toLowerCase();
      if (same) return `  let ${v} = ${n}[i];`;
      return `${broadcastIndex(`i${k}`, rank, 'shape', `st${k}`)}\n  let ${v} = ${n}[i${k}];`;
    })
    .join('\n');
  runLinear(
    backend,
    {
      key: kernelKey,
      wgsl: () => `${bindings(names, ['OUT'])}\n${p.wgsl(names.length + 1)}\n${MATH_WGSL}
${linearMain(`${loads}\n  ${sc}\n  OUT[i] = ${expr};`)}`,
    },
    inputs.map((t) => t.range),
    [out.range],
    p,
    out.size,
  );
  return out;
}
