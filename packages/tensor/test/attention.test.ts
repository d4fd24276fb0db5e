import { describe, expect, it } from 'vitest';
import { scaledDotProductAttention, tensor, backward, getBackend, type Tensor } from '../src/index.js';
import { refFrom, type Ref } from './reference/ref.js';
import { attentionRef } from './reference/nn.js';
import { checkOp, maxAbsError, relL2Error } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(3);
const rand = (shape: number[], lo = -2, hi = 2) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);

/** [lead dims, Lq, Lk, D, Dv] */
const CASES: [number[], number, number, number, number][] = [
  [[1, 1], 7, 7, 16, 16],
  [[2, 3], 1, 1, 8, 8], // Lq = Lk = 1
  [[1, 2], 1, 9, 5, 5], // one query, D not a multiple of 4
  [[1, 2], 9, 1, 5, 5], // one key
  [[3, 4], 5, 33, 8, 8],
  [[1, 2], 64, 64, 72, 72], // SAM 2 windowed head dim
  [[2, 1], 70, 130, 6, 10], // several query blocks and key tiles, Dv ≠ D
  [[1, 1], 3, 5, 128, 128], // large head dim
  [[2], 10, 11, 12, 12], // rank 3
  [[1, 1], 67, 200, 32, 32],
];

describe('scaledDotProductAttention', () => {
  it('GPU vs reference (forward and backward) on awkward shapes', async () => {
    for (const [lead, lq, lk, d, dv] of CASES) {
      const inputs = [rand([...lead, lq, d]), rand([...lead, lk, d]), rand([...lead, lk, dv])];
      await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v), ref: attentionRef, inputs, args: {} });
    }
  });
  it('custom scale and peaked softmax', async () => {
    const inputs = [rand([1, 2, 9, 8]), rand([1, 2, 17, 8]), rand([1, 2, 17, 8])];
    await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v, { scale: 3 }), ref: attentionRef, inputs, args: { scale: 3 } });
  });
  it('empty batch and no queries', async () => {
    await checkOp({
      gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v),
      ref: attentionRef,
      inputs: [rand([0, 2, 3, 4]), rand([0, 2, 5, 4]), rand([0, 2, 5, 4])],
      args: {},
    });
    await checkOp({
      gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v),
      ref: attentionRef,
      inputs: [rand([1, 2, 0, 4]), rand([1, 2, 5, 4]), rand([1, 2, 5, 4])],
      args: {},
    });
  });
  it('names the op and shapes in errors', () => {
    const q = tensor(new Float32Array(24), [1, 2, 3, 4]);
    const k = tensor(new Float32Array(30), [1, 2, 3, 5]);
    try {
      expect(() => scaledDotProductAttention(q, k, k)).toThrow(/scaledDotProductAttention: k's head dim must equal q's; got q \[1, 2, 3, 4\], k \[1, 2, 3, 5\]/);
    } finally {
      q.dispose();
      k.dispose();
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(attentionRef, [rand([2, 3, 4]), rand([2, 5, 4]), rand([2, 5, 3])], {});
    checkVjpByFiniteDifferences(attentionRef, [rand([1, 1, 2]), rand([1, 3, 2]), rand([1, 3, 2])], { scale: 0.7 });
  });
});
