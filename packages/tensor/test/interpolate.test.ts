import { describe, expect, it } from 'vitest';
import { interpolate, tensor, tidy, backward, setResampleBindingLimitForTests, getBackend, type InterpolateMode } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { interpolateRef, type InterpolateArgs } from './reference/resample.js';
import { checkOp, expectForward, expectGrad } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), -2, 2), shape);
/** Large random tensors, filled with a plain loop (Float64Array.from with a callback is slow). */
function bigRand(shape: number[], seed: number) {
  const r = new Rng(seed);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = r.uniform(-2, 2);
  return { shape, data };
}

const gpu = (args: InterpolateArgs) => ([x]: import('../src/index.js').Tensor[]) =>
  args.scaleFactor
    ? interpolate(x, { scaleFactor: args.scaleFactor, mode: args.mode, alignCorners: args.alignCorners, antialias: args.antialias })
    : interpolate(x, { size: args.size, mode: args.mode, alignCorners: args.alignCorners, antialias: args.antialias });

/** [input shape, output size]: upscale, non-integer downscale, 1×1 in, 1×1 out, mixed, identity axis. */
const SHAPES: [number[], [number, number]][] = [
  [[2, 3, 5, 7], [13, 11]],
  [[1, 2, 16, 16], [5, 6]],
  [[1, 1, 1, 1], [4, 5]],
  [[2, 1, 7, 9], [1, 1]],
  [[1, 3, 6, 10], [15, 4]],
  [[1, 2, 9, 8], [9, 12]],
  [[3, 13], [4, 31]],
  [[2, 2, 3, 4, 5], [7, 3]],
];

const MODES: { name: string; mode: InterpolateMode; alignCorners?: boolean; antialias?: boolean }[] = [
  { name: 'nearest', mode: 'nearest' },
  { name: 'nearest-exact', mode: 'nearest-exact' },
  { name: 'bilinear', mode: 'bilinear' },
  { name: 'bilinear alignCorners', mode: 'bilinear', alignCorners: true },
  { name: 'bilinear antialias', mode: 'bilinear', antialias: true },
  { name: 'bilinear antialias alignCorners', mode: 'bilinear', antialias: true, alignCorners: true },
  { name: 'bicubic', mode: 'bicubic' },
  { name: 'bicubic alignCorners', mode: 'bicubic', alignCorners: true },
];

