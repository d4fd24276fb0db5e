/**
 * Elementwise unary ops. Each op is one row of a table: its forward WGSL expression (in `x`, and
 * the op's scalar arguments `a`, `b`) and the WGSL expression of its input gradient (in `x`, the
 * output `y`, the output gradient `g`, `a`, `b`). Forward and backward are one kernel each,
 * vectorised when the bindings allow (see `kernels/vec4.ts`).
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { MATH_WGSL } from '../kernels/math.wgsl.js';
import { Params, bindings, linearMain, runLinear } from '../kernels/wgsl.js';
import { runVec4Map } from '../kernels/vec4.js';

interface UnaryDef {
  fwd: string;
  /** Input gradient; `null` for ops with zero/undefined gradient (none flows). */
  grad: string | null;
  /** What the gradient expression reads besides `g`. */
  needs: 'x' | 'y' | 'none';
}

const SQRT_2_OVER_PI = '0.7978845608028654';
const INV_SQRT_2 = '0.7071067811865476';
const INV_SQRT_2PI = '0.3989422804014327';

export const UNARY_OPS = {
  neg: { fwd: '-x', grad: '-g', needs: 'none' },
  exp: { fwd: 'exp(x)', grad: 'g * y', needs: 'y' },
  log: { fwd: 'log(x)', grad: 'g / x', needs: 'x' },
  sqrt: { fwd: 'sqrt(x)', grad: 'g * 0.5 / y', needs: 'y' },
  rsqrt: { fwd: 'inverseSqrt(x)', grad: 'g * -0.5 * y * y * y', needs: 'y' },
  abs: { fwd: 'abs(x)', grad: 'g * sign(x)', needs: 'x' },
  sign: { fwd: 'sign(x)', grad: null, needs: 'none' },
  square: { fwd: 'x * x', grad: 'g * 2.0 * x', needs: 'x' },
  reciprocal: { fwd: '1.0 / x', grad: '-g * y * y', needs: 'y' },
  sin: { fwd: 'sin_(x)', grad: 'g * cos_(x)', needs: 'x' },
  cos: { fwd: 'cos_(x)', grad: '-g * sin_(x)', needs: 'x' },
  tanh: { fwd: 'tanh_(x)', grad: 'g * (1.0 - y * y)', needs: 'y' },
  sigmoid: { fwd: 'sigmoid_(x)', grad: 'g * y * (1.0 - y)', needs: 'y' },
  relu: { fwd: 'max(x, 0.0)', grad: 'select(0.0, g, x > 0.0)', needs: 'x' },
  erf: { fwd: 'erf_(x)', grad: `g * 1.1283791670955126 * exp(-x * x)`, needs: 'x' },
  gelu: {
    fwd: `0.5 * x * (1.0 + erf_(x * ${INV_SQRT_2}))`,
    grad: `g * (0.5 * (1.0 + erf_(x * ${INV_SQRT_2})) + x * ${INV_SQRT_2PI} * exp(-0.5 * x * x))`,
    needs: 'x',
  },
  gelu_tanh: {
    fwd: `0.5 * x * (1.0 + tanh_(${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x)))`,
    grad: `g * gelu_tanh_grad_(x)`,
    needs: 'x',
  },
  /** x·a + b */
  affine: { fwd: 'x * a + b', grad: 'g * a', needs: 'none' },
  /** x^a (a real; negative x gives NaN for non-integer a, as in PyTorch) */
  pow: { fwd: 'pow_(x, a)', grad: 'g * a * pow_(x, a - 1.0)', needs: 'x' },
  /** min(max(x, a), b); the gradient passes where a ≤ x ≤ b */
  clamp: { fwd: 'min(max(x, a), b)', grad: 'select(0.0, g, x >= a && x <= b)', needs: 'x' },
  /** 1 where x > a else 0 */
  gt: { fwd: 'select(0.0, 1.0, x > a)', grad: null, needs: 'none' },
  /** 1 where x ≥ a else 0 */
  ge: { fwd: 'select(0.0, 1.0, x >= a)', grad: null, needs: 'none' },
} satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof UNARY_OPS;

