/**
 * Elementwise unary ops. Each op is one row of the table `UNARY_OPS` (kernels/unary.ts): its
 * forward WGSL expression and that of its input gradient. Forward and backward are one kernel
 * each, vectorised when the bindings allow (see `kernels/vec4.ts`).
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { UNARY_OPS, unaryGradKernel, unaryGradVec4Kernel, unaryKernel, unaryParams, unaryVec4Kernel, type UnaryDef, type UnaryOp } from '../kernels/unary.js';
import { runLinear, runVec4Map } from './run.js';
import type { MatmulActivation } from '../kernels/matmul-tiled.js';

export { UNARY_OPS, type UnaryOp } from '../kernels/unary.js';

function unaryForward(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size === 0) return out;
  const p = unaryParams(x.size, a, b);
  const backend = getBackend();
  const ranges = [x.range];
  if (runVec4Map(backend, unaryVec4Kernel(op, p), { params: p, inputs: ranges, output: out.range, n: x.size })) return out;
  runLinear(backend, unaryKernel(op, p), ranges, [out.range], p, x.size);
  return out;
}

function unaryBackward(op: UnaryOp, g: Tensor, saved: Tensor | null, a: number, b: number): Tensor {
  const def: UnaryDef = UNARY_OPS[op];
  const out = Tensor.empty(g.shape);
  if (out.size === 0) return out;
  const p = unaryParams(g.size, a, b);
  const inputs = def.needs === 'none' ? [g.range] : [g.range, saved!.range];
  const backend = getBackend();
  if (runVec4Map(backend, unaryGradVec4Kernel(op, p), { params: p, inputs, output: out.range, n: g.size })) return out;
  runLinear(backend, unaryGradKernel(op, p), inputs, [out.range], p, g.size);
  return out;
}

/** Applies a unary op (forward kernel + recorded backward kernel). */
export function unary(op: UnaryOp, x: Tensor, a = 0, b = 0): Tensor {
  assertTensor(x, op, 'x');
  assertDType(x, ['f32'], op, 'x');
  const def: UnaryDef = UNARY_OPS[op];
  const y = unaryForward(op, x, a, b);
  if (def.grad === null) return y;
  const save = def.needs === 'x' ? [x] : def.needs === 'y' ? [y] : [];
  return record(op, [x], y, (g, s) => [unaryBackward(op, g, s[0] ?? null, a, b)], save);
}

/** Elementwise negation, −x. */
export const neg = (x: Tensor) => unary('neg', x);
/** Elementwise eˣ. */
export const exp = (x: Tensor) => unary('exp', x);
/** Elementwise natural logarithm (NaN for x < 0, −∞ at 0). */
export const log = (x: Tensor) => unary('log', x);
/** Elementwise square root. */
export const sqrt = (x: Tensor) => unary('sqrt', x);
/** Elementwise reciprocal square root, 1/√x. */
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
/** Elementwise absolute value; the gradient is sign(x) (0 at x = 0). */
export const abs = (x: Tensor) => unary('abs', x);
/** Elementwise sign: −1, 0 or 1 (no gradient). */
export const sign = (x: Tensor) => unary('sign', x);
/** Elementwise x². */
export const square = (x: Tensor) => unary('square', x);
/** Elementwise 1/x. */
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
/** Elementwise sine (x in radians, range-reduced by 2π first for accuracy at large |x|). */
export const sin = (x: Tensor) => unary('sin', x);
/** Elementwise cosine (x in radians, range-reduced by 2π first for accuracy at large |x|). */
export const cos = (x: Tensor) => unary('cos', x);
/** Elementwise hyperbolic tangent (computed without overflow for large |x|). */
export const tanh = (x: Tensor) => unary('tanh', x);
/** Elementwise logistic sigmoid, 1/(1 + e⁻ˣ) (computed without overflow for large |x|). */
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
/** Elementwise max(x, 0); the gradient passes where x > 0. */
export const relu = (x: Tensor) => unary('relu', x);
/** Elementwise Gauss error function (|error| < 1.2e-7). */
export const erf = (x: Tensor) => unary('erf', x);
/** GELU with the exact erf form (PyTorch's default). */
export const gelu = (x: Tensor) => unary('gelu', x);
/** The activations ops take by name (`linear`'s and `convTranspose2d`'s `activation`). */
const ACTIVATION_OPS: Record<MatmulActivation, (x: Tensor) => Tensor> = { relu, gelu };

/** The op of an `activation` option's name; any other name throws, naming `op` and the choices. */
export function activationOp(op: string, name: string): (x: Tensor) => Tensor {
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_OPS, name)) throw new RangeError(`${op}: activation must be 'relu' or 'gelu', got '${name}'`);
  return ACTIVATION_OPS[name as MatmulActivation];
}
/** GELU with the tanh approximation. */
export const geluTanh = (x: Tensor) => unary('gelu_tanh', x);
/** x·scale + shift */
export const affine = (x: Tensor, scale: number, shift = 0) => unary('affine', x, scale, shift);
/** x·s */
export const mulScalar = (x: Tensor, s: number) => unary('affine', x, s, 0);
/** x + s */
export const addScalar = (x: Tensor, s: number) => unary('affine', x, 1, s);
/** x^p for a constant exponent */
export const pow = (x: Tensor, p: number) => unary('pow', x, p);
/** Clamps to [min, max]; the gradient passes where min ≤ x ≤ max. */
export const clamp = (x: Tensor, min = -Infinity, max = Infinity) => unary('clamp', x, Math.max(min, -3.4e38), Math.min(max, 3.4e38));
/** 1 where x > threshold, else 0 (no gradient). */
export const greater = (x: Tensor, threshold = 0) => unary('gt', x, threshold);
/** 1 where x ≥ threshold, else 0 (no gradient). */
export const greaterEqual = (x: Tensor, threshold = 0) => unary('ge', x, threshold);
