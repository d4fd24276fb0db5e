import { describe, expect, it } from 'vitest';
import { samplePoints, tensor, type Tensor } from '../src/index.js';
import { refFrom, type Ref } from './reference/ref.js';
import { samplePointsRef } from './reference/resample.js';
import { checkOp } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(5);
const rand = (shape: number[], lo = -2, hi = 2) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
const gpu = ([img, pts]: Tensor[]) => samplePoints(img, pts);

/**
 * Random points in [lo, hi]², nudged off the pixel-centre lines x·W − 0.5 ∈ ℤ where the
 * bilinear surface has kinks (the point gradient is one-sided there).
 */
function points(shape: number[], h: number, w: number, lo = 0, hi = 1): Ref {
  const r = rand(shape, lo, hi);
  for (let i = 0; i < r.data.length; i++) {
    const size = i % 2 === 0 ? w : h;
    const f = r.data[i] * size - 0.5;
    if (Math.abs(f - Math.round(f)) < 0.02) r.data[i] += 0.05 / size;
  }
  return r;
}

describe('samplePoints', () => {
  it('GPU vs reference, forward and gradients to image and points', async () => {
    const cases: [number[], number[]][] = [
      [[1, 1, 12, 16], [1, 1, 5, 2]],
      [[2, 3, 7, 9], [2, 5, 2]],
      [[1, 1, 1, 1], [1, 4, 2]],
      [[3, 5, 13, 6], [3, 2, 7, 2]],
      [[1, 2, 33, 65], [1, 300, 2]],
      [[2, 4, 5, 5], [2, 0, 2]],
    ];
    for (const [is, ps] of cases) {
      await checkOp({ gpu, ref: samplePointsRef, inputs: [rand(is), points(ps, is[2], is[3])], args: {} });
    }
  });

  it('points on the border and outside the image read zero padding', async () => {
    const h = 6;
    const w = 8;
    // corners of the [0, 1] square, edges, just inside/outside, and far outside
    const coords = [0, 0, 1, 1, 0, 1, 1, 0, 0.5, 0, 0.03, 0.97, -0.04, 0.5, 1.05, 0.3, -0.2, -0.3, 1.3, 1.6, 7, -9, 0.995, 0.002];
    const pts = refFrom(coords, [1, coords.length / 2, 2]);
    await checkOp({ gpu, ref: samplePointsRef, inputs: [rand([1, 3, h, w]), pts], args: {} });
    const far = tensor([5, 5, -3, 0.5], [1, 2, 2]);
    const img = tensor(new Float32Array(h * w).fill(1), [1, 1, h, w]);
    const y = samplePoints(img, far);
    expect(Array.from(await y.data())).toEqual([0, 0]);
    for (const t of [far, img, y]) t.dispose();
  });

  it('reproduces the image at pixel centres (forward)', async () => {
    const img = rand([1, 2, 4, 5]);
    const coords: number[] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) coords.push((x + 0.5) / 5, (y + 0.5) / 4);
    const pts = refFrom(coords, [1, 20, 2]);
    await checkOp({ gpu, ref: samplePointsRef, inputs: [img, pts], args: {}, grads: [0] });
    const want = samplePointsRef.forward([img, pts], {});
    want.data.forEach((v, i) => expect(v).toBeCloseTo(img.data[i], 12));
  });

  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(samplePointsRef, [rand([2, 2, 5, 7]), points([2, 6, 2], 5, 7, -0.1, 1.1)], {});
    checkVjpByFiniteDifferences(samplePointsRef, [rand([1, 3, 4, 4]), points([1, 2, 3, 2], 4, 4)], {});
  });

  it('rejects mismatched shapes with messages naming the op', () => {
    const img = tensor(new Float32Array(12), [1, 1, 3, 4]);
    const bad = tensor(new Float32Array(6), [1, 2, 3]);
    const otherN = tensor(new Float32Array(4), [2, 1, 2]);
    expect(() => samplePoints(img, bad)).toThrow(/samplePoints: points/);
    expect(() => samplePoints(img, otherN)).toThrow(/N = 1/);
    for (const t of [img, bad, otherN]) t.dispose();
  });
});
