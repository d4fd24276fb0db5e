import { describe, expect, it } from 'vitest';
import {
  permute,
  transpose,
  slice,
  narrow,
  cat,
  stack,
  pad,
  repeatInterleave,
  gatherRows,
  split,
  expand,
  tensor,
  tidy,
  getBackend,
  profile,
  type SliceSpec,
} from '../src/index.js';
import { parseIndex } from '../src/testing/adapters/shape.js';
import { refFrom, sizeOfShape, type Ref } from './reference/ref.js';
import {
  catRef,
  gatherRowsRef,
  padRef,
  permuteRef,
  repeatInterleaveRef,
  sliceRef,
  splitRef,
  stackRef,
  type RefSliceSpec,
} from './reference/shape.js';
import { checkOp, expectForward } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => refFrom(rng.array(sizeOfShape(shape), -2, 2), shape);
const indices = (values: number[]) => refFrom(values, [values.length]);

/** Library slice specs from the reference's [start, end, step] triples. */
const toSpecs = (specs: RefSliceSpec[]): SliceSpec[] =>
  specs.map((s) => (s === null || typeof s === 'number' ? s : { start: s[0] ?? undefined, end: s[1] ?? undefined, step: s[2] ?? undefined }));

describe('permute and transpose', () => {
  const cases: [number[], number[]][] = [
    [[], []],
    [[5], [0]],
    [[3, 7], [1, 0]],
    [[2, 1, 3], [2, 0, 1]],
    [[2, 3, 4, 5], [0, 2, 3, 1]],
    [[2, 1, 3, 2, 5], [4, 2, 0, 3, 1]],
    [[1, 5, 1], [2, 1, 0]],
    [[2, 0, 3], [2, 0, 1]],
    [[3, 4, 5], [-1, 0, -2]],
    [[33, 65], [1, 0]],
    [[2, 3, 1, 70], [3, 1, 2, 0]],
  ];
  it('permute: GPU vs reference (rank 0..5, size-1 and empty dims, negative dims)', async () => {
    for (const [shape, dims] of cases) await checkOp({ gpu: ([x]) => permute(x, dims), ref: permuteRef, inputs: [rand(shape)], args: { dims } });
  });
  it('transpose: GPU vs reference', async () => {
    const tcases: [number[], number, number][] = [
      [[2, 3, 5, 4], -1, -2],
      [[7], 0, 0],
      [[], 0, -1],
      [[4, 1, 6], 0, 2],
      [[3, 5], 1, 0],
    ];
    for (const [shape, a, b] of tcases) {
      const dims = [...shape.keys()];
      if (shape.length) [dims[(a + shape.length) % shape.length], dims[(b + shape.length) % shape.length]] = [(b + shape.length) % shape.length, (a + shape.length) % shape.length];
      await checkOp({ gpu: ([x]) => transpose(x, a, b), ref: permuteRef, inputs: [rand(shape)], args: { dims } });
    }
  });
  it('copy kernels by layout: 4×4 blocks for transposes, vec4 loads for aligned contiguous runs, the general kernel otherwise', async () => {
    const cases: [number[], number[], string][] = [
      [[8, 12], [1, 0], 'copy:transpose4'],
      [[3, 4, 20], [0, 2, 1], 'copy:transpose4'],
      [[2, 4, 6, 8], [0, 3, 1, 2], 'copy:transpose4'], // [2, 24, 8] → [2, 8, 24]
      [[2, 3, 4, 8], [0, 2, 1, 3], 'copy:r4:plain:gather:v4l'], // window-partition-like: runs of 8
      [[6, 4, 2], [1, 0, 2], 'copy:r3:plain:gather'], // runs of 2: not whole vec4s
      [[8, 5], [1, 0], 'copy:r2:plain:gather:v4'], // a transpose of 5 columns: element loads, vec4 stores
      [[3, 5], [1, 0], 'copy:r2:plain:gather'],
    ];
    for (const [shape, dims, key] of cases) {
      const x = rand(shape);
      const tx = tensor(x.data, x.shape);
      const { result, report } = await profile(() => permute(tx, dims));
      expect(report.entries.map((e) => e.kernel), `${shape} ${dims}`).toEqual([key]);
      await expectForward(result, permuteRef.forward([x], { dims }), `permute ${shape} by ${dims}`, 1e-6);
      tx.dispose();
      result.dispose();
    }
    // a slice starting off a multiple of 4 keeps the element loads
    const x = rand([4, 16]);
    const tx = tensor(x.data, x.shape);
    for (const [start, key] of [[4, 'copy:r2:plain:gather:v4l'], [2, 'copy:r2:plain:gather:v4']] as const) {
      const { result, report } = await profile(() => slice(tx, [{ start: 1 }, { start, end: start + 8 }]));
      expect(report.entries.map((e) => e.kernel)).toEqual([key]);
      await expectForward(result, sliceRef.forward([x], { specs: [[1, null, null], [start, start + 8, null]] }), `slice from ${start}`, 1e-6);
      result.dispose();
    }
    tx.dispose();
  });
  it('permute moves i32 data too', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'i32' });
    const y = permute(x, [1, 0]);
    expect(y.dtype).toBe('i32');
    expect(Array.from(await y.intData())).toEqual([1, 4, 2, 5, 3, 6]);
    x.dispose();
    y.dispose();
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(permuteRef, [rand([2, 3, 4])], { dims: [2, 0, 1] });
  });
});

