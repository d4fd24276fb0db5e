/**
 * Multi-tensor apply (src/optim/multi-tensor.ts): clipGradNorm + AdamW over many parameters of odd
 * sizes, small ones packed and large ones alone, vs float64 references over several steps; the
 * dispatch count per step; the pool ends where it started.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, clipGradNorm, getBackend, tensor, type Tensor } from '../src/index.js';
import { maxAbsError } from './support/compare.js';
import { Rng } from './support/rng.js';
import { RefAdam, refClipGradNorm } from './support/optim-reference.js';

// 65535 is the largest packed size, 65536 and 70001 run alone; 0 is skipped by both paths.
const SIZES = [1, 3, 5, 4097, 2, 63, 65535, 65536, 70001, 0, 7, 1000];
const LARGE = 2;
const OPTS = { lr: 0.02, betas: [0.85, 0.99] as [number, number], eps: 1e-7, weightDecay: 0.1 };

const f32Array = (rng: Rng, n: number, lo: number, hi: number) => Float64Array.from(rng.array(n, lo, hi), Math.fround);

async function expectClose(got: Tensor, want: ArrayLike<number>, what: string, rtol = 1e-5): Promise<void> {
  const d = await got.data();
  expect(d.length, `${what} length`).toBe(want.length);
  const { err, scale } = maxAbsError(d, want);
  expect(err, `${what}: max abs error ${err} (scale ${scale})`).toBeLessThanOrEqual(rtol * Math.max(1, scale));
}

describe('multi-tensor clipGradNorm + AdamW vs float64 references', () => {
  for (const maxNorm of [0.5, 1e6]) {
    it(`${SIZES.length} parameters, 4 steps, maxNorm ${maxNorm}; one grad missing on step 2`, async () => {
      const backend = getBackend();
      const pool = backend.pool.getStats();
      const rng = new Rng(23);
      const init = SIZES.map((n) => f32Array(rng, n, -1, 1));
      const params = SIZES.map((n, i) => tensor(init[i], [n]));
      const refParams = init.map((a) => Float64Array.from(a));
      const opt = new AdamW(params, OPTS);
      const ref = new RefAdam({ ...OPTS, decoupled: true });
      for (let s = 0; s < 4; s++) {
        // Parameter 2 has no grad on step 2, so it lags one step behind: two packed groups.
        const grads = SIZES.map((n, i) => (i === 2 && s === 1 ? null : f32Array(rng, n, -0.05, 0.05)));
        params.forEach((p, i) => (p.grad = grads[i] ? tensor(grads[i]!, [SIZES[i]]) : null));
        const before = backend.dispatchCount;
        const norm = clipGradNorm(params, maxNorm);
        const clipDispatches = backend.dispatchCount - before;
        opt.step();
        const live = grads.flatMap((g) => (g ? [g] : []));
        const want = refClipGradNorm(live, maxNorm);
        ref.step(refParams, grads);
        if (s > 0) {
          // Sum of squares: pack + each large grad; the norm; scaling: pack + each large grad.
          expect(clipDispatches).toBe(2 * (1 + LARGE) + 1);
          // Adam: one per packed group (two from step 3 on, parameter 2's step count differing) + each large.
          expect(backend.dispatchCount - before - clipDispatches).toBe((s === 1 ? 1 : 2) + LARGE);
        }
        await expectClose(norm, [want], `step ${s + 1}: norm`);
        norm.dispose();
        for (let i = 0; i < params.length; i++) {
          if (grads[i]) await expectClose(params[i].grad!, live[grads.slice(0, i).filter(Boolean).length], `step ${s + 1}: grad ${i}`);
          await expectClose(params[i], refParams[i], `step ${s + 1}: param ${i}`);
        }
        const sd = opt.stateDict();
        for (let i = 0; i < params.length; i++) {
          const st = ref.state[i]!;
          expect(sd.scalars[`state.${i}.step`], `state.${i}.step`).toBe(st.step);
          await expectClose(sd.tensors[`state.${i}.exp_avg`], st.exp_avg, `step ${s + 1}: exp_avg ${i}`);
          await expectClose(sd.tensors[`state.${i}.exp_avg_sq`], st.exp_avg_sq, `step ${s + 1}: exp_avg_sq ${i}`);
        }
        for (const t of Object.values(sd.tensors)) t.dispose();
        opt.zeroGrad();
      }
      opt.dispose();
      for (const p of params) p.dispose();
      const after = backend.pool.getStats();
      expect([after.liveBytes, after.liveBuffers]).toEqual([pool.liveBytes, pool.liveBuffers]);
    });
  }
});
