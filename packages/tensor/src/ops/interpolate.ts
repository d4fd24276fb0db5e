/**
 * interpolate: resizing the last two dims (H, W) of a tensor with PyTorch's exact semantics
 * (`torch.nn.functional.interpolate` with `size`, or `scale_factor` without recomputing it).
 *
 * Every mode is separable, so each axis is a sparse linear map from `in` to `out` samples, given
 * as a row table (for each output index: the input indices it reads and their weights). The
 * tables are computed on the CPU in float64 (they depend only on the sizes and the mode), uploaded
 * as small i32 tensors (weights bit-cast), and applied by one gather kernel per axis. The backward
 * pass applies the transposed tables with the same kernel: each input sample sums over the outputs
 * that read it, with no atomics.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import { RESAMPLE_WG as WG_AXIS, resampleAxisKernel } from '../kernels/resample.js';
import { tensor } from './creation.js';

/** Resampling modes (PyTorch's names). */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

/** Options of {@link interpolate}: the output size (or scale factors) and the resampling mode. */
export interface InterpolateOptions {
  /** Output [height, width]. Give this or `scaleFactor`. */
  size?: readonly [number, number];
  /**
   * Scale factors [sh, sw]: the output is floor(in·s) and, as in PyTorch without
   * `recompute_scale_factor`, the sampling uses 1/s rather than in/out.
   */
  scaleFactor?: readonly [number, number];
  mode?: InterpolateMode;
  /** Bilinear/bicubic only: map the corner pixel centres onto each other (default false). */
  alignCorners?: boolean;
  /** Bilinear only: widen the triangle filter by the downscale factor (`_upsample_bilinear2d_aa`). */
  antialias?: boolean;
}

/**
 * A sparse linear map along one axis, row `d` reading `col[k]` with weight `w[k]` for
 * `rowPtr[d] ≤ k < rowPtr[d + 1]`.
 */
