import { describe, expect, it } from 'vitest';
import { maxPool2d, avgPool2d, backward, getBackend, noGrad, permute, profile, tensor, tidy, type Pool2dOptions, type Tensor } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { avgPool2dRef, maxPool2dRef, type PoolArgs } from './reference/conv.js';
import { checkOp, expectForward } from './support/compare.js';
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

describe('maxPool2d channelsLast ([N, H, W, C] in and out)', () => {
  const nhwc = (x: Tensor) => permute(x, [0, 2, 3, 1]);
  const nchw = (x: Tensor) => permute(x, [0, 3, 1, 2]);
  it('without gradients: read in place (vec4s when C is a multiple of 4), against float64', async () => {
    // the NCHW cases, and C a multiple of 4 (the vec4 kernel); ties and NaNs follow the NCHW rules
    const cases: [number[], PoolArgs, 'v4' | 's'][] = [...CASES.map(([, shape, args]) => [shape, args, 's'] as [number[], PoolArgs, 's']), [[2, 8, 6, 6], { kernelSize: 2 }, 'v4'], [[1, 12, 9, 8], { kernelSize: 3, stride: 2, padding: 1 }, 'v4']];
    for (const [shape, args, kind] of cases) {
      // NaNs win: that input is checked against the NCHW op (the reference skips NaNs)
      for (const [x, nan] of [[rand(shape), false], [ties(shape), false], [refFrom(rand(shape).data.map((v, i) => (i % 7 === 3 ? NaN : v)), shape), true]] as const) {
        const tx = tensor(x.data, x.shape);
        const xl = nhwc(tx);
        const { result, report } = await profile(() => noGrad(() => maxPool2d(xl, { ...(args as Pool2dOptions), channelsLast: true })));
        expect(report.entries.map((e) => e.kernel)).toEqual([`max_pool2d_nhwc:${kind}`]);
        const back = nchw(result);
        if (nan) {
          const plain = noGrad(() => maxPool2d(tx, args as Pool2dOptions));
          const [a, b] = [await back.data(), await plain.data()];
          expect(a.some(Number.isNaN)).toBe(true);
          a.forEach((v, i) => expect(Object.is(v, b[i]), `element ${i}: ${v} vs ${b[i]}`).toBe(true));
          plain.dispose();
        } else await expectForward(back, maxPool2dRef.forward([x], args), `channels last ${shape} ${JSON.stringify(args)}`, 1e-6);
        for (const t of [tx, xl, result, back]) t.dispose();
      }
    }
  });
  it('with gradients: the NCHW op between permutes (its gradient to the first maximum)', async () => {
    const gpu = ([x]: Tensor[], a: PoolArgs) => nchw(maxPool2d(nhwc(x), { ...(a as Pool2dOptions), channelsLast: true }));
    await checkOp({ gpu, ref: maxPool2dRef, inputs: [ties([2, 4, 8, 7])], args: { kernelSize: 3, stride: 2, padding: 1 } });
  });
  it('errors', () => {
    tidy(() => {
      const x = tensor(new Float32Array(2 * 4 * 4 * 3), [2, 4, 4, 3]);
      expect(() => maxPool2d(x.view([8, 4, 3]), { kernelSize: 2, channelsLast: true })).toThrow('maxPool2d: input x must be 4-D (NHWC with channelsLast), got [8, 4, 3]');
      expect(() => maxPool2d(x, { kernelSize: 5, channelsLast: true })).toThrow('maxPool2d: kernel 5×5 does not fit input x [2, 4, 4, 3]');
    });
  });
});

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
