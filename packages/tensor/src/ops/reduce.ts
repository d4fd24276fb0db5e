/**
 * Reductions over any set of axes: sum, mean, amax. Adjacent dims of the same kind (kept or
 * reduced) are merged first, so the common cases (last axis, all axes) become one contiguous run.
 * Small reductions use one thread per output; long ones one workgroup per output with a tree
 * reduction in workgroup memory.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { broadcastAxes, normAxis, shapeEq, stridesOf, type Shape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, grid } from '../kernels/wgsl.js';
import { REDUCE_WG, reductionKernel, type ReduceKind } from '../kernels/reduce.js';
import { broadcastMap } from './broadcast-map.js';

/** Axes to reduce: one axis, several, or null/undefined for all. */
export type Axes = number | readonly number[] | null | undefined;

const LONG = 256;

/**
 * The axes to reduce as sorted, deduplicated, non-negative indices (all axes for null/undefined);
 * throws naming `op` when one is out of range.
 */
export function normAxes(axes: Axes, rank: number, op: string): number[] {
  if (axes === null || axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = [...new Set(list.map((a) => normAxis(a, rank, op)))];
  return out.sort((a, b) => a - b);
}

/** Merges adjacent dims of the same kind; returns runs of [size, stride, reduced]. */
function coalesce(shape: Shape, reduced: Set<number>): { size: number; stride: number; red: boolean }[] {
  const strides = stridesOf(shape);
  const runs: { size: number; stride: number; red: boolean }[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const red = reduced.has(i);
    const last = runs[runs.length - 1];
    if (last && last.red === red && last.stride === d * strides[i]) {
      last.size *= d;
      last.stride = strides[i];
    } else runs.push({ size: d, stride: strides[i], red });
  });
  return runs;
}

function runReduction(kind: ReduceKind, x: Tensor, axes: number[]): Tensor {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = Tensor.empty(keptShape);
  if (out.size === 0) return out;
  const runs = coalesce(x.shape, new Set(axes));
  const kept = runs.filter((r) => !r.red);
  const red = runs.filter((r) => r.red);
  const r = red.reduce((n, q) => n * q.size, 1);
  const long = r >= LONG;
  const kr = kept.length;
  const rr = red.length;
  const cap = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);
  const p = new Params()
    .u32('n', out.size)
    .u32('r', r)
    .u32s('kshape', kept.map((q) => q.size), cap(kr))
    .u32s('kstride', kept.map((q) => q.stride), cap(kr))
    .u32s('rshape', red.map((q) => q.size), cap(rr))
    .u32s('rstride', red.map((q) => q.stride), cap(rr));
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  backend.run({
    kernel: reductionKernel({ kind, long, kr, rr, params: p }),
    inputs: [x.range],
    outputs: [out.range],
    params: p.bytes(),
    workgroups: long ? grid(out.size, 1, maxWg) : grid(out.size, REDUCE_WG, maxWg),
  });
  return out;
}

function finish(y: Tensor, x: Tensor, axes: number[], keepdim: boolean): Tensor {
  if (keepdim) return y;
  const v = y.view(x.shape.filter((_, i) => !axes.includes(i)));
  y.dispose();
  return v;
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes: Axes = null, keepdim = false): Tensor {
  assertTensor(x, 'sum', 'x');
  assertDType(x, ['f32'], 'sum', 'x');
  const ax = normAxes(axes, x.rank, 'sum');
  const y = finish(runReduction('sum', x, ax), x, ax, keepdim);
  return record('sum', [x], y, (g) => [expandTo(g, x.shape, ax)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes: Axes = null, keepdim = false): Tensor {
  assertTensor(x, 'mean', 'x');
  assertDType(x, ['f32'], 'mean', 'x');
  const ax = normAxes(axes, x.rank, 'mean');
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const s = runReduction('sum', x, ax);
  const m = broadcastMap('scale', 'a * p0', [s], [1 / count]);
  s.dispose();
  const y = finish(m, x, ax, keepdim);
  return record('mean', [x], y, (g) => {
    const e = expandTo(g, x.shape, ax);
    const r = broadcastMap('scale', 'a * p0', [e], [1 / count]);
    e.dispose();
    return [r];
  });
}

/** Maximum over `axes`; the gradient is shared equally among tied maxima (as PyTorch's amax). */
export function amax(x: Tensor, axes: Axes = null, keepdim = false): Tensor {
  assertTensor(x, 'amax', 'x');
  assertDType(x, ['f32'], 'amax', 'x');
  const ax = normAxes(axes, x.rank, 'amax');
  const yk = runReduction('max', x, ax);
  const y = finish(yk.view(yk.shape), x, ax, keepdim);
  const out = record(
    'amax',
    [x],
    y,
    (g, [sx, sy]) => {
      const mask = broadcastMap('eq', 'select(0.0, 1.0, a == b)', [sx, sy]);
      const count = runReduction('sum', mask, ax);
      const gk = g.view(sy.shape, false);
      const share = broadcastMap('div', 'a / b', [gk, count]);
      const r = broadcastMap('mul', 'a * b', [mask, share]);
      for (const t of [mask, count, gk, share]) t.dispose();
      return [r];
    },
    [x, yk],
  );
  yk.dispose();
  return out;
}

/** Broadcasts a reduced gradient back to `shape` (the reduced axes may be dropped or kept). */
function expandTo(g: Tensor, shape: Shape, axes: number[]): Tensor {
  const gk = g.view(shape.map((d, i) => (axes.includes(i) ? 1 : d)), false);
  const r = broadcastMap('copy', 'a', [gk], [], 'expand', shape);
  gk.dispose();
  return r;
}

/**
 * Sums `g` over the axes where `shape` was broadcast up to `g.shape`, giving a tensor of
 * `shape`. Always returns a new tensor object (a view when nothing needs summing).
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapeEq(g.shape, shape)) return g.view(shape);
  const axes = broadcastAxes(shape, g.shape);
  const y = axes.length ? runReduction('sum', g, axes) : g.view(g.shape);
  const r = y.view(shape);
  y.dispose();
  return r;
}

/** {@link sumTo} that takes ownership of `g` (disposes it). */
export function reduceTo(g: Tensor, shape: Shape): Tensor {
  const r = sumTo(g, shape);
  g.dispose();
  return r;
}
