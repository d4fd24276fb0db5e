/** reshape: a new shape over the same storage (no copy). One dim may be -1. */
import type { Tensor } from '../tensor/tensor.js';
import { assertTensor } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';

/** Resolves a -1 entry and checks the element count. */
export function resolveShape(shape: readonly number[], size: number, what: string): number[] {
  const s = [...shape];
  const k = s.indexOf(-1);
  if (k >= 0) {
    if (s.indexOf(-1, k + 1) >= 0) throw new RangeError(`${what}: only one dim can be -1 in ${fmtShape(shape)}`);
    const rest = sizeOf(s.filter((_, i) => i !== k));
    if (rest === 0 || size % rest !== 0) throw new RangeError(`${what}: cannot infer -1 in ${fmtShape(shape)} for ${size} elements`);
    s[k] = size / rest;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== size) {
    throw new RangeError(`${what}: shape ${fmtShape(shape)} does not hold ${size} elements`);
  }
  return s;
}

/**
 * A view of `x` with another shape of the same element count (no copy); one dim may be -1 and is
 * inferred. The gradient is reshaped back.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'reshape', 'x');
  const s = resolveShape(shape, x.size, `reshape of ${x.describe()}`);
  const y = x.view(s);
  return record('reshape', [x], y, (g) => [g.view(x.shape)]);
}