describe('slice', () => {
  const cases: [number[], RefSliceSpec[]][] = [
    [[2, 4, 5, 5], [null, [1, 3, null], [null, null, 2], [1, null, null]]],
    [[7], [[-5, -1, null]]],
    [[7], [[null, null, 3]]],
    [[7], [[5, 2, null]]],
    [[9, 6], [[-100, 100, 4], -1]],
    [[3, 4, 5], [1]],
    [[3, 4, 5], [-1, [1, null, 2], 0]],
    [[2, 1, 3, 2, 5], [null, 0, [null, null, 2], null, [1, 4, null]]],
    [[], []],
    [[4, 0, 3], [[1, 3, null]]],
    [[5, 70], [[1, 4, 2], [3, 67, 1]]],
  ];
  it('GPU vs reference (negative bounds, steps, selections, empty results)', async () => {
    for (const [shape, specs] of cases) {
      await checkOp({ gpu: ([x]) => slice(x, toSpecs(specs)), ref: sliceRef, inputs: [rand(shape)], args: { specs } });
    }
  });
  it('parses the fixture index form', () => {
    expect(parseIndex('[:, 1:3, ::2, 1:]', 4)).toEqual([
      { start: undefined, end: undefined, step: undefined },
      { start: 1, end: 3, step: undefined },
      { start: undefined, end: undefined, step: 2 },
      { start: 1, end: undefined, step: undefined },
    ]);
    expect(parseIndex('[0, ..., -2:]', 4)).toEqual([0, null, null, { start: -2, end: undefined, step: undefined }]);
  });
  it('narrow is a slice of one dim', async () => {
    await checkOp({ gpu: ([x]) => narrow(x, -2, 1, 3), ref: sliceRef, inputs: [rand([2, 5, 3])], args: { specs: [null, [1, 4, null]] } });
    await checkOp({ gpu: ([x]) => narrow(x, 0, -2, 2), ref: sliceRef, inputs: [rand([4, 3])], args: { specs: [[2, 4, null]] } });
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(sliceRef, [rand([4, 5, 3])], { specs: [[1, null, 2], -2, [null, 2, null]] });
  });
});

