import { describe, expect, it } from 'vitest';
import { softDiceLoss, bceWithLogits, rpsam2DistanceLoss, tensor, type Tensor } from '../src/index.js';
import { refFrom, type Ref } from './reference/ref.js';
import { bceRef, distanceRef, softDiceRef } from './reference/loss.js';
import { checkOp } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(21);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const rand = (shape: number[], lo = -3, hi = 3) => refFrom(rng.array(size(shape), lo, hi), shape);
const mask = (shape: number[]) => refFrom(rng.array(size(shape)).map((v) => (v > 0 ? 1 : 0)), shape);

describe('softDiceLoss', () => {
  for (const perSample of [false, true]) {
    it(`${perSample ? 'per sample' : 'global'}: GPU vs reference (hard and soft targets)`, async () => {
      for (const shape of [[2, 1, 16, 16], [3, 7], [1, 1, 5, 9], [4, 2, 3, 1]]) {
        for (const target of [mask(shape), rand(shape, 0, 1)]) {
          await checkOp({
            gpu: ([l, t]) => softDiceLoss(l, t, { smooth: 1, perSample }),
            ref: softDiceRef,
            inputs: [rand(shape, -4, 4), target],
            args: { smooth: 1, perSample },
          });
        }
      }
      await checkOp({ gpu: ([l, t]) => softDiceLoss(l, t, { smooth: 0.5, perSample }), ref: softDiceRef, inputs: [rand([2, 6]), mask([2, 6])], args: { smooth: 0.5, perSample } });
    });
    it(`${perSample ? 'per sample' : 'global'}: reference vjp vs finite differences`, () => {
      checkVjpByFiniteDifferences(softDiceRef, [rand([3, 2, 4]), rand([3, 2, 4], 0, 1)], { smooth: 1, perSample });
    });
  }
});

describe('bceWithLogits', () => {
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: GPU vs reference, with and without a broadcast weight`, async () => {
      for (const shape of [[3, 9], [2, 1, 5, 7], [1], [130]]) {
        await checkOp({ gpu: ([x, t]) => bceWithLogits(x, t, { reduction }), ref: bceRef, inputs: [rand(shape, -6, 6), mask(shape)], args: { reduction } });
        // soft targets, and a weight broadcast over the leading dims
        const wShape = shape.slice(-1);
        await checkOp({
          gpu: ([x, t, w]) => bceWithLogits(x, t, { reduction, weight: w }),
          ref: bceRef,
          inputs: [rand(shape, -6, 6), rand(shape, 0, 1), rand(wShape, 0.2, 2)],
          args: { reduction },
        });
      }
    });
  }
  it('is stable for large logits', async () => {
    const x = refFrom([-100, -30, -8, -1e-3, 0, 1e-3, 8, 30, 100], [9]);
    const t = refFrom([0, 1, 0, 1, 0.5, 0, 1, 0, 1], [9]);
    await checkOp({ gpu: ([a, b]) => bceWithLogits(a, b, { reduction: 'none' }), ref: bceRef, inputs: [x, t], args: { reduction: 'none' } });
    // exp(−|x|) terms that 1 + e would lose in f32
    await checkOp({ gpu: ([a, b]) => bceWithLogits(a, b, { reduction: 'none' }), ref: bceRef, inputs: [refFrom([12, -12, 20], [3]), refFrom([1, 0, 1], [3])], args: { reduction: 'none' }, fwdTol: 1e-9 });
  });
  it('reference vjp vs finite differences', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      checkVjpByFiniteDifferences(bceRef, [rand([2, 5]), rand([2, 5], 0, 1), rand([5], 0.5, 2)], { reduction });
    }
  });
  it('rejects a target of another shape', () => {
    const x = tensor(new Float32Array(6), [2, 3]);
    const t = tensor(new Float32Array(3), [3]);
    expect(() => bceWithLogits(x, t)).toThrow(/bceWithLogits: target .* must have the shape of logits/);
    for (const v of [x, t]) v.dispose();
  });
});

/** Points and candidates with a clear argmin per point and no coordinate equal to its candidate's. */
function distanceInputs(np: number, ng: number): [Ref, Ref] {
  for (;;) {
    const p = rand([np, 2], 0, 1);
    const c = rand([ng, 2], 0, 1);
    const fwd = (i: number, j: number) => 0.5 * (Math.exp(15 * Math.abs(p.data[2 * i] - c.data[2 * j])) + Math.exp(15 * Math.abs(p.data[2 * i + 1] - c.data[2 * j + 1])) - 2);
    let ok = true;
    for (let i = 0; i < np && ok; i++) {
      const d = Array.from({ length: ng }, (_, j) => fwd(i, j)).sort((a, b) => a - b);
      if (ng > 1 && d[1] - d[0] < 1e-3 * Math.max(1, d[0])) ok = false;
    }
    if (ok) return [p, c];
  }
}

describe('rpsam2DistanceLoss', () => {
  it('GPU vs reference, gradients to points and candidates', async () => {
    for (const [np, ng] of [[4, 6], [1, 1], [9, 3], [70, 130], [3, 1]]) {
      const [p, c] = distanceInputs(np, ng);
      await checkOp({ gpu: ([a, b]) => rpsam2DistanceLoss(a, b, 15), ref: distanceRef, inputs: [p, c], args: { theta: 15 } });
    }
    const [p, c] = distanceInputs(5, 4);
    await checkOp({ gpu: ([a, b]) => rpsam2DistanceLoss(a, b, 4), ref: distanceRef, inputs: [p, c], args: { theta: 4 } });
  });
  it('no points gives an empty loss', async () => {
    await checkOp({ gpu: ([a, b]) => rpsam2DistanceLoss(a, b), ref: distanceRef, inputs: [rand([0, 2]), rand([3, 2], 0, 1)], args: { theta: 15 } });
  });
  it('reference vjp vs finite differences', () => {
    const [p, c] = distanceInputs(5, 7);
    checkVjpByFiniteDifferences(distanceRef, [p, c], { theta: 15 }, { h: 1e-7, tol: 1e-5 });
  });
  it('rejects bad shapes', () => {
    const p = tensor(new Float32Array(6), [3, 2]);
    const c = tensor(new Float32Array(6), [2, 3]);
    const none = tensor(new Float32Array(0), [0, 2]);
    expect(() => rpsam2DistanceLoss(p, c)).toThrow(/rpsam2DistanceLoss: points .* must be \[P, 2\] and \[G, 2\]/);
    expect(() => rpsam2DistanceLoss(p, none)).toThrow(/no candidates/);
    for (const t of [p, c, none] as Tensor[]) t.dispose();
  });
});
