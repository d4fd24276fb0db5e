/**
 * pad with a constant, in PyTorch's F.pad convention. One gather pass over the output: each
 * coordinate reads the input at (coordinate − left pad) or writes the pad value. Negative pads
 * crop. The gradient is the same kernel with the pads negated (it crops what was padded and
 * zero-fills what was cropped).
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, stridesOf } from '../tensor/shape.js';
import type { DType } from '../tensor/dtype.js';
import { record } from '../autograd/record.js';
import { assertWordTensor, gatherNew } from './indexing.js';

/** [left, right] per dim, from F.pad's flat list (pairs start at the last dim). */
function padPairs(x: Tensor, pad: readonly number[]): [number, number][] {
  if (!Array.isArray(pad) || pad.length % 2 !== 0 || pad.length > 2 * x.rank || pad.some((p) => !Number.isInteger(p))) {
    throw new RangeError(
      `pad: pad ${JSON.stringify(pad)} must be an even number (at most ${2 * x.rank}) of integers, ` +
        `pairs from the last dim backwards, for ${x.describe()}`,
    );
  }
  const pairs = x.shape.map((): [number, number] => [0, 0]);
  for (let k = 0; k < pad.length / 2; k++) pairs[x.rank - 1 - k] = [pad[2 * k], pad[2 * k + 1]];
  x.shape.forEach((size, d) => {
    const [l, r] = pairs[d];
    if (size + l + r < 0) {
      throw new RangeError(`pad: pad ${fmtShape(pad)} crops dim ${d} of ${x.describe()} below zero (${size} + ${l} + ${r})`);
    }
  });
  return pairs;
}

/** The 32-bit pattern of `value` in `dtype`. */
function bitsOf(value: number, dtype: DType): number {
  const v = new DataView(new ArrayBuffer(4));
  if (dtype === 'i32') v.setInt32(0, value, true);
  else v.setFloat32(0, value, true);
  return v.getUint32(0, true);
}

function padCopy(x: Tensor, pairs: readonly [number, number][], value: number): Tensor {
  const xs = stridesOf(x.shape);
  const outShape = x.shape.map((s, d) => s + pairs[d][0] + pairs[d][1]);
  return gatherNew('pad', x, outShape, {
    dims: outShape.map((size, d) => ({ size, src: xs[d], lo: pairs[d][0], lim: x.shape[d] })),
    fill: bitsOf(value, x.dtype),
  });
}

/**
 * Pads `x` with `value`: `pad` is `[left, right]` for the last dim, then `[top, bottom]` for the
 * one before, and so on (F.pad's order); negative amounts crop.
 */
export function pad(x: Tensor, pad: readonly number[], value = 0): Tensor {
  assertWordTensor(x, 'pad', 'x');
  const pairs = padPairs(x, pad);
  const y = padCopy(x, pairs, value);
  return record('pad', [x], y, (g) => [padCopy(g, pairs.map(([l, r]) => [-l, -r]), 0)]);
}
