/**
 * slice (basic indexing with Python semantics) and narrow. The gradient scatters the output
 * gradient back into zeros: one gather pass over the input's shape that reads where the
 * coordinate lies on the slice's grid and writes 0 elsewhere.
 */
import type { Tensor } from '../tensor/tensor.js';
import { normAxis, stridesOf, type Shape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { assertWordTensor, gatherNew } from './indexing.js';

/**
 * How one dim is indexed: a number selects one position and drops the dim (negative counts from
 * the end), `null`/`undefined` keeps the whole dim, and `{start, end, step}` is Python's
 * `start:end:step` (negative start/end count from the end and are clamped; step ≥ 1).
 */
export type SliceSpec = number | null | undefined | { start?: number; end?: number; step?: number };

/** A resolved dim: positions start, start+step, … (len of them); `keep` is false for a selection. */
export interface DimRange {
  start: number;
  step: number;
  len: number;
  keep: boolean;
}

function resolveDim(spec: SliceSpec, size: number, dim: number, x: Tensor, op: string): DimRange {
  if (spec === null || spec === undefined) return { start: 0, step: 1, len: size, keep: true };
  if (typeof spec === 'number') {
    const i = spec < 0 ? spec + size : spec;
    if (!Number.isInteger(spec) || i < 0 || i >= size) {
      throw new RangeError(`${op}: index ${spec} is out of range for dim ${dim} of size ${size} (${x.describe()})`);
    }
    return { start: i, step: 1, len: 1, keep: false };
  }
  const step = spec.step ?? 1;
  if (!Number.isInteger(step) || step < 1) {
    throw new RangeError(`${op}: step ${step} of dim ${dim} must be a positive integer (${x.describe()})`);
  }
  const bound = (v: number | undefined, dflt: number, what: string) => {
    if (v === undefined || v === null) return dflt;
    if (!Number.isInteger(v)) throw new RangeError(`${op}: ${what} ${v} of dim ${dim} must be an integer (${x.describe()})`);
    return Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  };
  const start = bound(spec.start, 0, 'start');
  const end = bound(spec.end, size, 'end');
  return { start, step, len: Math.max(0, Math.ceil((end - start) / step)), keep: true };
}

/** Resolves one spec per leading dim (missing trailing dims are kept whole). */
export function resolveSlice(x: Tensor, specs: readonly SliceSpec[], op = 'slice'): DimRange[] {
  if (!Array.isArray(specs) || specs.length > x.rank) {
    throw new RangeError(`${op}: ${Array.isArray(specs) ? specs.length : 'non-array'} index specs given for ${x.describe()} of rank ${x.rank}`);
  }
  return x.shape.map((size, d) => resolveDim(specs[d], size, d, x, op));
}

/** Copies the selected elements of `x` (no autodiff). */
function gatherRanges(x: Tensor, ranges: readonly DimRange[]): Tensor {
  const xs = stridesOf(x.shape);
  return gatherNew('slice', x, ranges.filter((r) => r.keep).map((r) => r.len), {
    srcBase: ranges.reduce((b, r, d) => b + r.start * xs[d], 0),
    dims: ranges.flatMap((r, d) => (r.keep ? [{ size: r.len, src: r.step * xs[d] }] : [])),
  });
}

/** The gradient of a slice: `g` placed on the slice's grid inside zeros of `shape`. */
export function unslice(g: Tensor, shape: Shape, ranges: readonly DimRange[]): Tensor {
  const gs = stridesOf(ranges.map((r) => r.len));
  return gatherNew('slice backward', g, shape, {
    dims: shape.map((size, d) => ({ size, src: gs[d], lo: ranges[d].start, step: ranges[d].step, lim: ranges[d].len })),
    fill: 0,
  });
}

/** A recorded slice with already resolved ranges (shared by slice, narrow and split). */
export function sliceRanges(x: Tensor, ranges: readonly DimRange[], op: string): Tensor {
  const y = gatherRanges(x, ranges);
  return record(op, [x], y, (g) => [unslice(g, x.shape, ranges)]);
}

/**
 * Basic indexing: `specs[d]` indexes dim d (see {@link SliceSpec}); dims after the last spec are
 * kept whole. `slice(x, [null, {start: 1, end: 3}, {step: 2}, {start: 1}])` is `x[:, 1:3, ::2, 1:]`.
 * Always a copy.
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  assertWordTensor(x, 'slice', 'x');
  return sliceRanges(x, resolveSlice(x, specs), 'slice');
}

/** `length` positions of dim `axis` starting at `start` (negative axis and start count from the end). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  assertWordTensor(x, 'narrow', 'x');
  if (x.rank === 0) throw new RangeError(`narrow: ${x.describe()} has no dims to narrow`);
  const a = normAxis(axis, x.rank, 'narrow');
  const size = x.shape[a];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(`narrow: start ${start} and length ${length} do not fit dim ${axis} of ${x.describe()}`);
  }
  const ranges = x.shape.map((d, i): DimRange => (i === a ? { start: s, step: 1, len: length, keep: true } : { start: 0, step: 1, len: d, keep: true }));
  return sliceRanges(x, ranges, 'narrow');
}