describe('interpolate', () => {
  for (const m of MODES) {
    it(`${m.name}: GPU vs reference, forward and backward, on awkward shapes`, async () => {
      for (const [shape, size] of SHAPES) {
        const args: InterpolateArgs = { size, mode: m.mode, alignCorners: m.alignCorners, antialias: m.antialias };
        await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand(shape)], args });
      }
    });
    it(`${m.name}: reference vjp vs finite differences`, () => {
      checkVjpByFiniteDifferences(interpolateRef, [rand([1, 2, 5, 6])], { size: [7, 4], mode: m.mode, alignCorners: m.alignCorners, antialias: m.antialias });
    });
  }

  it('antialias with large factors (97 → 8, 61 → 3) and mixed up/down', async () => {
    for (const [shape, size] of [
      [[1, 2, 97, 97], [8, 8]],
      [[2, 1, 61, 40], [3, 50]],
      [[1, 1, 200, 7], [9, 1]],
    ] as [number[], [number, number]][]) {
      const args: InterpolateArgs = { size, mode: 'bilinear', antialias: true };
      await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand(shape)], args });
    }
  });

  it('antialias equals plain bilinear when upscaling, and differs when downscaling', async () => {
    const x = tensor(rand([1, 1, 6, 7]).data, [1, 1, 6, 7]);
    const [a, b, c, d] = tidy(() => [
      interpolate(x, { size: [11, 15], mode: 'bilinear', antialias: true }),
      interpolate(x, { size: [11, 15], mode: 'bilinear' }),
      interpolate(x, { size: [3, 2], mode: 'bilinear', antialias: true }),
      interpolate(x, { size: [3, 2], mode: 'bilinear' }),
    ]);
    const [da, db, dc, dd] = await Promise.all([a.data(), b.data(), c.data(), d.data()]);
    da.forEach((v, i) => expect(Math.abs(v - db[i])).toBeLessThan(1e-6));
    expect(Math.max(...dc.map((v, i) => Math.abs(v - dd[i])))).toBeGreaterThan(1e-2);
    for (const t of [x, a, b, c, d]) t.dispose();
  });

  it('scaleFactor uses 1/s for sampling, as PyTorch without recompute_scale_factor', async () => {
    for (const mode of ['nearest', 'bilinear', 'bicubic'] as InterpolateMode[]) {
      const args: InterpolateArgs = { size: [8, 4], scaleFactor: [1.7, 0.6], mode };
      await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand([1, 2, 5, 7])], args });
    }
  });

  it('splits rows when a binding would exceed the device limit', async () => {
    setResampleBindingLimitForTests(4096);
    try {
      for (const [shape, size] of [
        [[3, 5, 24, 20], [10, 36]],
        [[2, 7, 13, 9], [30, 11]],
      ] as [number[], [number, number]][]) {
        const args: InterpolateArgs = { size, mode: 'bilinear', antialias: true };
        await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand(shape)], args });
      }
    } finally {
      setResampleBindingLimitForTests(null);
    }
  });

  it('keeps empty batch dims and the identity', async () => {
    const args: InterpolateArgs = { size: [4, 4], mode: 'bilinear' };
    await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand([0, 2, 3, 3])], args, grads: [] });
    await checkOp({ gpu: gpu(args), ref: interpolateRef, inputs: [rand([1, 2, 4, 4])], args });
  });

  it('rejects bad arguments with messages naming the op', () => {
    const x = tensor(new Float32Array(12), [1, 1, 3, 4]);
    expect(() => interpolate(x, { size: [0, 3], mode: 'bilinear' })).toThrow(/interpolate: size/);
    expect(() => interpolate(x, { size: [2, 3], mode: 'bicubic', antialias: true })).toThrow(/interpolate: antialias/);
    expect(() => interpolate(x, { size: [2, 3], mode: 'area' as InterpolateMode })).toThrow(/unsupported mode 'area'/);
    expect(() => interpolate(x, { mode: 'bilinear' })).toThrow(/size or options.scaleFactor/);
    x.dispose();
  });

  it('SAM 2 sizes: 1×3×1080×1920 → 1024² antialiased, 1×1×256×256 → 1080×1920 bilinear', async () => {
    const cases: [number[], [number, number], boolean][] = [
      [[1, 3, 1080, 1920], [1024, 1024], true],
      [[1, 1, 256, 256], [1080, 1920], false],
    ];
    for (const [shape, size, antialias] of cases) {
      const xr = bigRand(shape, 2);
      const args: InterpolateArgs = { size, mode: 'bilinear', antialias };
      const want = interpolateRef.forward([xr], args);
      const up = bigRand(want.shape, 3);
      const wantGrad = interpolateRef.vjp([xr], args, up)[0]!;
      const x = tensor(xr.data, shape, { requiresGrad: true });
      const u = tensor(up.data, up.shape);
      const backend = getBackend();
      await backend.sync();
      let t0 = performance.now();
      const y = interpolate(x, args);
      await backend.sync();
      const fwdMs = performance.now() - t0;
      t0 = performance.now();
      backward(y, { grad: u });
      await backend.sync();
      const bwdMs = performance.now() - t0;
      console.log(`interpolate ${JSON.stringify(shape)} → ${JSON.stringify(size)}${antialias ? ' antialias' : ''}: forward ${fwdMs.toFixed(0)} ms, backward ${bwdMs.toFixed(0)} ms`);
      await expectForward(y, want);
      await expectGrad(x.grad, wantGrad);
      for (const t of [x, u, y]) t.dispose();
    }
  }, 120_000);
});
