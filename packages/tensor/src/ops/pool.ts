/**
 * 2-D max and average pooling (NCHW, floor mode, PyTorch semantics). Forward is one thread per
 * output element. Backward gathers: each input pixel sums the output gradients of the windows
 * that contain it (for max pooling only those whose stored argmax is this pixel), so there are
 * no scattered writes and no atomics.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record, recordsGrad } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, WG, grid } from '../kernels/wgsl.js';
import { avgPoolGradKernel, avgPoolKernel, maxPoolChannelsLastKernel, maxPoolGradKernel, maxPoolKernel } from '../kernels/pool.js';
import { permute } from './permute.js';
import { runOverSamples } from './conv-batch.js';
import type { Kernel } from '../backend/backend.js';
import { assertNCHW, pair, type Size2 } from '../kernels/conv-geometry.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2dOptions {
  kernelSize: Size2;
  /** Default: kernelSize. */
  stride?: Size2;
  /** Implicit padding on each side (−∞ for max, zeros counted in the average); at most half the kernel. Default 0. */
  padding?: Size2;
}

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions extends Pool2dOptions {
  /**
   * x is [N, H, W, C] and so is the result (e.g. Hiera's token maps): read in place without
   * gradients; with them, permuted to NCHW and back around the NCHW op. Default false.
   */
  channelsLast?: boolean;
}

interface PoolGeometry {
  nc: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  k: [number, number];
  s: [number, number];
  p: [number, number];
}

function poolGeometry(op: string, x: Tensor, o: Pool2dOptions): PoolGeometry {
  assertTensor(x, op, 'x');
  assertDType(x, ['f32'], op, 'x');
  assertNCHW(x.shape, op, 'input x');
  return windowGeometry(op, x.shape, o, x.shape);
}

/** The pooling windows over an NCHW-ordered `nchw` (`shown` in errors: x's own shape). */
function windowGeometry(op: string, nchw: readonly number[], o: Pool2dOptions, shown: readonly number[]): PoolGeometry {
  const k = pair(o?.kernelSize, 0, op, 'kernelSize', 1);
  const s = o.stride === undefined ? k : pair(o.stride, 1, op, 'stride', 1);
  const p = pair(o.padding, 0, op, 'padding', 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) throw new RangeError(`${op}: padding ${p.join('×')} must be at most half the kernel ${k.join('×')}`);
  const [n, c, h, w] = nchw;
  const ho = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const wo = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  if (ho < 1 || wo < 1) throw new RangeError(`${op}: kernel ${k.join('×')} does not fit input x ${fmtShape(shown)} padded by ${p.join('×')}`);
  return { nc: n * c, h, w, ho, wo, k, s, p };
}

function poolParams(g: PoolGeometry, n: number): Params {
  return new Params()
    .u32('n', n)
    .u32('h', g.h)
    .u32('w', g.w)
    .u32('ho', g.ho)
    .u32('wo', g.wo)
    .i32('kh', g.k[0])
    .i32('kw', g.k[1])
    .i32('sy', g.s[0])
    .i32('sx', g.s[1])
    .i32('py', g.p[0])
    .i32('px', g.p[1]);
}

/**
 * Runs one pooling kernel over the samples of `x`, one thread per element of the output
 * (`over` 'out', forward) or of the input ('in', backward), in chunks of samples when a tensor
 * exceeds one binding (every tensor here is per sample). Average pooling's kernels also read
 * `scale` = 1/(kH·kW).
 */
function runPool(op: string, x: Tensor, g: PoolGeometry, over: 'out' | 'in', make: (p: Params) => Kernel, inputs: Tensor[], outputs: Tensor[], avg: boolean): void {
  const per = x.shape[1] * (over === 'out' ? g.ho * g.wo : g.h * g.w);
  const params = (count: number) => {
    const p = poolParams(g, count * per);
    return avg ? p.f32('scale', 1 / (g.k[0] * g.k[1])) : p;
  };
  runPerSample(op, x.shape[0], per, params, make, inputs, outputs);
}

/** Runs a kernel with a thread per unit, `per` units per sample, over chunks of samples (see {@link runPool}). */
function runPerSample(op: string, n: number, per: number, params: (count: number) => Params, make: (p: Params) => Kernel, inputs: Tensor[], outputs: Tensor[]): void {
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  runOverSamples(
    op,
    n,
    make(params(0)),
    inputs.map((t) => ({ perSample: t })),
    outputs.map((t) => ({ perSample: t })),
    (_n0, count) => params(count).bytes(),
    (count) => [...grid(count * per, WG, maxWg), 1],
  );
}

/**
 * Max pooling over kH×kW windows. The gradient goes to each window's first maximum (row-major
 * order, as PyTorch), whose index is kept in an i32 tensor between forward and backward.
 */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  const op = 'maxPool2d';
  if (options?.channelsLast) {
    assertTensor(x, op, 'x');
    if (recordsGrad(x)) return permute(maxPool2d(permute(x, [0, 3, 1, 2]), { ...options, channelsLast: false }), [0, 2, 3, 1]);
    return maxPoolChannelsLast(op, x, options);
  }
  const g = poolGeometry(op, x, options);
  const shape = [x.shape[0], x.shape[1], g.ho, g.wo];
  const y = Tensor.empty(shape);
  const idx = Tensor.empty(shape, 'i32');
  // NaN wins like in PyTorch (v != v); ties keep the first maximum (strict >).
  runPool(op, x, g, 'out', maxPoolKernel, [x], [y, idx], false);
  const out = record(
    op,
    [x],
    y,
    (dy, [sidx]) => {
      const dx = Tensor.empty(x.shape);
      runPool(op, x, g, 'in', maxPoolGradKernel, [dy, sidx], [dx], false);
      return [dx];
    },
    [idx],
  );
  idx.dispose();
  return out;
}

/** {@link maxPool2d} of an [N, H, W, C] map, in place (no autograd), vec4s when C is a multiple of 4. */
function maxPoolChannelsLast(op: string, x: Tensor, options: Pool2dOptions): Tensor {
  assertDType(x, ['f32'], op, 'x');
  if (x.rank !== 4) throw new RangeError(`${op}: input x must be 4-D (NHWC with channelsLast), got ${fmtShape(x.shape)}`);
  const [n, h, w, c] = x.shape;
  const g = windowGeometry(op, [n, c, h, w], options, x.shape);
  const y = Tensor.empty([n, g.ho, g.wo, c]);
  if (y.size === 0) return y;
  const vec = c % 4 === 0;
  const units = vec ? c / 4 : c;
  const per = g.ho * g.wo * units;
  runPerSample(op, n, per, (count) => poolParams(g, count * per).u32('c', units), (p) => maxPoolChannelsLastKernel(p, vec), [x], [y]);
  return y;
}

/**
 * Average pooling over kH×kW windows; padded taps count as zeros and every window is divided by
 * kH·kW (PyTorch's default count_include_pad; in floor mode no window reaches past the padding).
 */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const op = 'avgPool2d';
  const g = poolGeometry(op, x, options);
  const y = Tensor.empty([x.shape[0], x.shape[1], g.ho, g.wo]);
  runPool(op, x, g, 'out', avgPoolKernel, [x], [y], true);
  return record(op, [x], y, (dy) => {
    const dx = Tensor.empty(x.shape);
    runPool(op, x, g, 'in', avgPoolGradKernel, [dy], [dx], true);
    return [dx];
  });
}
