/** Op-vector adapters: elementwise ops and reductions. */
import { add, sub, mul, div, where, unary, sum, mean, amax, greater, type UnaryOp } from '../../ops/index.js';
import type { OpAdapter } from './types.js';
import type { Tensor } from '../../tensor/tensor.js';

const unaryAdapter = (op: UnaryOp): OpAdapter => ([x]) => unary(op, x);

/** Parses a condition of the form "in0 > 0" (the only form the vectors use). */
function condition(spec: unknown): (inputs: Tensor[]) => Tensor {
  const m = /^in(\d+)\s*>\s*(-?[\d.]+)$/.exec(String(spec ?? '').trim());
  if (!m) throw new Error(`where: unsupported cond ${JSON.stringify(spec)} (expected "inK > c")`);
  return (inputs) => greater(inputs[Number(m[1])], Number(m[2]));
}

export const elementwiseAdapters: Record<string, OpAdapter> = {
  add: ([a, b]) => add(a, b),
  sub: ([a, b]) => sub(a, b),
  mul: ([a, b]) => mul(a, b),
  div: ([a, b]) => div(a, b),
  ...Object.fromEntries(
    (['exp', 'tanh', 'sigmoid', 'relu', 'sin', 'cos', 'gelu', 'gelu_tanh', 'neg', 'abs', 'erf', 'square', 'log', 'sqrt', 'rsqrt'] as UnaryOp[]).map(
      (op) => [op, unaryAdapter(op)],
    ),
  ),
  pow: ([x], a) => unary('pow', x, Number(a.exponent)),
  clamp: ([x], a) => unary('clamp', x, a.min ?? -3.4e38, a.max ?? 3.4e38),
  where: (inputs, a) => {
    const c = condition(a.cond)(inputs);
    const y = where(c, inputs[1], inputs[2]);
    c.dispose();
    return y;
  },
  sum: ([x], a) => sum(x, a.dim ?? null, Boolean(a.keepdim)),
  mean: ([x], a) => mean(x, a.dim ?? null, Boolean(a.keepdim)),
  amax: ([x], a) => amax(x, a.dim ?? null, Boolean(a.keepdim)),
};
