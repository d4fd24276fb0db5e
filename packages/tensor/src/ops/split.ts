/** split: consecutive pieces of a tensor along one dim, each its own recorded slice. */
import type { Tensor } from '../tensor/tensor.js';
import { normAxis } from '../tensor/shape.js';
import { assertWordTensor } from './indexing.js';
import { sliceRanges, type DimRange } from './slice.js';

/**
 * Splits `x` along `axis` (negative counts from the end): `sizes` is either the size of every
 * piece (the last may be smaller, as torch.split) or the list of piece sizes, which must add up
 * to the dim. Each piece is a copy with its own gradient.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  assertWordTensor(x, 'split', 'x');
  if (x.rank === 0) throw new RangeError(`split: ${x.describe()} has no dims to split`);
  const a = normAxis(axis, x.rank, 'split');
  const dim = x.shape[a];
  let pieces: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1) throw new RangeError(`split: piece size ${sizes} must be a positive integer (${x.describe()})`);
    pieces = dim === 0 ? [0] : Array.from({ length: Math.ceil(dim / sizes) }, (_, k) => Math.min(sizes, dim - k * sizes));
  } else {
    pieces = [...sizes];
    const total = pieces.reduce((s, v) => s + v, 0);
    if (pieces.some((v) => !Number.isInteger(v) || v < 0) || total !== dim) {
      throw new RangeError(`split: sizes [${pieces.join(', ')}] must be non-negative integers adding up to dim ${axis} of ${x.describe()} (${dim})`);
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  try {
    for (const len of pieces) {
      const ranges = x.shape.map((d, i): DimRange => (i === a ? { start, step: 1, len, keep: true } : { start: 0, step: 1, len: d, keep: true }));
      out.push(sliceRanges(x, ranges, 'split'));
      start += len;
    }
  } catch (e) {
    for (const t of out) t.dispose();
    throw e;
  }
  return out;
}
