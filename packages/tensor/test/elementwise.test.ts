import { describe, expect, it } from 'vitest';
import { unary, add, sub, mul, div, where, sum, mean, amax, tensor, argmax, argmaxOneHot, type Tensor, type UnaryOp } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { binaryRef, reduceRef, unaryRef, whereRef, UNARY_REF } from './reference/elementwise.js';
import fc from 'fast-check';
import { coalesceBroadcast } from '../src/ops/broadcast-map.js';
import { broadcastStrides } from '../src/tensor/shape.js';
import { checkOp } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(7);
const rand = (shape: number[], lo = -2, hi = 2) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
/** Inputs in the op's domain (positive for log/sqrt/pow), away from kinks for finite differences. */
const domain = (op: string): [number, number] => (['log', 'sqrt', 'rsqrt', 'pow', 'reciprocal'].includes(op) ? [0.3, 3] : [-3, 3]);
const ARGS: Record<string, [number, number]> = { affine: [1.5, -0.25], pow: [2.5, 0], clamp: [-0.5, 0.7] };

describe('unary ops', () => {
  for (const op of Object.keys(UNARY_REF)) {
    const [a, b] = ARGS[op] ?? [0, 0];
    it(`${op}: GPU vs reference on awkward shapes`, async () => {
      for (const shape of [[5], [3, 7], [1, 1, 13], [2, 0, 3], [], [67, 3]]) {
        const [lo, hi] = domain(op);
        await checkOp({ gpu: ([x]) => unary(op as UnaryOp, x, a, b), ref: unaryRef, inputs: [rand(shape, lo, hi)], args: { op, a, b } });
      }
    });
    it(`${op}: reference vjp vs finite differences`, () => {
      const [lo, hi] = domain(op);
      let x = rand([11], lo, hi);
      // keep away from non-differentiable points
      x = refFrom(x.data.map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : Math.abs(v - a) < 0.05 || Math.abs(v - b) < 0.05 ? v + 0.1 : v)), x.shape);
      checkVjpByFiniteDifferences(unaryRef, [x], { op, a, b });
    });
  }
  it('sin/cos stay accurate for large arguments (Fourier features)', async () => {
    const x = refFrom(Array.from({ length: 64 }, (_, i) => -80 + i * 2.5), [64]);
    await checkOp({ gpu: ([t]) => unary('sin', t), ref: unaryRef, inputs: [x], args: { op: 'sin' }, fwdTol: 2e-5 });
    await checkOp({ gpu: ([t]) => unary('cos', t), ref: unaryRef, inputs: [x], args: { op: 'cos' }, fwdTol: 2e-5 });
  });
  it('tanh and sigmoid do not overflow', async () => {
    const x = refFrom([-100, -50, -10, 0, 10, 50, 100], [7]);
    await checkOp({ gpu: ([t]) => unary('tanh', t), ref: unaryRef, inputs: [x], args: { op: 'tanh' } });
    await checkOp({ gpu: ([t]) => unary('sigmoid', t), ref: unaryRef, inputs: [x], args: { op: 'sigmoid' } });
  });
});

const FNS: Record<string, (a: Tensor, b: Tensor) => Tensor> = { add, sub, mul, div };
const PAIRS: [number[], number[]][] = [
  [[3, 5], [3, 5]],
  [[4, 1, 6], [5, 1]],
  [[7], [2, 3, 7]],
  [[1], [9]],
  [[], [2, 3]],
  [[2, 1, 3, 1], [1, 5, 1, 4]],
  [[0, 3], [1, 3]],
  [[130, 1], [1, 67]],
  // last dim a multiple of 4: the vec4 broadcast kernel (inner dim broadcast or not)
  [[2, 8, 4], [8, 1]],
  [[3, 1, 8], [5, 8]],
  [[1, 6, 4, 4], [1, 6, 1, 1]],
  // coalesced before the index math: [2, 3, 32] + [1, 3, 1]; [5, 4] + [1, 4] (a row along the last dim)
  [[2, 3, 4, 8], [3, 1, 1]],
  [[5, 4], [4]],
  [[2, 1, 3, 8], [1, 4, 1, 8]],
];