describe('cat and stack', () => {
  it('cat: three tensors with one empty, negative axis, first axis', async () => {
    const cases: [number[][], number][] = [
      [[[2, 3, 4], [2, 0, 4], [2, 5, 4]], 1],
      [[[2, 3, 4], [2, 3, 1], [2, 3, 7]], -1],
      [[[3, 5], [1, 5], [4, 5]], 0],
      [[[6], [0], [3]], 0],
      [[[2, 3], [2, 3]], -2],
      [[[1, 2, 1, 3], [1, 2, 2, 3]], 2],
    ];
    for (const [shapes, axis] of cases) {
      await checkOp({ gpu: (xs) => cat(xs, axis), ref: catRef, inputs: shapes.map(rand), args: { axis } });
    }
  });
  it('cat passes gradients only to inputs that require them', async () => {
    await checkOp({ gpu: (xs) => cat(xs, 1), ref: catRef, inputs: [rand([3, 2]), rand([3, 5]), rand([3, 1])], args: { axis: 1 }, grads: [1] });
  });
  it('stack: GPU vs reference', async () => {
    const cases: [number[], number, number][] = [
      [[3, 4], 0, 2],
      [[3, 4], -1, 3],
      [[2, 5, 3], 1, 3],
      [[], 0, 4],
      [[2, 0], 1, 2],
    ];
    for (const [shape, axis, k] of cases) {
      await checkOp({ gpu: (xs) => stack(xs, axis), ref: stackRef, inputs: Array.from({ length: k }, () => rand(shape)), args: { axis } });
    }
  });
  it('cat and pad of i32 tensors', async () => {
    const a = tensor([1, 2, 3, 4], [2, 2], { dtype: 'i32' });
    const b = tensor([5, 6], [2, 1], { dtype: 'i32' });
    const y = cat([a, b], 1);
    expect(Array.from(await y.intData())).toEqual([1, 2, 5, 3, 4, 6]);
    const p = pad(b, [1, 0, 0, 1], -7);
    expect(Array.from(await p.intData())).toEqual([-7, 5, -7, 6, -7, -7]);
    for (const t of [a, b, y, p]) t.dispose();
  });
  it('reference vjps vs finite differences', () => {
    checkVjpByFiniteDifferences(catRef, [rand([2, 3]), rand([2, 1]), rand([2, 2])], { axis: -1 });
    checkVjpByFiniteDifferences(stackRef, [rand([2, 3]), rand([2, 3])], { axis: 1 });
  });
});

