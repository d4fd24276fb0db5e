import { describe, expect, it } from 'vitest';
import { layerNorm, layerNorm2d, layerNormPlus, noGrad, normTuning, profile, tensor, tidy } from '../src/index.js';
import { erf64 } from './reference/elementwise.js';
import { refFrom, type Ref } from './reference/ref.js';
import { layerNormRef, type LayerNormArgs } from './reference/nn.js';
import { checkOp, expectForward } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(5);
const rand = (shape: number[], lo = -2, hi = 2) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);

function inputs(shape: number[], c: number, args: LayerNormArgs): Ref[] {
  // Offset the data so that the mean is not ~0 (exercises the centred variance).
  const x = refFrom(rand(shape).data.map((v) => v * 3 + 5), shape);
  return [x, ...(args.weight ? [rand([c], 0.5, 1.5)] : []), ...(args.bias ? [rand([c])] : [])];
}

const AFFINE: [boolean, boolean][] = [
  [true, true],
  [false, false],
  [true, false],
  [false, true],
];

describe('layerNorm (last dim)', () => {
  const shapes = [[2, 7, 24], [9, 256], [3, 1], [1, 5], [4, 300], [2, 3, 1029], [0, 8], [70, 33]];
  for (const [weight, bias] of AFFINE) {
    it(`GPU vs reference, weight ${weight}, bias ${bias}`, async () => {
      for (const shape of shapes) {
        const c = shape[shape.length - 1];
        for (const eps of [1e-5, 1e-6]) {
          const args: LayerNormArgs = { eps, over: 'last', weight, bias };
          const ins = inputs(shape, c, args);
          await checkOp({
            gpu: (t) => layerNorm(t[0], weight ? t[1] : null, bias ? t[weight ? 2 : 1] : null, eps),
            ref: layerNormRef,
            inputs: ins,
            args,
          });
        }
      }
    });
  }
  it('long rows on the workgroup-row kernels (what GPUs take; CPU adapters take a thread per row)', async () => {
    normTuning.wideOnCpu = true;
    try {
      for (const shape of [[9, 256], [4, 300], [2, 3, 1029]]) {
        const c = shape[shape.length - 1];
        const args: LayerNormArgs = { eps: 1e-5, over: 'last', weight: true, bias: true };
        await checkOp({ gpu: (t) => layerNorm(t[0], t[1], t[2], 1e-5), ref: layerNormRef, inputs: inputs(shape, c, args), args });
      }
    } finally {
      normTuning.wideOnCpu = false;
    }
  });
  it('thread-per-row kernel forms: vec4 rows (C a multiple of 4), four rows per thread (inner a multiple of 4), scalar otherwise', async () => {
    const cases: [number[], 'last' | 'channel', string][] = [
      [[5, 24], 'last', 'norm:fwd:v4c:wb'],
      [[5, 30], 'last', 'norm:fwd:th:wb'],
      [[2, 6, 4, 6], 'channel', 'norm:fwd:v4rows:wb'],
      [[2, 6, 3, 5], 'channel', 'norm:fwd:th:wb'],
    ];
    for (const [shape, over, key] of cases) {
      const c = over === 'last' ? shape[shape.length - 1] : shape[1];
      const [x, w, b] = inputs(shape, c, { eps: 1e-5, over, weight: true, bias: true }).map((r) => tensor(r.data, r.shape));
      const f = () => noGrad(() => (over === 'last' ? layerNorm(x, w, b, 1e-5) : layerNorm2d(x, w, b, 1e-5)));
      const { result, report } = await profile(f);
      expect(report.entries.map((e) => e.kernel)).toEqual([key]);
      // the scalar kernel gives the same values (to float rounding)
      normTuning.vec4 = false;
      let scalar;
      try {
        const r = await profile(f);
        expect(r.report.entries.map((e) => e.kernel)).toEqual([key.replace(/v4\w+/, 'th')]);
        scalar = r.result;
      } finally {
        normTuning.vec4 = true;
      }
      const [a, s] = [await result.data(), await scalar.data()];
      a.forEach((v, i) => expect(Math.abs(v - s[i])).toBeLessThan(1e-5));
      for (const t of [x, w, b, result, scalar]) t.dispose();
    }
  });
  it('reference vjp vs finite differences', () => {
    const args: LayerNormArgs = { eps: 1e-5, over: 'last', weight: true, bias: true };
    checkVjpByFiniteDifferences(layerNormRef, inputs([3, 7], 7, args), args);
  });
});