describe('binary ops with broadcasting', () => {
  it('the index math runs over coalesced dims: size-1 output dims dropped, dims merged where every input is full along both or broadcast along both', () => {
    expect(coalesceBroadcast([1, 256, 64, 64], [[1, 256, 64, 64], [1, 256, 1, 1]])).toEqual({ out: [256, 4096], ins: [[256, 4096], [256, 1]] });
    expect(coalesceBroadcast([2, 3, 4, 8], [[2, 3, 4, 8], [3, 1, 1]])).toEqual({ out: [2, 3, 32], ins: [[2, 3, 32], [1, 3, 1]] });
    expect(coalesceBroadcast([5, 4], [[5, 4], [4]])).toEqual({ out: [5, 4], ins: [[5, 4], [1, 4]] });
    expect(coalesceBroadcast([2, 4, 3, 8], [[2, 1, 3, 8], [1, 4, 1, 8]])).toEqual({ out: [2, 4, 3, 8], ins: [[2, 1, 3, 8], [1, 4, 1, 8]] });
    expect(coalesceBroadcast([3, 7], [[3, 7], [3, 7], []])).toEqual({ out: [21], ins: [[21], [21], [1]] });
    expect(coalesceBroadcast([1, 1], [[1, 1], [1]])).toEqual({ out: [1], ins: [[1], [1]] });
  });
  it('property: coalescing keeps every output element reading the same input elements; GPU add and mul match the reference', async () => {
    // an output shape (dims multiples of 4 now and then, for the vec4 kernel) and two or three
    // inputs that broadcast to it: leading dims dropped, others set to 1
    const dim = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(4, 8));
    const caseArb = fc
      .array(dim, { minLength: 1, maxLength: 5 })
      .chain((out) => fc.tuple(fc.constant(out), fc.array(fc.tuple(fc.nat(out.length), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })), { minLength: 2, maxLength: 3 })))
      .map(([out, specs]) => ({ out, ins: specs.map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))) }));
    const offsets = (out: number[], ins: number[][]) => {
      const st = ins.map((s) => broadcastStrides(s, out));
      const size = out.reduce((a, b) => a * b, 1);
      return Array.from({ length: size }, (_, i) => {
        let rem = i;
        const o = ins.map(() => 0);
        for (let d = out.length - 1; d >= 0; d--) {
          const x = rem % out[d];
          rem = Math.floor(rem / out[d]);
          st.forEach((s, k) => (o[k] += x * s[d]));
        }
        return o.join(',');
      });
    };
    fc.assert(
      fc.property(caseArb, ({ out, ins }) => {
        const c = coalesceBroadcast(out, ins);
        expect(c.out.reduce((a, b) => a * b, 1)).toBe(out.reduce((a, b) => a * b, 1));
        expect(offsets(c.out, c.ins)).toEqual(offsets(out, ins));
      }),
      { seed: 7, numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ ins }) => {
        const [a, b] = [rand(ins[0]), rand(ins[1])];
        for (const op of ['add', 'mul']) await checkOp({ gpu: ([x, y]) => FNS[op](x, y), ref: binaryRef, inputs: [a, b], args: { op } });
      }),
      { seed: 7, numRuns: 40 },
    );
  });
  for (const op of Object.keys(FNS)) {
    it(`${op}: GPU vs reference`, async () => {
      for (const [sa, sb] of PAIRS) {
        const b = op === 'div' ? refFrom(rand(sb, 0.5, 2).data, sb) : rand(sb);
        await checkOp({ gpu: ([x, y]) => FNS[op](x, y), ref: binaryRef, inputs: [rand(sa), b], args: { op } });
      }
    });
    it(`${op}: reference vjp vs finite differences`, () => {
      checkVjpByFiniteDifferences(binaryRef, [rand([4, 1, 3]), refFrom(rand([5, 1], 0.5, 2).data, [5, 1])], { op });
    });
  }
  it('where: GPU vs reference, and vjp vs finite differences', async () => {
    const cond = refFrom(rng.array(24).map((v) => (v > 0 ? 1 : 0)), [3, 8]);
    await checkOp({ gpu: ([c, a, b]) => where(c, a, b), ref: whereRef, inputs: [cond, rand([3, 8]), rand([8])], args: {}, grads: [1, 2] });
    checkVjpByFiniteDifferences(whereRef, [cond, rand([3, 8]), rand([1, 8])], {}, { grads: [1, 2] });
  });
});

describe('reductions', () => {
  const fns = { sum, mean, amax };
  const cases: [number[], number[], boolean][] = [
    [[3, 5, 7], [0], true],
    [[3, 5, 7], [1], false],
    [[3, 5, 7], [2], false],
    [[3, 5, 7], [0, 2], true],
    [[3, 5, 7], [0, 1, 2], false],
    [[2, 1000], [1], false],
    [[1000, 3], [0], true],
    [[1, 1, 5], [2], false],
    [[4, 300, 2], [1], false],
  ];
  for (const kind of ['sum', 'mean', 'amax'] as const) {
    it(`${kind}: GPU vs reference over axis sets`, async () => {
      for (const [shape, axes, keepdim] of cases) {
        await checkOp({ gpu: ([x]) => fns[kind](x, axes, keepdim), ref: reduceRef, inputs: [rand(shape)], args: { kind, axes, keepdim } });
      }
    });
    it(`${kind}: reference vjp vs finite differences`, () => {
      checkVjpByFiniteDifferences(reduceRef, [rand([3, 4, 5])], { kind, axes: [0, 2], keepdim: false });
    });
  }
  it('amax shares the gradient among ties', async () => {
    const x = refFrom([1, 3, 3, 2, 5, 5], [2, 3]);
    await checkOp({ gpu: ([t]) => amax(t, 1), ref: reduceRef, inputs: [x], args: { kind: 'amax', axes: [1], keepdim: false } });
  });
});

describe('argmax', () => {
  it('first maximum along the last axis, as indices and one-hot (ties → first)', async () => {
    const rows = [
      [1, 3, 3, 2],
      [5, -1, 5, 5],
      [-2, -3, -1, -7],
    ];
    const x = tensor(rows.flat(), [3, 4]);
    const idx = argmax(x);
    const oh = argmaxOneHot(x);
    const want = rows.map((r) => r.indexOf(Math.max(...r)));
    expect(idx.dtype).toBe('i32');
    expect(Array.from(await idx.intData())).toEqual(want);
    expect(Array.from(await oh.data())).toEqual(want.flatMap((j) => [0, 1, 2, 3].map((k) => (k === j ? 1 : 0))));
    const one = tensor([4], [1, 1]);
    const ohOne = argmaxOneHot(one);
    expect(Array.from(await ohOne.data())).toEqual([1]);
    for (const t of [x, idx, oh, one, ohOne]) t.dispose();
  });
});
