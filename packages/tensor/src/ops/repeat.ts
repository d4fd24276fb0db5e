/**
 * repeat_interleave with a constant count: each position along `axis` is repeated `repeats`
 * times in a row. The copy reads dim `axis` split into (position, repeat) with stride 0 along the
 * repeat; the gradient sums over the repeats.
 */
import type { Tensor } from '../tensor/tensor.js';
import { normAxis, stridesOf } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { assertWordTensor, gatherNew } from './indexing.js';
import { sum } from './reduce.js';

/**
 * Repeats every element `repeats` times along `axis` (negative counts from the end); without
 * `axis`, `x` is flattened first and the result is 1-D (as torch.repeat_interleave).
 */
export function repeatInterleave(x: Tensor, repeats: number, axis?: number): Tensor {
  assertWordTensor(x, 'repeatInterleave', 'x');
  if (!Number.isInteger(repeats) || repeats < 0) {
    throw new RangeError(`repeatInterleave: repeats ${repeats} must be a non-negative integer (${x.describe()})`);
  }
  const flat = axis === undefined;
  const shape = flat ? [x.size] : x.shape;
  if (shape.length === 0) throw new RangeError(`repeatInterleave: ${x.describe()} has no dim ${axis}`);
  const a = flat ? 0 : normAxis(axis, x.rank, 'repeatInterleave');
  const xs = stridesOf(shape);
  const split = [...shape.slice(0, a + 1), repeats, ...shape.slice(a + 1)];
  const srcStrides = [...xs.slice(0, a + 1), 0, ...xs.slice(a + 1)];
  const outShape = shape.map((d, i) => (i === a ? d * repeats : d));
  const y = gatherNew('repeatInterleave', x, outShape, { dims: split.map((size, d) => ({ size, src: srcStrides[d] })) });
  return record('repeatInterleave', [x], y, (g) => {
    const gv = g.view(split, false);
    try {
      const s = sum(gv, a + 1);
      const r = s.view(x.shape);
      s.dispose();
      return [r];
    } finally {
      gv.dispose();
    }
  });
}
