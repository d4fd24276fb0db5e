import { describe, it } from 'vitest';
import { softmax, logSoftmax } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { softmaxRef } from './reference/nn.js';
import { checkOp } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[], lo = -3, hi = 3) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);

const CASES: [number[], number][] = [
  [[5], -1],
  [[3, 7], -1],
  [[3, 7], 0],
  [[4, 1], -1], // rows of length 1
  [[1, 1, 13], 2],
  [[2, 9, 5], 1], // axis not last
  [[6, 4, 33], -1],
  [[3, 300], -1], // long rows: a workgroup per row
  [[2, 1000, 3], 1], // long strided rows
  [[2, 0, 3], 2], // empty
  [[2, 3, 0], 1], // empty rows
  [[], 0], // scalar
];

describe('softmax / log_softmax', () => {
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    const fn = log ? logSoftmax : softmax;
    it(`${name}: GPU vs reference over axes and awkward shapes`, async () => {
      for (const [shape, axis] of CASES) {
        await checkOp({ gpu: ([x]) => fn(x, axis), ref: softmaxRef, inputs: [rand(shape)], args: { axis, log } });
      }
    });
    it(`${name}: stable for large inputs`, async () => {
      const x = refFrom([1000, 999, -1000, 50, 0, 88, 89, 90], [2, 4]);
      await checkOp({ gpu: ([t]) => fn(t, -1), ref: softmaxRef, inputs: [x], args: { axis: -1, log } });
      const long = refFrom(rng.array(600, 80, 120), [600]);
      await checkOp({ gpu: ([t]) => fn(t, 0), ref: softmaxRef, inputs: [long], args: { axis: 0, log } });
    });
    it(`${name}: reference vjp vs finite differences`, () => {
      checkVjpByFiniteDifferences(softmaxRef, [rand([3, 4, 5])], { axis: 1, log });
      checkVjpByFiniteDifferences(softmaxRef, [rand([2, 6])], { axis: -1, log });
    });
  }
});
