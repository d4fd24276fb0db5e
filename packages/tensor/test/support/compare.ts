/**
 * Comparing GPU results with references, with the project's tolerances:
 * forward max abs error ≤ 1e-3·max(1, max|ref|), gradients relative L2 error ≤ 1e-2.
 */
import { expect } from 'vitest';
import { tensor, tidy, backward, type Tensor } from '../../src/index.js';
import type { Ref, RefOp } from '../reference/ref.js';
import { Rng } from './rng.js';
import { maxAbsError, relL2Error } from '../../src/testing/tolerance.js';

export { maxAbsError, relL2Error };

/** Asserts a forward result within 1e-3·max(1, max|ref|) (or `rtol` instead of 1e-3). */
export async function expectForward(got: Tensor, want: Ref, what = 'output', rtol = 1e-3): Promise<void> {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const d = await got.data();
  const { err, scale } = maxAbsError(d, want.data);
  expect(err, `${what}: max abs error ${err} (scale ${scale})`).toBeLessThanOrEqual(rtol * Math.max(1, scale));
}

/** Asserts a gradient within relative L2 error `tol` (default 1e-2). */
export async function expectGrad(got: Tensor | null, want: Ref, what = 'grad', tol = 1e-2): Promise<void> {
  expect(got, `${what} missing`).not.toBeNull();
  expect(got!.shape, `${what} shape`).toEqual(want.shape);
  const e = relL2Error(await got!.data(), want.data);
  expect(e, `${what}: relative L2 error ${e}`).toBeLessThanOrEqual(tol);
}

export interface OpCheck<A> {
  /** The library call under test. */
  gpu: (inputs: Tensor[], args: A) => Tensor;
  ref: RefOp<A>;
  inputs: Ref[];
  args: A;
  /** Which inputs get gradients (default: all). */
  grads?: number[];
  /** Inputs stored as i32 (indices). */
  intInputs?: number[];
  seed?: number;
  fwdTol?: number;
  gradTol?: number;
}

/**
 * Runs the same function through the GPU op and the reference and compares the forward output
 * and the gradients of sum(out · upstream), with a random upstream.
 */
export async function checkOp<A>(c: OpCheck<A>): Promise<void> {
  const grads = c.grads ?? c.inputs.map((_, i) => i);
  const ints = new Set(c.intInputs ?? []);
  const want = c.ref.forward(c.inputs, c.args);
  const rng = new Rng(c.seed ?? 1234);
  const upstream: Ref = { shape: want.shape, data: rng.array(want.data.length) };
  const wantGrads = c.ref.vjp(c.inputs, c.args, upstream);
  const xs = c.inputs.map((r, i) =>
    tensor(r.data, r.shape, { dtype: ints.has(i) ? 'i32' : 'f32', requiresGrad: grads.includes(i) && !ints.has(i) }),
  );
  const up = tensor(upstream.data, upstream.shape);
  try {
    const out = tidy(() => c.gpu(xs, c.args));
    try {
      await expectForward(out, want, 'forward', c.fwdTol);
      if (grads.length && out.requiresGrad) {
        backward(out, { grad: up });
        for (const i of grads) {
          if (ints.has(i) || !wantGrads[i]) continue;
          await expectGrad(xs[i].grad, wantGrads[i]!, `grad of input ${i}`, c.gradTol);
        }
      } else if (grads.length) {
        throw new Error('output does not require grad although inputs do');
      }
    } finally {
      out.dispose();
    }
  } finally {
    for (const x of xs) x.dispose();
    up.dispose();
  }
}
