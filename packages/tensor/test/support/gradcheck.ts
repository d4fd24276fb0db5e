/**
 * Finite-difference check (float64, central differences) of a reference op's vjp: for random
 * upstream u, d/dx_i sum(f(x)·u) ≈ (L(x + h e_i) − L(x − h e_i)) / 2h.
 */
import { expect } from 'vitest';
import type { Ref, RefOp } from '../reference/ref.js';
import { Rng } from './rng.js';
import { relL2Error } from './compare.js';

export function checkVjpByFiniteDifferences<A>(
  op: RefOp<A>,
  inputs: Ref[],
  args: A,
  options: { grads?: number[]; h?: number; tol?: number; seed?: number } = {},
): void {
  const h = options.h ?? 1e-6;
  const tol = options.tol ?? 1e-5;
  const rng = new Rng(options.seed ?? 99);
  const out = op.forward(inputs, args);
  const up: Ref = { shape: out.shape, data: rng.array(out.data.length) };
  const loss = (xs: Ref[]) => {
    const y = op.forward(xs, args);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * up.data[i];
    return s;
  };
  const analytic = op.vjp(inputs, args, up);
  for (const k of options.grads ?? inputs.map((_, i) => i)) {
    const x = inputs[k];
    const numeric = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const orig = x.data[i];
      x.data[i] = orig + h;
      const lp = loss(inputs);
      x.data[i] = orig - h;
      const lm = loss(inputs);
      x.data[i] = orig;
      numeric[i] = (lp - lm) / (2 * h);
    }
    const a = analytic[k];
    expect(a, `vjp of input ${k} missing`).not.toBeNull();
    expect(a!.shape).toEqual(x.shape);
    const e = relL2Error(a!.data, numeric);
    expect(e, `input ${k}: vjp vs finite differences, relative L2 error ${e}`).toBeLessThanOrEqual(tol);
  }
}
