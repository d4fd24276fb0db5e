/** permute and transpose: reorder dims (a copy; the gradient applies the inverse permutation). */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, normAxis, stridesOf } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { assertWordTensor, gatherNew } from './indexing.js';

/** Normalises `dims` (negative allowed) and checks that it is a permutation of the axes. */
function checkPerm(dims: readonly number[], x: Tensor, op: string): number[] {
  if (!Array.isArray(dims) || dims.length !== x.rank) {
    throw new RangeError(`${op}: dims ${JSON.stringify(dims)} must list each of the ${x.rank} axes of ${x.describe()} once`);
  }
  const perm = dims.map((d) => normAxis(d, x.rank, op));
  if (new Set(perm).size !== perm.length) {
    throw new RangeError(`${op}: dims ${fmtShape(dims)} repeat an axis (tensor ${x.describe()})`);
  }
  return perm;
}

function permuteCopy(x: Tensor, perm: readonly number[]): Tensor {
  const xs = stridesOf(x.shape);
  return gatherNew('permute', x, perm.map((d) => x.shape[d]), { dims: perm.map((d) => ({ size: x.shape[d], src: xs[d] })) });
}

/** `x` with its dims reordered: output dim i is input dim `dims[i]` (negative dims count from the end). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  assertWordTensor(x, 'permute', 'x');
  const perm = checkPerm(dims, x, 'permute');
  const inverse = new Array<number>(perm.length);
  perm.forEach((d, i) => (inverse[d] = i));
  // Identity permutations (and ones that only move size-1 dims) keep the element order.
  const moved = perm.filter((d) => x.shape[d] !== 1);
  const keepsOrder = moved.every((d, i) => i === 0 || d > moved[i - 1]);
  const y = keepsOrder ? x.view(perm.map((d) => x.shape[d])) : permuteCopy(x, perm);
  return record('permute', [x], y, (g) => [keepsOrder ? g.view(x.shape) : permuteCopy(g, inverse)]);
}

/** `x` with dims `dim0` and `dim1` swapped (negative dims count from the end). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  assertWordTensor(x, 'transpose', 'x');
  // A scalar accepts dims 0 and -1, as in PyTorch.
  const a = normAxis(dim0, Math.max(x.rank, 1), 'transpose');
  const b = normAxis(dim1, Math.max(x.rank, 1), 'transpose');
  const perm = [...Array(x.rank).keys()];
  if (x.rank > 0) {
    perm[a] = b;
    perm[b] = a;
  }
  return permute(x, perm);
}
