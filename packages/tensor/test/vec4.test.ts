/**
 * The vectorised (vec4) elementwise paths: same-shape maps, unary ops and their gradients, and the
 * optimizer kernels, at sizes around the vec4 and per-thread boundaries, against float64 CPU
 * references; the masked tail; the scalar fallback; the pool.
 */
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  add,
  backward,
  clipGradNorm,
  exp,
  getBackend,
  groupProfile,
  mul,
  startProfile,
  stopProfile,
  sum,
  tensor,
  tidy,
  unary,
  type Tensor,
} from '../src/index.js';
import { vec4Ranges } from '../src/ops/run.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const SIZES = [1, 3, 4, 5, 1023, 4096, 4097, 3 * 2 ** 20 + 1];
const rand = (n: number, lo = -2, hi = 2) => Float32Array.from(rng.array(n, lo, hi));

function expectNear(got: Float32Array, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) {
      throw new Error(`${what}: element ${i} of ${want.length}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

/** The bytes past a tensor's data up to the end of its last vec4 (written 0 by the vec4 kernels). */
async function tailPadding(t: Tensor): Promise<number[]> {
  const bytes = Math.ceil(t.size / 4) * 16;
  const all = new Float32Array(await getBackend().read(t.store.buffer, 0, bytes));
  return Array.from(all.subarray(t.size));
}

describe('vec4 elementwise kernels', () => {
  for (const n of SIZES) {
    it(`n=${n}: add, mul, exp, affine and gradients match the CPU reference`, async () => {
      const xs = rand(n);
      const ws = rand(n);
      const x = tensor(xs, [n]);
      const w = tensor(ws, [n]);
      x.requiresGrad = true;
      const [s, p, e, af] = [add(x, w), mul(x, w), exp(x), unary('affine', x, 1.5, -0.25)];
      // d/dx sum(exp(x)·w + x·w) = exp(x)·w + w
      tidy(() => backward(sum(add(mul(e, w), p))));
      const ex = Array.from(xs, Math.exp);
      expectNear(await s.data(), Array.from(xs, (v, i) => v + ws[i]), 1e-6, 'add');
      expectNear(await p.data(), Array.from(xs, (v, i) => v * ws[i]), 1e-6, 'mul');
      expectNear(await e.data(), ex, 2e-6, 'exp');
      expectNear(await af.data(), Array.from(xs, (v) => v * 1.5 - 0.25), 1e-6, 'affine');
      expectNear(await x.grad!.data(), Array.from(xs, (_, i) => ex[i] * ws[i] + ws[i]), 5e-6, 'grad');
      for (const t of [s, p, e, af]) expect(await tailPadding(t)).toEqual(new Array((4 - (n % 4)) % 4).fill(0));
      for (const t of [x.grad!, x, w, s, p, e, af]) t.dispose();
    });
  }

  it('runs the vec4 kernels (and only those) for same-shape maps and unary ops', async () => {
    const x = tensor(rand(4097), [4097]);
    x.requiresGrad = true;
    startProfile();
    tidy(() => backward(sum(mul(exp(x), x))));
    const kernels = groupProfile(await stopProfile(), 'kernel').map((e) => e.kernel);
    expect(kernels).toEqual(expect.arrayContaining(['unary:exp:v4', 'unary_grad:exp:v4', 'map:mul:same:2:0:v4', 'map:add:same:2:0:v4']));
    expect(kernels.filter((k) => /^(unary|map:\w+:same)/.test(k) && !k.endsWith(':v4'))).toEqual([]);
    x.dispose();
  });

  it('falls back to the scalar kernel for bindings that cannot be read as vec4', () => {
    const backend = getBackend();
    const t = tensor([1, 2, 3, 4, 5, 6, 7, 8], [8]);
    const r = t.range;
    expect(vec4Ranges(backend, [r], 5)).toEqual([{ ...r, size: 32 }]);
    expect(vec4Ranges(backend, [{ ...r, offset: 4 }], 4)).toBeNull();
    expect(vec4Ranges(backend, [r], 1 << 20)).toBeNull(); // past the end of the buffer
    t.dispose();
  });

  it('leaves the pool where it started', async () => {
    const backend = getBackend();
    await backend.sync();
    const live0 = backend.stats().liveBytes;
    const x = tensor(rand(4097), [4097]);
    x.requiresGrad = true;
    tidy(() => backward(sum(mul(exp(x), add(x, x)))));
    x.grad!.dispose();
    x.dispose();
    await backend.sync();
    expect(backend.stats().liveBytes).toBe(live0);
  });
});

describe('vec4 optimizer kernels', () => {
  it('runs the vec4 kernels for sizes that are multiples of 4, the scalar ones otherwise', async () => {
    const kernelsFor = async (n: number) => {
      const p = tensor(rand(n), [n]);
      p.grad = tensor(rand(n), [n]);
      const opt = new AdamW([p]);
      startProfile();
      clipGradNorm([p], 1e-3).dispose();
      opt.step();
      const kernels = groupProfile(await stopProfile(), 'kernel').map((e) => e.kernel);
      p.grad.dispose();
      opt.dispose();
      p.dispose();
      return kernels;
    };
    expect(await kernelsFor(4096)).toEqual(expect.arrayContaining(['optim:sumsq:v4', 'optim:clip_scale:v4', 'optim:adam:v4']));
    expect(await kernelsFor(4097)).toEqual(expect.arrayContaining(['optim:sumsq:v4', 'optim:clip_scale', 'optim:adam']));
  });

  for (const n of SIZES) {
    it(`n=${n}: AdamW (2 steps) and clipGradNorm match the CPU reference`, async () => {
      const [lr, b1, b2, eps, wd] = [1e-2, 0.9, 0.999, 1e-8, 0.1];
      const ps = Float64Array.from(rand(n));
      const p = tensor(ps, [n]);
      const opt = new AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      let norm = 0;
      for (let t = 1; t <= 2; t++) {
        const gs = rand(n, -1, 1);
        p.grad?.dispose();
        p.grad = tensor(gs, [n]);
        // maxNorm below the norm, so every gradient is scaled.
        norm = Math.sqrt(gs.reduce((s, g) => s + g * g, 0));
        const maxNorm = norm / 2;
        const gpuNorm = clipGradNorm([p], maxNorm);
        expectNear(await gpuNorm.data(), [norm], 1e-5, 'norm');
        gpuNorm.dispose();
        const scale = maxNorm / (norm + 1e-6);
        opt.step();
        for (let i = 0; i < n; i++) {
          const g = Math.fround(gs[i] * Math.fround(scale));
          ps[i] *= 1 - lr * wd;
          m[i] += (1 - b1) * (g - m[i]);
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          ps[i] -= (lr / (1 - b1 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps));
        }
      }
      expectNear(await p.data(), ps, 2e-5, 'param');
      p.grad!.dispose();
      opt.dispose();
      p.dispose();
    });
  }
});
