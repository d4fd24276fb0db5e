import { describe, expect, it } from 'vitest';
import { maxPool2d, avgPool2d, backward, getBackend, tensor, tidy, type Pool2dOptions, type Tensor } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { avgPool2dRef, maxPool2dRef, type PoolArgs } from './reference/conv.js';
import { checkOp } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(5);
const rand = (shape: number[]) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1)), shape);
/** Few distinct values, so windows have tied maxima. */
const ties = (shape: number[]) => refFrom(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(3)), shape);

const CASES: [string, number[], PoolArgs][] = [
  ['2×2 (stride defaults to the kernel), odd size drops the last row/col', [2, 3, 7, 9], { kernelSize: 2 }],
  ['3×3 stride 2 padding 1 (overlapping windows)', [1, 2, 9, 8], { kernelSize: 3, stride: 2, padding: 1 }],
  ['per-axis kernel/stride/padding, N=3, 5 channels', [3, 5, 6, 7], { kernelSize: [3, 2], stride: [1, 3], padding: [1, 0] }],
  ['stride 1 (each pixel in many windows)', [1, 1, 5, 6], { kernelSize: 3, stride: 1 }],
  ['kernel covers the whole input', [2, 3, 4, 5], { kernelSize: [4, 5] }],
];

const fns = {
  max: { gpu: ([x]: Tensor[], a: PoolArgs) => maxPool2d(x, a as Pool2dOptions), ref: maxPool2dRef },
  avg: { gpu: ([x]: Tensor[], a: PoolArgs) => avgPool2d(x, a as Pool2dOptions), ref: avgPool2dRef },
};

for (const kind of ['max', 'avg'] as const) {
  describe(`${kind}Pool2d`, () => {
    for (const [name, shape, args] of CASES) {
      it(`GPU vs reference: ${name}`, async () => {
        await checkOp({ ...fns[kind], inputs: [rand(shape)], args });
      });
    }
    it('reference vjp vs finite differences', () => {
      checkVjpByFiniteDifferences(fns[kind].ref, [rand([2, 2, 7, 6])], { kernelSize: 3, stride: 2, padding: 1 });
    });
  });
}

describe('maxPool2d ties and errors', () => {
  it('the gradient goes to the first maximum of each window (row-major), as PyTorch', async () => {
    await checkOp({ ...fns.max, inputs: [ties([2, 3, 8, 7])], args: { kernelSize: 3, stride: 2, padding: 1 } });
    await checkOp({ ...fns.max, inputs: [ties([1, 2, 6, 6])], args: { kernelSize: 2 } });
    // An explicit check on one window of equal values: only its first element gets the gradient.
    const x = tensor([1, 1, 1, 1], [1, 1, 2, 2], { requiresGrad: true });
    const y = maxPool2d(x, { kernelSize: 2 });
    const up = tensor([5], [1, 1, 1, 1]);
    backward(y, { grad: up });
    expect(Array.from(await x.grad!.data())).toEqual([5, 0, 0, 0]);
    for (const t of [x, y, up]) t.dispose();
  });
  it('errors name the op and the argument', () => {
    tidy(() => {
      const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
      expect(() => maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow('maxPool2d: padding 2×2 must be at most half the kernel 2×2');
      expect(() => avgPool2d(x, { kernelSize: 5 })).toThrow('avgPool2d: kernel 5×5 does not fit input x [2, 3, 4, 4]');
      expect(() => maxPool2d(x.view([6, 4, 4]), { kernelSize: 2 })).toThrow('maxPool2d: input x must be 4-D (NCHW), got [6, 4, 4]');
    });
  });
});

describe('pooling of batches larger than one storage binding', () => {
  it('splits over samples', async () => {
    const limits = getBackend().info.limits as { maxStorageBufferBindingSize: number };
    const saved = limits.maxStorageBufferBindingSize;
    limits.maxStorageBufferBindingSize = 16 << 10;
    try {
      for (const kind of ['max', 'avg'] as const) {
        await checkOp({ ...fns[kind], inputs: [rand([3, 8, 16, 16])], args: { kernelSize: 3, stride: 2, padding: 1 } });
      }
    } finally {
      limits.maxStorageBufferBindingSize = saved;
    }
  });
});
