/**
 * cat and stack. Each input is copied into its band of the output (one pass per input, one
 * thread per 4 elements; a band that is one contiguous block, as along the first dim, is a plain
 * buffer copy). The gradient of each input is the matching slice of the output gradient.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, normAxis, stridesOf } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { assertWordTensor, stridedCopy } from './indexing.js';
import { sliceRanges, type DimRange } from './slice.js';

function checkList(tensors: readonly Tensor[], op: string): void {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new RangeError(`${op}: expects a non-empty array of tensors`);
  tensors.forEach((t, k) => assertWordTensor(t, op, `tensors[${k}]`));
  const t0 = tensors[0];
  tensors.forEach((t, k) => {
    if (t.dtype !== t0.dtype) throw new TypeError(`${op}: tensors[${k}] (${t.describe()}) has another dtype than tensors[0] (${t0.describe()})`);
  });
}

/** Copies `parts` (same rank, equal outside `axis`) one after another along `axis`. */
function catKernel(parts: readonly Tensor[], axis: number, op: string): Tensor {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((n, t) => n + t.shape[axis], 0);
  const out = Tensor.empty(shape, parts[0].dtype);
  const os = stridesOf(shape);
  let offset = 0;
  try {
    for (const t of parts) {
      const ts = stridesOf(t.shape);
      stridedCopy(op, t, out, {
        scatter: true,
        dstBase: offset * os[axis],
        dims: t.shape.map((size, d) => ({ size, src: ts[d], dst: os[d] })),
      });
      offset += t.shape[axis];
    }
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

/** The band of `g` along `axis` that came from positions [start, start+len) (dropped when `select`). */
function band(g: Tensor, axis: number, start: number, len: number, select: boolean, op: string): Tensor {
  const ranges = g.shape.map((d, i): DimRange => (i === axis ? { start, step: 1, len, keep: !select } : { start: 0, step: 1, len: d, keep: true }));
  return sliceRanges(g, ranges, op);
}

/**
 * Concatenates tensors along `axis` (negative counts from the end). All must have the same rank
 * and dtype and agree on every other dim; empty inputs are allowed.
 */
export function cat(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList(tensors, 'cat');
  const t0 = tensors[0];
  if (t0.rank === 0) throw new RangeError(`cat: tensors[0] (${t0.describe()}) is a scalar; zero-dim tensors cannot be concatenated (use stack)`);
  const a = normAxis(axis, t0.rank, 'cat');
  tensors.forEach((t, k) => {
    if (t.rank !== t0.rank || t.shape.some((d, i) => i !== a && d !== t0.shape[i])) {
      throw new RangeError(`cat: tensors[${k}] ${fmtShape(t.shape)} does not match tensors[0] ${fmtShape(t0.shape)} outside dim ${axis}`);
    }
  });
  const y = catKernel(tensors, a, 'cat');
  return record('cat', tensors, y, (g) => {
    let start = 0;
    return tensors.map((t) => {
      start += t.shape[a];
      return t.requiresGrad ? band(g, a, start - t.shape[a], t.shape[a], false, 'cat backward') : null;
    });
  });
}

/** Stacks same-shape tensors along a new dim `axis` (in [−rank−1, rank]). */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList(tensors, 'stack');
  const t0 = tensors[0];
  const a = normAxis(axis, t0.rank + 1, 'stack');
  tensors.forEach((t, k) => {
    if (t.rank !== t0.rank || t.shape.some((d, i) => d !== t0.shape[i])) {
      throw new RangeError(`stack: tensors[${k}] ${fmtShape(t.shape)} differs from tensors[0] ${fmtShape(t0.shape)}; stack needs equal shapes`);
    }
  });
  const unsqueezed = [...t0.shape.slice(0, a), 1, ...t0.shape.slice(a)];
  const views = tensors.map((t) => t.view(unsqueezed, false));
  let y: Tensor;
  try {
    y = catKernel(views, a, 'stack');
  } finally {
    for (const v of views) v.dispose();
  }
  return record('stack', tensors, y, (g) => tensors.map((t, k) => (t.requiresGrad ? band(g, a, k, 1, true, 'stack backward') : null)));
}