describe('pad', () => {
  const cases: [number[], number[], number][] = [
    [[2, 3, 4, 5], [1, 2, 0, 3], 0],
    [[2, 3, 4, 5], [-1, 2, 3, -2], 0],
    [[6], [2, -3], 1.5],
    [[3, 4], [0, 0, -1, -2], 0],
    [[3, 4], [-2, -2], 0],
    [[2, 0, 3], [1, 1, 2, 0, 1, 1], -2],
    [[5, 70], [3, 1], 0.25],
    [[], [], 0],
  ];
  it('GPU vs reference (pads, crops, both, values, empty)', async () => {
    for (const [shape, p, value] of cases) {
      await checkOp({ gpu: ([x]) => pad(x, p, value), ref: padRef, inputs: [rand(shape)], args: { pad: p, value } });
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(padRef, [rand([3, 4, 5])], { pad: [-1, 2, 1, -2], value: 0.5 });
  });
  it('a gather larger than the largest binding is split into several dispatches', async () => {
    const backend = getBackend();
    // Pretend the device binds at most 1 KiB: the 2 160-byte output needs three dispatches, whose
    // boundaries fall inside rows and inside 4-element runs.
    Object.defineProperty(backend, 'maxBinding', { get: () => 1024, configurable: true });
    try {
      const x = rand([3, 5, 7]);
      const args = { pad: [6, 7, 2, 2], value: 3 };
      const xt = tensor(x.data, x.shape);
      const y = pad(xt, args.pad, args.value);
      await expectForward(y, padRef.forward([x], args));
      // A contiguous block is a buffer copy, which no binding limit applies to.
      const big = tensor(Float32Array.from({ length: 300 }, (_, i) => i), [300]);
      const part = narrow(big, 0, 10, 280);
      expect(Array.from(await part.data())).toEqual(Array.from({ length: 280 }, (_, i) => i + 10));
      const v = big.view([10, 30]);
      expect(() => pad(v, [1, 1])).toThrow(/pad: input tensor #\d+ \[10, 30\] f32 takes 1200 bytes, more than the device's largest storage binding \(1024\)/);
      for (const t of [xt, y, big, v, part]) t.dispose();
    } finally {
      delete (backend as unknown as { maxBinding?: number }).maxBinding;
    }
    expect(backend.maxBinding).toBeGreaterThan(1024);
  });
});

describe('repeatInterleave', () => {
  const cases: [number[], number, number | undefined][] = [
    [[2, 3, 4], 3, 0],
    [[2, 3, 4], 2, -1],
    [[2, 3, 4], 5, 1],
    [[5], 1, 0],
    [[2, 3], 4, undefined],
    [[3, 2], 0, 1],
  ];
  it('GPU vs reference', async () => {
    for (const [shape, repeats, axis] of cases) {
      await checkOp({ gpu: ([x]) => repeatInterleave(x, repeats, axis), ref: repeatInterleaveRef, inputs: [rand(shape)], args: { repeats, axis } });
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(repeatInterleaveRef, [rand([2, 3])], { repeats: 3, axis: 1 });
  });
});

describe('gatherRows', () => {
  const cases: [number[], number[]][] = [
    [[6, 5], [4, 1, 1, 0, 4, 4, 5]],
    [[7], [6, 0, 6]],
    [[5, 3, 7], [2, 2, 0]],
    [[4, 3], []],
    [[4, 3], [-1, 4, 2]],
    [[70, 2], Array.from({ length: 100 }, (_, i) => (i * 37) % 70)],
  ];
  it('GPU vs reference, duplicate indices add their gradients', async () => {
    for (const [shape, idx] of cases) {
      await checkOp({ gpu: ([x, i]) => gatherRows(x, i), ref: gatherRowsRef, inputs: [rand(shape), indices(idx)], args: {}, intInputs: [1], grads: [0] });
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(gatherRowsRef, [rand([4, 3]), indices([3, 0, 3, 3])], {}, { grads: [0] });
  });
});

describe('split', () => {
  it('each piece is its own op; pieces cover the tensor', async () => {
    const cases: [number[], number | number[], number, number[]][] = [
      [[7, 3], 3, 0, [3, 3, 1]],
      [[2, 6, 4], [2, 0, 4], 1, [2, 0, 4]],
      [[2, 5], [1, 4], -1, [1, 4]],
    ];
    for (const [shape, sizes, axis, resolved] of cases) {
      for (let piece = 0; piece < resolved.length; piece++) {
        await checkOp({ gpu: ([x]) => split(x, sizes, axis)[piece], ref: splitRef, inputs: [rand(shape)], args: { sizes: resolved, axis, piece } });
      }
      // cat(split(x)) is x, and the gradients of all pieces add up.
      const dims = shape.map((_, i) => i);
      await checkOp({ gpu: ([x]) => cat(split(x, sizes, axis), axis), ref: permuteRef, inputs: [rand(shape)], args: { dims } });
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(splitRef, [rand([3, 5])], { sizes: [2, 3], axis: 1, piece: 1 });
  });
});

describe('expand', () => {
  /** x [1, 3, 1] broadcast to [2, 3, 4] in float64, and its vjp (sums over the broadcast axes). */
  const expandRef = {
    forward([x]: Ref[], { shape }: { shape: number[] }): Ref {
      const out = new Float64Array(sizeOfShape(shape));
      const [, c] = x.shape;
      for (let i = 0; i < out.length; i++) out[i] = x.data[Math.floor(i / shape[2]) % c];
      return { shape, data: out };
    },
    vjp([x]: Ref[], { shape }: { shape: number[] }, up: Ref): Ref[] {
      const g = new Float64Array(x.data.length);
      for (let i = 0; i < up.data.length; i++) g[Math.floor(i / shape[2]) % x.shape[1]] += up.data[i];
      return [{ shape: x.shape, data: g }];
    },
  };
  it('broadcasts (a copy), with the gradient summed over the broadcast axes', async () => {
    await checkOp({ gpu: ([x]) => expand(x, [2, 3, 4]), ref: expandRef, inputs: [rand([1, 3, 1])], args: { shape: [2, 3, 4] } });
  });
  it('to its own shape: a view (no dispatch), the same values and gradient', async () => {
    const x = tensor(Float32Array.from([1, -2, 3, 4, 5, -6]), [1, 2, 3]);
    const before = getBackend().dispatchCount;
    const y = expand(x, [1, -1, 3]);
    expect(getBackend().dispatchCount).toBe(before);
    expect(y.shape).toEqual([1, 2, 3]);
    expect([...(await y.data())]).toEqual([1, -2, 3, 4, 5, -6]);
    await checkOp({ gpu: ([t]) => expand(t, [1, 2, 3]), ref: { forward: ([t]: Ref[]) => t, vjp: (_i: Ref[], _a: unknown, up: Ref) => [up] }, inputs: [rand([1, 2, 3])], args: {} });
    x.dispose();
    y.dispose();
  });
});

describe('errors name the op, the argument and the shapes', () => {
  it('bad dims, indices, shapes and dtypes', () => {
    tidy(() => {
      const x = tensor(new Float32Array(24), [2, 3, 4], { name: 'x' });
      const y = tensor(new Float32Array(8), [2, 4], { name: 'y' });
      const h = tensor(new Float32Array(4), [4], { dtype: 'f16', name: 'h' });
      const fi = tensor([0, 1], [2], { name: 'fi' });
      expect(() => permute(x, [0, 1])).toThrow(/permute: dims \[0,1\] must list each of the 3 axes of tensor 'x' \[2, 3, 4\] f32 once/);
      expect(() => permute(x, [0, 1, -2])).toThrow(/permute: dims \[0, 1, -2\] repeat an axis/);
      expect(() => transpose(x, 0, 3)).toThrow(/transpose: axis 3 is out of range for a tensor of rank 3/);
      expect(() => slice(x, [0, 3])).toThrow(/slice: index 3 is out of range for dim 1 of size 3 \(tensor 'x' \[2, 3, 4\] f32\)/);
      expect(() => slice(x, [null, { step: 0 }])).toThrow(/slice: step 0 of dim 1 must be a positive integer/);
      expect(() => slice(x, [0, 0, 0, 0])).toThrow(/slice: 4 index specs given for tensor 'x' \[2, 3, 4\] f32 of rank 3/);
      expect(() => cat([x, y], 1)).toThrow(/cat: tensors\[1\] \[2, 4\] does not match tensors\[0\] \[2, 3, 4\] outside dim 1/);
      expect(() => cat([], 0)).toThrow(/cat: expects a non-empty array of tensors/);
      expect(() => stack([y, x])).toThrow(/stack: tensors\[1\] \[2, 3, 4\] differs from tensors\[0\] \[2, 4\]/);
      expect(() => pad(x, [1, 2, 3])).toThrow(/pad: pad \[1,2,3\] must be an even number/);
      expect(() => pad(y, [-3, -2])).toThrow(/pad: pad \[-3, -2\] crops dim 1 of tensor 'y' \[2, 4\] f32 below zero \(4 \+ -3 \+ -2\)/);
      expect(() => repeatInterleave(x, -1, 0)).toThrow(/repeatInterleave: repeats -1 must be a non-negative integer/);
      expect(() => gatherRows(x, fi)).toThrow(/gatherRows: argument 'indices' \(tensor 'fi' \[2\] f32\) must have dtype i32/);
      expect(() => split(x, [1, 1], 1)).toThrow(/split: sizes \[1, 1\] must be non-negative integers adding up to dim 1 of tensor 'x' \[2, 3, 4\] f32 \(3\)/);
      expect(() => permute(h, [0])).toThrow(/permute: argument 'x' \(tensor 'h' \[4\] f16\) must have dtype f32 or i32/);
    });
  });
});
