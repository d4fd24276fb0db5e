/**
 * The one data-movement op behind permute, slice, pad, cat, stack, repeat_interleave and their
 * gradients: a strided copy described by a {@link CopyPlan}, one thread per run of up to 4
 * elements along the innermost dim.
 *
 * Each op only says, per output dim, how a step along it moves through the source (a stride,
 * possibly 0, possibly through a window with an offset and a step). The planner then drops
 * size-1 dims and merges adjacent dims that move contiguously together, so most copies reach the
 * GPU as rank 1–3 and the per-thread index math stays short (the outer coordinates are decoded
 * once per 4 elements; the innermost dim needs no division at all). A copy that turns out to be
 * one contiguous block becomes a `copyBufferToBuffer`.
 *
 * Elements are moved as raw 32-bit words, so f32 and i32 tensors share the kernels (kernels/copy.ts).
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import { getBackend } from '../runtime.js';
import type { Backend } from '../backend/backend.js';
import { Params, grid } from '../kernels/wgsl.js';
import { COPY_PER_THREAD as PER_THREAD, COPY_WG as WG, copyKernel, transposeKernel, type CopyMode as Mode } from '../kernels/copy.js';

/** One dim of a copy, outer to inner. */
export interface CopyDim {
  /** Extent of the iteration along this dim (the output's size for gathers). */
  size: number;
  /** Source elements per step of the source coordinate (0 broadcasts). */
  src: number;
  /** Destination elements per step of the coordinate (scatter copies only). */
  dst?: number;
  /**
   * Window (gathers only): coordinate `o` reads source coordinate `q = (o − lo) / step`, valid when
   * that is an integer in `[0, lim)`; elsewhere the plan's `fill` is written. Defaults: lo 0,
   * step 1, lim `size` (every coordinate valid).
   */
  lo?: number;
  step?: number;
  lim?: number;
}

export interface CopyPlan {
  dims: CopyDim[];
  /** Source element where coordinate 0 reads. */
  srcBase?: number;
  /**
   * Scatter: write element `o` to `dstBase + Σ o_d·dst_d` (the rest of the destination is left
   * as it is). Otherwise the destination is written contiguously, in iteration order.
   */
  scatter?: boolean;
  dstBase?: number;
  /** Bits written where a window is out of range (f32 or i32 bit pattern). */
  fill?: number;
}

interface Dim {
  size: number;
  src: number;
  dst: number;
  lo: number;
  step: number;
  lim: number;
}

/** WebGPU's largest allowed minStorageBufferOffsetAlignment: offsets aligned to it always bind. */
const BIND_ALIGN_ELEMS = 256 / 4;

const trivial = (d: Dim) => d.lo === 0 && d.step === 1 && d.lim === d.size;

/** Drops size-1 dims and merges neighbours that move contiguously in source and destination. */
export function coalesceDims(dims: readonly CopyDim[], scatter: boolean): Dim[] {
  const out: Dim[] = [];
  for (const c of dims) {
    const d: Dim = { size: c.size, src: c.src, dst: c.dst ?? 0, lo: c.lo ?? 0, step: c.step ?? 1, lim: c.lim ?? c.size };
    if (d.size === 1 && trivial(d)) continue;
    const prev = out[out.length - 1];
    if (prev && trivial(prev) && trivial(d) && prev.src === d.size * d.src && (!scatter || prev.dst === d.size * d.dst)) {
      prev.size *= d.size;
      prev.lim = prev.size;
      prev.src = d.src;
      prev.dst = d.dst;
      continue;
    }
    out.push(d);
  }
  if (out.length === 0) out.push({ size: 1, src: 0, dst: 0, lo: 0, step: 1, lim: 1 });
  return out;
}

/** Throws unless `x` is a live tensor whose elements are 32-bit words (f32 or i32). */
export function assertWordTensor(x: unknown, op: string, arg: string): asserts x is Tensor {
  assertTensor(x, op, arg);
  assertDType(x, ['f32', 'i32'], op, arg);
}

/** Throws when a tensor cannot be bound whole (the copy kernels read sources in one binding). */
export function assertBindable(t: Tensor, op: string, role: string): void {
  const max = getBackend().maxBinding;
  if (t.range.size > max) {
    throw new RangeError(
      `${op}: ${role} ${t.describe()} takes ${t.range.size} bytes, more than the device's largest storage binding (${max}); ` +
        'split it along its first dim first',
    );
  }
}

/**
 * Runs a strided copy from `x` into `out`. For gathers `out` must hold exactly the product of
 * the plan's sizes; a gather whose output exceeds the largest storage binding is split into
 * several dispatches. Sources (and scatter destinations) must fit one binding.
 */