describe('layerNorm2d (NCHW over channels)', () => {
  // inner a multiple of 4 ([2, 6, 4, 6], [1, 20, 8, 16], [1, 1, 4, 4]) takes the four-rows vec4 kernel
  const shapes = [[2, 8, 5, 6], [1, 3, 1, 1], [1, 1, 4, 4], [3, 5, 7, 1], [2, 300, 3, 3], [1, 16, 33, 35], [0, 4, 2, 2], [2, 6, 4, 6], [1, 20, 8, 16]];
  for (const [weight, bias] of AFFINE) {
    it(`GPU vs reference, weight ${weight}, bias ${bias}`, async () => {
      for (const shape of shapes) {
        const args: LayerNormArgs = { eps: 1e-6, over: 'channel', weight, bias };
        const ins = inputs(shape, shape[1], args);
        await checkOp({
          gpu: (t) => layerNorm2d(t[0], weight ? t[1] : null, bias ? t[weight ? 2 : 1] : null, 1e-6),
          ref: layerNormRef,
          inputs: ins,
          args,
        });
      }
    });
  }
  it('reference vjp vs finite differences', () => {
    const args: LayerNormArgs = { eps: 1e-6, over: 'channel', weight: true, bias: true };
    checkVjpByFiniteDifferences(layerNormRef, inputs([2, 4, 3, 2], 4, args), args);
  });
});

describe('activation option', () => {
  const act64 = { gelu: (y: number) => 0.5 * y * (1 + erf64(y / Math.SQRT2)), relu: (y: number) => Math.max(0, y) };
  it('fused into the stores without gradients (one dispatch), the activation op after the norm with them; both against float64', async () => {
    for (const [over, shape] of [['last', [5, 300]], ['channel', [2, 6, 7, 5]]] as const) {
      for (const activation of ['gelu', 'relu'] as const) {
        const c = over === 'last' ? shape[shape.length - 1] : shape[1];
        const args: LayerNormArgs = { eps: 1e-6, over, weight: true, bias: true };
        const ins = inputs([...shape], c, args);
        const ref = layerNormRef.forward(ins, args);
        const want = { shape: ref.shape, data: ref.data.map(act64[activation]) };
        const [x, w, b] = ins.map((r) => tensor(r.data, r.shape));
        const norm = over === 'last' ? layerNorm : layerNorm2d;
        const { result: fused, report } = await profile(() => noGrad(() => norm(x, w, b, 1e-6, { activation })));
        await expectForward(fused, want, `${over} ${activation} fused`, 1e-5);
        expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(new RegExp(`^norm:fwd:.*:${activation}×1$`))]);
        x.requiresGrad = true;
        const composed = tidy(() => norm(x, w, b, 1e-6, { activation }));
        await expectForward(composed, want, `${over} ${activation} with gradients`, 1e-5);
        for (const t of [x, w, b, fused, composed]) t.dispose();
      }
    }
  });
});

describe('layerNormPlus', () => {
  it('y and y + other from one pass without gradients, the norm and the add op with them; against float64', async () => {
    for (const shape of [[2, 9, 256], [7, 33]]) {
      const c = shape[shape.length - 1];
      const args: LayerNormArgs = { eps: 1e-5, over: 'last', weight: true, bias: true };
      const ins = inputs(shape, c, args);
      const other = rand(shape);
      const y64 = layerNormRef.forward(ins, args);
      const sum64 = { shape: y64.shape, data: y64.data.map((v, i) => v + other.data[i]) };
      const [x, w, b, o] = [...ins, other].map((r) => tensor(r.data, r.shape));
      const { result: [y, sum], report } = await profile(() => noGrad(() => layerNormPlus(x, w, b, o)));
      await expectForward(y, y64, `y ${shape}`, 1e-5);
      await expectForward(sum, sum64, `y + other ${shape}`, 1e-5);
      expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(/^norm:fwd:.*:plus×1$/)]);
      x.requiresGrad = true;
      const [yg, sumg] = tidy(() => layerNormPlus(x, w, b, o));
      await expectForward(yg, y64, `y with gradients ${shape}`, 1e-5);
      await expectForward(sumg, sum64, `y + other with gradients ${shape}`, 1e-5);
      for (const t of [x, w, b, o, y, sum, yg, sumg]) t.dispose();
    }
    tidy(() => {
      const x = tensor(new Float32Array(6), [2, 3]);
      expect(() => layerNormPlus(x, null, null, tensor(new Float32Array(3), [3]))).toThrow('layerNormPlus: other [3] must have the shape of x [2, 3]');
    });
  });
});