const HELPERS = `
fn pow_(x: f32, p: f32) -> f32 {
  if (p == 0.0) { return 1.0; }
  if (x >= 0.0) { return select(pow(x, p), 0.0, x == 0.0 && p > 0.0); }
  // A let keeps the NaN a runtime value (a constant NaN is a WGSL compile error).
  let nan_bits = 0x7fc00000u;
  if (fract(p) != 0.0) { return bitcast<f32>(nan_bits); }
  let m = pow(-x, p);
  return select(m, -m, fract(p * 0.5) != 0.0);
}
fn gelu_tanh_grad_(x: f32) -> f32 {
  let u = ${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x);
  let t = tanh_(u);
  let du = ${SQRT_2_OVER_PI} * (1.0 + 3.0 * 0.044715 * x * x);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
}`;

function params(n: number, a: number, b: number): Params {
  return new Params().u32('n', n).f32('a', a).f32('b', b);
}

function unaryForward(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
  const out = Tensor.empty(x.shape);
  if (out.size === 0) return out;
  const p = params(x.size, a, b);
  const def: UnaryDef = UNARY_OPS[op];
  const backend = getBackend();
  const fn = `${MATH_WGSL}\n${HELPERS}\nfn map_(x: f32) -> f32 { let a = params.a; let b = params.b; return ${def.fwd}; }`;
  if (runVec4Map(backend, { key: `unary:${op}:v4`, fn, params: p, inputs: [x.range], output: out.range, n: x.size })) return out;
  runLinear(
    backend,
    {
      key: `unary:${op}`,
      wgsl: () => `${bindings(['X'], ['Y'])}\n${p.wgsl(2)}\n${MATH_WGSL}\n${HELPERS}
${linearMain(`  let x = X[i]; let a = params.a; let b = params.b;\n  Y[i] = ${def.fwd};`)}`,
    },
    [x.range],
    [out.range],
    p,
    x.size,
  );
  return out;
}

function unaryBackward(op: UnaryOp, g: Tensor, saved: Tensor | null, a: number, b: number): Tensor {
  const def: UnaryDef = UNARY_OPS[op];
  const out = Tensor.empty(g.shape);
  if (out.size === 0) return out;
  const p = params(g.size, a, b);
  const inputs = def.needs === 'none' ? [g.range] : [g.range, saved!.range];
  const names = def.needs === 'none' ? ['G'] : ['G', 'S'];
  const load = def.needs === 'x' ? 'let x = S[i];' : def.needs === 'y' ? 'let y = S[i];' : '';
  const backend = getBackend();
  const args = def.needs === 'none' ? 'g: f32' : `g: f32, ${def.needs}: f32`;
  const fn = `${MATH_WGSL}\n${HELPERS}\nfn map_(${args}) -> f32 { let a = params.a; let b = params.b; return ${def.grad}; }`;
  if (runVec4Map(backend, { key: `unary_grad:${op}:v4`, fn, params: p, inputs, output: out.range, n: g.size })) return out;
  runLinear(
    backend,
    {
      key: `unary_grad:${op}`,
      wgsl: () => `${bindings(names, ['DX'])}\n${p.wgsl(names.length + 1)}\n${MATH_WGSL}\n${HELPERS}
${linearMain(`  let g = G[i]; ${load} let a = params.a; let b = params.b;\n  DX[i] = ${def.grad};`)}`,
    },
    inputs,
    [out.range],
    p,
    g.size,
  );
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

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sign = (x: Tensor) => unary('sign', x);
export const square = (x: Tensor) => unary('square', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const relu = (x: Tensor) => unary('relu', x);
export const erf = (x: Tensor) => unary('erf', x);
/** GELU with the exact erf form (PyTorch's default). */
export const gelu = (x: Tensor) => unary('gelu', x);
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