export function stridedCopy(op: string, x: Tensor, out: Tensor, plan: CopyPlan): void {
  const scatter = plan.scatter ?? false;
  const dims = coalesceDims(plan.dims, scatter);
  const total = dims.reduce((n, d) => n * d.size, 1);
  if (total === 0) return;
  const backend = getBackend();
  const srcBase = plan.srcBase ?? 0;
  const dstBase = plan.dstBase ?? 0;
  const mode: Mode = dims.every(trivial) ? 'plain' : dims.some((d) => d.step !== 1) ? 'wstep' : 'window';
  const rank = dims.length;

  // One contiguous block: let the copy engine do it (no binding limit, no kernel).
  if (mode === 'plain' && rank === 1 && dims[0].src === 1 && (!scatter || dims[0].dst === 1)) {
    backend.copy(x.store.buffer, srcBase * 4, out.store.buffer, dstBase * 4, total * 4);
    return;
  }
  assertBindable(x, op, 'input');
  if (scatter) assertBindable(out, op, 'output');
  if (mode === 'plain' && !scatter && transpose4(backend, x, out, dims, srcBase, total)) return;

  const cap = Math.max(4, Math.ceil(rank / 4) * 4);
  const inner = dims[rank - 1].size;
  const chunks = Math.ceil(inner / PER_THREAD);
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  const threadOf = (e: number) => Math.floor(e / inner) * chunks + Math.floor((e % inner) / PER_THREAD);

  // Destination element ranges, one per dispatch (gathers larger than a binding are split).
  const maxElems = Math.floor(backend.maxBinding / 4 / BIND_ALIGN_ELEMS) * BIND_ALIGN_ELEMS;
  const ranges: [number, number][] = [];
  if (scatter || total <= maxElems) ranges.push([0, total]);
  else for (let e0 = 0; e0 < total; e0 += maxElems) ranges.push([e0, Math.min(total, e0 + maxElems)]);

  for (const [e0, e1] of ranges) {
    const t0 = threadOf(e0);
    const n = threadOf(e1 - 1) - t0 + 1;
    const p = new Params()
      .u32('n', n)
      .u32('t0', t0)
      .u32('e0', e0)
      .u32('e1', e1)
      .u32('sbase', srcBase)
      .u32('dbase', dstBase)
      .u32('fill', plan.fill ?? 0)
      .u32s('shape', dims.map((d) => d.size), cap)
      .u32s('sst', dims.map((d) => d.src), cap);
    if (scatter) p.u32s('dst', dims.map((d) => d.dst), cap);
    if (mode !== 'plain') {
      p.i32s('lo', dims.map((d) => d.lo), cap);
      p.u32s('lim', dims.map((d) => d.lim), cap);
      if (mode === 'wstep') p.u32s('wstep', dims.map((d) => d.step), cap);
    }
    const output = scatter ? out.range : { buffer: out.store.buffer, offset: e0 * 4, size: (e1 - e0) * 4 };
    // Whole runs of 4 along the innermost dim and a range of whole vec4s: one vec4 store per thread.
    const vec4 = !scatter && inner % PER_THREAD === 0 && e0 % 4 === 0 && e1 % 4 === 0;
    // and one vec4 load: runs contiguous in the source, each starting at a multiple of 4
    const vec4Load = vec4 && mode === 'plain' && dims[rank - 1].src === 1 && srcBase % 4 === 0 && dims.slice(0, -1).every((d) => d.src % 4 === 0);
    backend.run({
      kernel: copyKernel(rank, mode, scatter, p, { vec4, vec4Load }),
      inputs: [x.range],
      outputs: [output],
      params: p.bytes(),
      workgroups: grid(n, WG, maxWg),
    });
  }
}

/**
 * The gather as a batched transpose of 4×4 blocks (`transposeKernel`) when it is one: the last
 * two coalesced dims swap a contiguous dim for a strided one, the sizes and strides are multiples
 * of 4, and the output fits one binding. Returns whether it ran.
 */
function transpose4(backend: Backend, x: Tensor, out: Tensor, dims: readonly Dim[], srcBase: number, total: number): boolean {
  const rank = dims.length;
  if (rank < 2 || rank > 3) return false;
  const [a, b] = [dims[rank - 2], dims[rank - 1]];
  const sb = rank === 3 ? dims[0].src : 0;
  if (a.src !== 1 || b.src === 1 || [a.size, b.size, b.src, sb, srcBase].some((v) => v % 4 !== 0)) return false;
  if (total * 4 > backend.maxBinding) return false;
  const n = total / 16;
  const p = new Params().u32('n', n).u32('na', a.size).u32('nb', b.size).u32('sj', b.src).u32('sb', sb).u32('sbase', srcBase);
  backend.run({ kernel: transposeKernel(p), inputs: [x.range], outputs: [out.range], params: p.bytes(), workgroups: grid(n, WG, backend.info.limits.maxComputeWorkgroupsPerDimension) });
  return true;
}

/** A new tensor of `shape` (x's dtype) filled by a gather; nothing leaks if the copy throws. */
export function gatherNew(op: string, x: Tensor, shape: Shape, plan: CopyPlan): Tensor {
  const out = Tensor.empty(shape, x.dtype);
  try {
    stridedCopy(op, x, out, plan);
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}
