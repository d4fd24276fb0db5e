/**
 * The elementwise unary kernels (run by ops/unary.ts). Each op is one row of a table: its forward
 * WGSL expression (in `x`, and the op's scalar arguments `a`, `b`) and the WGSL expression of its
 * input gradient (in `x`, the output `y`, the output gradient `g`, `a`, `b`). `params` holds n,
 * a, b. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { MATH_WGSL } from './math.wgsl.js';
import { Params, bindings, linearMain } from './wgsl.js';
import { vec4MapWgsl } from './vec4.js';

export interface UnaryDef {
  fwd: string;
  /** Input gradient; `null` for ops with zero/undefined gradient (none flows). */
  grad: string | null;
  /** What the gradient expression reads besides `g`. */
  needs: 'x' | 'y' | 'none';
}

const SQRT_2_OVER_PI = '0.7978845608028654';
const INV_SQRT_2 = '0.7071067811865476';
const INV_SQRT_2PI = '0.3989422804014327';

/**
 * The unary ops, by name: each row's forward WGSL expression, input-gradient expression (`null`
 * when no gradient flows) and what that expression reads besides `g`.
 */
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

/** The name of a unary op: a key of {@link UNARY_OPS}. */
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

/** Forward, one element per thread: X → Y. */
export function unaryKernel(op: UnaryOp, p: Params): Kernel {
  const def: UnaryDef = UNARY_OPS[op];
  return {
    key: `unary:${op}`,
    wgsl: () => `${bindings(['X'], ['Y'])}\n${p.wgsl(2)}\n${MATH_WGSL}\n${HELPERS}
${linearMain(`  let x = X[i]; let a = params.a; let b = params.b;\n  Y[i] = ${def.fwd};`)}`,
  };
}

/** Forward, vectorised (see vec4.ts). */
export function unaryVec4Kernel(op: UnaryOp, p: Params): Kernel {
  const def: UnaryDef = UNARY_OPS[op];
  const fn = `${MATH_WGSL}\n${HELPERS}\nfn map_(x: f32) -> f32 { let a = params.a; let b = params.b; return ${def.fwd}; }`;
  return { key: `unary:${op}:v4`, wgsl: () => vec4MapWgsl(1, fn, p) };
}

/** The uniforms of every unary kernel. */
export const unaryParams = (n: number, a: number, b: number) => new Params().u32('n', n).f32('a', a).f32('b', b);

const gradNames = (def: UnaryDef) => (def.needs === 'none' ? ['G'] : ['G', 'S']);

/** Input gradient, one element per thread: G[, S (x or y, as the op needs)] → DX. */
export function unaryGradKernel(op: UnaryOp, p: Params): Kernel {
  const def: UnaryDef = UNARY_OPS[op];
  const names = gradNames(def);
  const load = def.needs === 'x' ? 'let x = S[i];' : def.needs === 'y' ? 'let y = S[i];' : '';
  return {
    key: `unary_grad:${op}`,
    wgsl: () => `${bindings(names, ['DX'])}\n${p.wgsl(names.length + 1)}\n${MATH_WGSL}\n${HELPERS}
${linearMain(`  let g = G[i]; ${load} let a = params.a; let b = params.b;\n  DX[i] = ${def.grad};`)}`,
  };
}

/** Input gradient, vectorised. */
export function unaryGradVec4Kernel(op: UnaryOp, p: Params): Kernel {
  const def: UnaryDef = UNARY_OPS[op];
  const args = def.needs === 'none' ? 'g: f32' : `g: f32, ${def.needs}: f32`;
  const fn = `${MATH_WGSL}\n${HELPERS}\nfn map_(${args}) -> f32 { let a = params.a; let b = params.b; return ${def.grad}; }`;
  return { key: `unary_grad:${op}:v4`, wgsl: () => vec4MapWgsl(gradNames(def).length, fn, p) };
}

/** The activations a kernel can apply as it stores its result (`gelu` is the erf form). */
export type FusedActivation = 'relu' | 'gelu';

/**
 * `act_` (f32) and `act4_` (vec4) applying a fused activation as a kernel stores its result: the
 * unary ops' forward formulas, shared by the matmul and norm kernels.
 */
export function activationWgsl(act: FusedActivation): string {
  return `${act === 'gelu' ? MATH_WGSL : ''}
fn act_(x: f32) -> f32 { return ${UNARY_OPS[act].fwd}; }
fn act4_(v: vec4<f32>) -> vec4<f32> { return vec4<f32>(act_(v.x), act_(v.y), act_(v.z), act_(v.w)); }`;
}