interface AxisMap {
  inSize: number;
  outSize: number;
  rowPtr: Int32Array;
  col: Int32Array;
  w: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Per-axis tables (PyTorch's index/weight rules, see ATen/native/UpSample.h)
// ---------------------------------------------------------------------------------------------

/** area_pixel_compute_scale: the source step per output sample. */
function pixelScale(inSize: number, outSize: number, alignCorners: boolean, factor: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return factor !== undefined && factor > 0 ? 1 / factor : inSize / outSize;
}

/** area_pixel_compute_source_index: linear modes clamp negative positions to 0, cubic does not. */
function sourceIndex(scale: number, dst: number, alignCorners: boolean, cubic: boolean): number {
  if (alignCorners) return scale * dst;
  const src = scale * (dst + 0.5) - 0.5;
  return !cubic && src < 0 ? 0 : src;
}

/** guard_index_and_lambda: integer part capped at in−1, fraction clamped to [0, 1]. */
function guard(src: number, inSize: number): [number, number] {
  const i = Math.min(Math.floor(Math.fround(src)), inSize - 1);
  return [i, Math.min(Math.max(src - i, 0), 1)];
}

const CUBIC_A = -0.75;
const cubic1 = (x: number) => ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
const cubic2 = (x: number) => ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;

/** The taps of output index `d`, as [input index, weight] pairs (indices may repeat). */
function rowTaps(mode: InterpolateMode, inSize: number, outSize: number, d: number, alignCorners: boolean, antialias: boolean, factor: number | undefined): [number, number][] {
  if (mode === 'nearest' || mode === 'nearest-exact') {
    // PyTorch computes the nearest scale in float32 (compute_scales_value<float>).
    const s = Math.fround(factor !== undefined && factor > 0 ? 1 / factor : inSize / outSize);
    let src: number;
    if (mode === 'nearest') {
      if (outSize === inSize) src = d;
      else if (outSize === 2 * inSize) src = d >> 1;
      else src = Math.floor(Math.fround(Math.fround(d) * s));
    } else {
      src = Math.floor(Math.fround((d + 0.5) * s));
    }
    return [[Math.min(src, inSize - 1), 1]];
  }
  const scale = pixelScale(inSize, outSize, alignCorners, factor);
  if (mode === 'bilinear' && antialias) {
    // _compute_weights_aa (PIL's resampling): a triangle filter stretched by the downscale factor,
    // normalised over the taps that fall inside the input.
    const support = scale >= 1 ? scale : 1;
    const inv = scale >= 1 ? 1 / scale : 1;
    const center = scale * (d + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const taps: [number, number][] = [];
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = Math.abs((j + xmin - center + 0.5) * inv);
      const w = x < 1 ? 1 - x : 0;
      taps.push([xmin + j, w]);
      total += w;
    }
    if (total !== 0) for (const t of taps) t[1] /= total;
    return taps;
  }
  if (mode === 'bilinear') {
    const [i0, l1] = guard(sourceIndex(scale, d, alignCorners, false), inSize);
    const i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
    return [
      [i0, 1 - l1],
      [i1, l1],
    ];
  }
  // bicubic: four taps around floor(src), clamped to the border.
  const [i, t] = guard(sourceIndex(scale, d, alignCorners, true), inSize);
  const c = [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
  return c.map((w, k) => [Math.min(Math.max(i - 1 + k, 0), inSize - 1), w]);
}

/** Builds the table of one axis; repeated indices are merged and zero weights dropped. */
function axisMap(mode: InterpolateMode, inSize: number, outSize: number, alignCorners = false, antialias = false, factor?: number): AxisMap {
  const rowPtr = new Int32Array(outSize + 1);
  const cols: number[] = [];
  const ws: number[] = [];
  for (let d = 0; d < outSize; d++) {
    const merged = new Map<number, number>();
    for (const [c, w] of rowTaps(mode, inSize, outSize, d, alignCorners, antialias, factor)) merged.set(c, (merged.get(c) ?? 0) + w);
    for (const [c, w] of [...merged].sort((a, b) => a[0] - b[0])) {
      if (w === 0) continue;
      cols.push(c);
      ws.push(w);
    }
    rowPtr[d + 1] = cols.length;
  }
  return { inSize, outSize, rowPtr, col: Int32Array.from(cols), w: Float64Array.from(ws) };
}

/** The transposed map (out → in becomes in → out): what the backward pass gathers with. */
function transposeMap(m: AxisMap): AxisMap {
  const count = new Int32Array(m.inSize + 1);
  for (const c of m.col) count[c + 1]++;
  for (let i = 0; i < m.inSize; i++) count[i + 1] += count[i];
  const rowPtr = Int32Array.from(count);
  const fill = Int32Array.from(count);
  const col = new Int32Array(m.col.length);
  const w = new Float64Array(m.col.length);
  for (let d = 0; d < m.outSize; d++) {
    for (let k = m.rowPtr[d]; k < m.rowPtr[d + 1]; k++) {
      const at = fill[m.col[k]]++;
      col[at] = d;
      w[at] = m.w[k];
    }
  }
  return { inSize: m.outSize, outSize: m.inSize, rowPtr, col, w };
}

function isIdentity(m: AxisMap): boolean {
  if (m.inSize !== m.outSize || m.col.length !== m.outSize) return false;
  for (let d = 0; d < m.outSize; d++) if (m.col[d] !== d || m.w[d] !== 1) return false;
  return true;
}

// Tables depend only on sizes and mode; keep the recent ones (CPU memory, a few KiB each).
const tableCache = new Map<string, { fwd: AxisMap; bwd?: AxisMap }>();
const TABLE_CACHE_MAX = 64;

function cachedMap(key: string, make: () => AxisMap): { fwd: AxisMap; bwd?: AxisMap } {
  let e = tableCache.get(key);
  if (!e) {
    if (tableCache.size >= TABLE_CACHE_MAX) tableCache.delete(tableCache.keys().next().value!);
    e = { fwd: make() };
    tableCache.set(key, e);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// The gather kernel (kernels/resample.ts): Y[a, d, b] = Σ_k w[k] · X[a, col[k], b] over one axis
// ---------------------------------------------------------------------------------------------

let bindingLimitOverride: number | null = null;

/** @internal Test hook: pretend the device's binding limit is `bytes` (null restores it). */
export function setResampleBindingLimitForTests(bytes: number | null): void {
  bindingLimitOverride = bytes;
}

/** Packs a map as i32: rowPtr (out+1), then (col, weight bits) pairs. */
function packMap(m: AxisMap): Int32Array {
  const base = m.outSize + 1;
  const packed = new Int32Array(base + 2 * m.col.length);
  packed.set(m.rowPtr);
  const f = new Float32Array(packed.buffer);
  for (let k = 0; k < m.col.length; k++) {
    packed[base + 2 * k] = m.col[k];
    f[base + 2 * k + 1] = m.w[k];
  }
  return packed;
}

/** Whether {@link applyAxis} reads and writes rows of `inner` values as vec4s. */
function readsVec4(inner: number): boolean {
  return inner % 4 === 0;
}

/**
 * Applies `m` along the middle axis of `x` viewed as [outer, m.inSize, inner]; returns
 * [outer, m.outSize, inner] (as `outShape`). Splits the rows when a binding would exceed the
 * device's limit.
 */
function applyAxis(x: Tensor, m: AxisMap, outer: number, inner: number, outShape: readonly number[], op: string): Tensor {
  const out = Tensor.empty(outShape);
  if (out.size === 0) return out;
  const backend = getBackend();
  const limits = backend.info.limits;
  const table = tensor(packMap(m), [m.outSize + 1 + 2 * m.col.length], { dtype: 'i32' });
  const vec = readsVec4(inner);
  const innerV = vec ? inner / 4 : inner;
  const rowIn = m.inSize * inner * 4;
  const rowOut = m.outSize * inner * 4;
  const limit = bindingLimitOverride ?? backend.maxBinding;
  // A chunk's bindings start at the aligned offset at or before its first row; the kernel skips
  // the few leading elements (`xoff`, `yoff`).
  const align = backend.device.limits?.minStorageBufferOffsetAlignment ?? 256;
  let rows = outer;
  if (outer * Math.max(rowIn, rowOut) > limit) {
    rows = Math.floor((limit - align) / Math.max(rowIn, rowOut));
    if (rows < 1) {
      throw new RangeError(`${op}: one row of ${fmtShape(outShape)} (${Math.max(rowIn, rowOut)} bytes) exceeds the device's binding limit (${limit} bytes)`);
    }
  }
  const unit = vec ? 16 : 4;
  const range = (t: Tensor, start: number, bytes: number) => {
    const offset = Math.floor(start / align) * align;
    return { range: { buffer: t.store.buffer, offset, size: start - offset + bytes }, skip: (start - offset) / unit };
  };
  const maxWg = limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.max(1, Math.min(Math.ceil((m.outSize * innerV) / WG_AXIS), maxWg));
  try {
    for (let a0 = 0; a0 < outer; a0 += rows) {
      const nRows = Math.min(rows, outer - a0);
      const xr = range(x, a0 * rowIn, nRows * rowIn);
      const yr = range(out, a0 * rowOut, nRows * rowOut);
      const p = new Params()
        .u32('outer', nRows)
        .u32('lin', m.inSize)
        .u32('lout', m.outSize)
        .u32('inner', innerV)
        .u32('base', m.outSize + 1)
        .u32('xoff', xr.skip)
        .u32('yoff', yr.skip);
      const gy = Math.min(nRows, maxWg);
      const gz = Math.ceil(nRows / gy);
      backend.run({
        kernel: resampleAxisKernel(vec, p),
        inputs: [xr.range, table.range],
        outputs: [yr.range],
        params: p.bytes(),
        workgroups: [gx, gy, gz],
      });
    }
  } finally {
    table.dispose();
  }
  return out;
}

/**
 * Applies the H map then the W map (or the other order, whichever does less work) to `x` of
 * shape [..., H, W]. Identity axes are skipped; when both are, returns a view.
 */
function resample2d(x: Tensor, mh: AxisMap, mw: AxisMap, op: string): Tensor {
  const lead = x.shape.slice(0, -2);
  const outer = lead.reduce((a, b) => a * b, 1);
  const [hIn, wIn] = [mh.inSize, mw.inSize];
  const [hOut, wOut] = [mh.outSize, mw.outSize];
  const idH = isIdentity(mh);
  const idW = isIdentity(mw);
  if (idH && idW) return x.view(x.shape);
  const passW = (t: Tensor, h: number) => applyAxis(t, mw, outer * h, 1, [...lead, h, wOut], op);
  const passH = (t: Tensor, w: number) => applyAxis(t, mh, outer, w, [...lead, hOut, w], op);
  if (idH) return passW(x, hIn);
  if (idW) return passH(x, wIn);
  // Work in loads: the W pass (inner 1) gathers a scalar per tap and output; the H pass reads
  // its rows as vec4s where `applyAxis` can, and a vec4 load costs about what a scalar one does
  // (lavapipe, mask upsampling 128² → 768×1024: 47 ms of resampling with the W pass last, 26 ms
  // with it first; profiled under load).
  const nnzH = mh.col.length;
  const nnzW = mw.col.length;
  const loads = (width: number) => (readsVec4(width) ? width / 4 : width);
  const wFirst = hIn * nnzW + nnzH * loads(wOut) <= nnzH * loads(wIn) + hOut * nnzW;
  const mid = wFirst ? passW(x, hIn) : passH(x, wIn);
  const out = wFirst ? passH(mid, wOut) : passW(mid, hOut);
  mid.dispose();
  return out;
}

// ---------------------------------------------------------------------------------------------
// The op
// ---------------------------------------------------------------------------------------------

/** Output size and per-axis scale factor (undefined when sizes were given). */
function resolveSize(x: Tensor, o: InterpolateOptions): { size: [number, number]; factors: [number | undefined, number | undefined] } {
  const [h, w] = x.shape.slice(-2);
  if (o.size && o.scaleFactor) throw new TypeError(`interpolate: give either size or scaleFactor, not both (input ${x.describe()})`);
  if (o.size) {
    const [oh, ow] = o.size;
    if (o.size.length !== 2 || ![oh, ow].every((s) => Number.isInteger(s) && s > 0)) {
      throw new RangeError(`interpolate: size must be two positive integers, got [${o.size.join(', ')}] (input ${x.describe()})`);
    }
    return { size: [oh, ow], factors: [undefined, undefined] };
  }
  if (o.scaleFactor) {
    const [sh, sw] = o.scaleFactor;
    if (o.scaleFactor.length !== 2 || !(sh > 0) || !(sw > 0)) {
      throw new RangeError(`interpolate: scaleFactor must be two positive numbers, got [${o.scaleFactor.join(', ')}] (input ${x.describe()})`);
    }
    const size: [number, number] = [Math.floor(h * sh), Math.floor(w * sw)];
    if (size[0] < 1 || size[1] < 1) {
      throw new RangeError(`interpolate: scaleFactor [${sh}, ${sw}] gives an empty output ${fmtShape(size)} for input ${x.describe()}`);
    }
    return { size, factors: [sh, sw] };
  }
  throw new TypeError(`interpolate: options.size or options.scaleFactor is required (input ${x.describe()})`);
}

/**
 * Resizes the last two dims of `x` (NCHW, or any [..., H, W]) like PyTorch's
 * `F.interpolate(x, size, mode, align_corners, antialias)`:
 * - `bilinear`: src = (dst + 0.5)·in/out − 0.5 clamped at 0 (or dst·(in−1)/(out−1) with
 *   `alignCorners`); with `antialias` a triangle filter of support max(1, in/out), normalised
 *   per output sample (equal to plain bilinear when upscaling);
 * - `bicubic`: Keys cubic with a = −0.75, taps clamped to the border;
 * - `nearest`: src = floor(dst·in/out) (PyTorch's legacy nearest), `nearest-exact`:
 *   floor((dst + 0.5)·in/out).
 * Differentiable w.r.t. `x`.
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  assertTensor(x, 'interpolate', 'x');
  assertDType(x, ['f32'], 'interpolate', 'x');
  const mode = options.mode ?? 'nearest';
  const alignCorners = options.alignCorners ?? false;
  const antialias = options.antialias ?? false;
  if (!['nearest', 'nearest-exact', 'bilinear', 'bicubic'].includes(mode)) {
    throw new TypeError(`interpolate: unsupported mode '${mode}' (expected nearest, nearest-exact, bilinear or bicubic)`);
  }
  if (x.rank < 2) throw new RangeError(`interpolate: input ${x.describe()} needs at least 2 dims ([..., H, W])`);
  const [h, w] = x.shape.slice(-2);
  if (h === 0 || w === 0) throw new RangeError(`interpolate: input ${x.describe()} has an empty spatial dim`);
  if (alignCorners && mode !== 'bilinear' && mode !== 'bicubic') {
    throw new TypeError(`interpolate: alignCorners only applies to bilinear and bicubic, not '${mode}'`);
  }
  if (antialias && mode !== 'bilinear') throw new TypeError(`interpolate: antialias is only supported with mode 'bilinear', not '${mode}'`);
  const { size, factors } = resolveSize(x, options);
  const make = (axis: 0 | 1) => {
    const [inS, outS, f] = axis === 0 ? [h, size[0], factors[0]] : [w, size[1], factors[1]];
    return cachedMap(`${mode}:${inS}:${outS}:${alignCorners}:${antialias}:${f}`, () => axisMap(mode, inS, outS, alignCorners, antialias, f));
  };
  const th = make(0);
  const tw = make(1);
  const y = resample2d(x, th.fwd, tw.fwd, 'interpolate');
  return record('interpolate', [x], y, (g) => {
    th.bwd ??= transposeMap(th.fwd);
    tw.bwd ??= transposeMap(tw.fwd);
    return [resample2d(g, th.bwd, tw.bwd, 'interpolate backward')];
  });
}
