/** Reference elementwise ops (unary, binary with broadcasting, where) and reductions. */
import { bcastGet, bcastShape, refZeros, sizeOfShape, sumToShape, unravel, type Ref, type RefOp } from './ref.js';

/** erf by its Maclaurin series / continued fraction, accurate to ~1e-15. */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let sum = 0;
    let term = a;
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      term *= (-a * a) / (n + 1);
      if (Math.abs(t) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz) for large |x|
  let f = a;
  let C = a;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    D = a + an * D;
    D = 1 / D;
    C = a + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

type Fn = { f: (x: number, a: number, b: number) => number; d: (x: number, a: number, b: number) => number };
const gtanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const cdf = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
const sig = (x: number) => 1 / (1 + Math.exp(-x));

export const UNARY_REF: Record<string, Fn> = {
  neg: { f: (x) => -x, d: () => -1 },
  exp: { f: Math.exp, d: Math.exp },
  log: { f: Math.log, d: (x) => 1 / x },
  sqrt: { f: Math.sqrt, d: (x) => 0.5 / Math.sqrt(x) },
  rsqrt: { f: (x) => 1 / Math.sqrt(x), d: (x) => -0.5 * x ** -1.5 },
  abs: { f: Math.abs, d: (x) => Math.sign(x) },
  square: { f: (x) => x * x, d: (x) => 2 * x },
  reciprocal: { f: (x) => 1 / x, d: (x) => -1 / (x * x) },
  sin: { f: Math.sin, d: Math.cos },
  cos: { f: Math.cos, d: (x) => -Math.sin(x) },
  tanh: { f: Math.tanh, d: (x) => 1 - Math.tanh(x) ** 2 },
  sigmoid: { f: sig, d: (x) => sig(x) * (1 - sig(x)) },
  relu: { f: (x) => Math.max(x, 0), d: (x) => (x > 0 ? 1 : 0) },
  erf: { f: erf64, d: (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) },
  gelu: { f: (x) => x * cdf(x), d: (x) => cdf(x) + x * pdf(x) },
  gelu_tanh: {
    f: gtanh,
    d: (x) => {
      const k = Math.sqrt(2 / Math.PI);
      const t = Math.tanh(k * (x + 0.044715 * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    },
  },
  affine: { f: (x, a, b) => x * a + b, d: (_x, a) => a },
  pow: { f: (x, a) => x ** a, d: (x, a) => a * x ** (a - 1) },
  clamp: { f: (x, a, b) => Math.min(Math.max(x, a), b), d: (x, a, b) => (x >= a && x <= b ? 1 : 0) },
};

export interface UnaryArgs {
  op: string;
  a?: number;
  b?: number;
}

export const unaryRef: RefOp<UnaryArgs> = {
  forward([x], { op, a = 0, b = 0 }) {
    const fn = UNARY_REF[op];
    return { shape: [...x.shape], data: x.data.map((v) => fn.f(v, a, b)) };
  },
  vjp([x], { op, a = 0, b = 0 }, up) {
    const fn = UNARY_REF[op];
    return [{ shape: [...x.shape], data: x.data.map((v, i) => fn.d(v, a, b) * up.data[i]) }];
  },
};

const BIN: Record<string, { f: (a: number, b: number) => number; da: (a: number, b: number) => number; db: (a: number, b: number) => number }> = {
  add: { f: (a, b) => a + b, da: () => 1, db: () => 1 },
  sub: { f: (a, b) => a - b, da: () => 1, db: () => -1 },
  mul: { f: (a, b) => a * b, da: (_a, b) => b, db: (a) => a },
  div: { f: (a, b) => a / b, da: (_a, b) => 1 / b, db: (a, b) => -a / (b * b) },
};

export const binaryRef: RefOp<{ op: string }> = {
  forward([a, b], { op }) {
    const shape = bcastShape(a.shape, b.shape);
    const out = refZeros(shape);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      out.data[i] = BIN[op].f(bcastGet(a, idx), bcastGet(b, idx));
    }
    return out;
  },
  vjp([a, b], { op }, up) {
    const shape = up.shape;
    const ga = refZeros(shape);
    const gb = refZeros(shape);
    for (let i = 0; i < up.data.length; i++) {
      const idx = unravel(i, shape);
      const x = bcastGet(a, idx);
      const y = bcastGet(b, idx);
      ga.data[i] = BIN[op].da(x, y) * up.data[i];
      gb.data[i] = BIN[op].db(x, y) * up.data[i];
    }
    return [sumToShape(ga, a.shape), sumToShape(gb, b.shape)];
  },
};

export const whereRef: RefOp<Record<string, never>> = {
  forward([c, a, b]) {
    const shape = bcastShape(c.shape, a.shape, b.shape);
    const out = refZeros(shape);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      out.data[i] = bcastGet(c, idx) !== 0 ? bcastGet(a, idx) : bcastGet(b, idx);
    }
    return out;
  },
  vjp([c, a, b], _args, up) {
    const ga = refZeros(up.shape);
    const gb = refZeros(up.shape);
    for (let i = 0; i < up.data.length; i++) {
      const on = bcastGet(c, unravel(i, up.shape)) !== 0;
      (on ? ga : gb).data[i] = up.data[i];
    }
    return [null, sumToShape(ga, a.shape), sumToShape(gb, b.shape)];
  },
};

export interface ReduceArgs {
  kind: 'sum' | 'mean' | 'amax';
  axes: number[];
  keepdim: boolean;
}

function reducedShape(shape: number[], axes: number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

export const reduceRef: RefOp<ReduceArgs> = {
  forward([x], { kind, axes, keepdim }) {
    const kshape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = refZeros(kshape);
    out.data.fill(kind === 'amax' ? -Infinity : 0);
    const count = sizeOfShape(axes.map((a) => x.shape[a]));
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
      let f = 0;
      for (let d = 0; d < kshape.length; d++) f = f * kshape[d] + idx[d];
      out.data[f] = kind === 'amax' ? Math.max(out.data[f], x.data[i]) : out.data[f] + x.data[i] / (kind === 'mean' ? count : 1);
    }
    return { shape: reducedShape(x.shape, axes, keepdim), data: out.data };
  },
  vjp([x], args, up) {
    const { kind, axes } = args;
    const kshape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const y = reduceRef.forward([x], { ...args, keepdim: true });
    const count = sizeOfShape(axes.map((a) => x.shape[a]));
    const g = refZeros(x.shape);
    const ties = new Float64Array(y.data.length);
    const flatOf = (i: number) => {
      const idx = unravel(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
      let f = 0;
      for (let d = 0; d < kshape.length; d++) f = f * kshape[d] + idx[d];
      return f;
    };
    if (kind === 'amax') for (let i = 0; i < x.data.length; i++) if (x.data[i] === y.data[flatOf(i)]) ties[flatOf(i)]++;
    for (let i = 0; i < x.data.length; i++) {
      const f = flatOf(i);
      if (kind === 'sum') g.data[i] = up.data[f];
      else if (kind === 'mean') g.data[i] = up.data[f] / count;
      else g.data[i] = x.data[i] === y.data[f] ? up.data[f] / ties[f] : 0;
    }
    return [g];
  },
};
