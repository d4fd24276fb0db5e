/**
 * Layer normalisation over one axis: `layerNorm` over the last dim and `layerNorm2d` (SAM's
 * LayerNorm2d) over the channel dim of NCHW. Both see the tensor as [outer, C, inner] and
 * normalise every (outer, inner) row of C elements:
 *   y = (x − mean)·rstd·w + b,  rstd = 1/sqrt(var + eps)  (biased variance, as PyTorch).
 *
 * Forward: one fused kernel (mean, then the centred variance, then the output; it also stores
 * mean and rstd per row for backward). Backward: one fused kernel for dx,
 *   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = g·w,  x̂ = (x − mean)·rstd,
 * and, for dw = Σ g·x̂ and db = Σ g over all rows, per-chunk partial sums followed by a kernel
 * that adds the chunks (no float atomics).
 *
 * A row gets one thread, except long contiguous rows (last-dim norm with C ≥ {@link LONG_ROW}),
 * which get a workgroup with tree reductions (on GPUs; see `isWide`). With `inner` > 1 neighbouring threads own
 * neighbouring positions, so their loads are contiguous.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape, shapeEq } from '../tensor/shape.js';
import { record, recordsGrad } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, grid } from '../kernels/wgsl.js';
import { matmulKernelKind } from './matmul.js';
import { activationOp } from './unary.js';
import { add } from './binary.js';
import type { FusedActivation } from '../kernels/unary.js';
import { NORM_WG as WG, type NormVec4, normBackwardXKernel, normFinalWBKernel, normForwardKernel, normPartialWBKernel } from '../kernels/norm.js';

const LONG_ROW = 256;
/** Target number of threads of the dw/db partial-sum kernel. */
const PARTIAL_THREADS = 8192;

interface NormLayout {
  outer: number;
  c: number;
  inner: number;
}

const rowsOf = (l: NormLayout) => l.outer * l.inner;
/**
 * Workgroup rows (tree reductions between barriers) pay off on GPUs only: on CPU adapters
 * (lavapipe, where matmul takes subgroup tiles) every barrier is a coroutine switch of each SIMD
 * batch, and a thread per row measured ~4× faster (4096 × 256 forward: 56–81 → 12–14 ms).
 */
const isWide = (l: NormLayout) => l.inner === 1 && l.c >= LONG_ROW && (normTuning.wideOnCpu || matmulKernelKind() !== 'subgroup');

/** @internal — for tests: take the workgroup-row kernels on CPU adapters too; `vec4: false` keeps the scalar thread-per-row forward. */
export const normTuning = { wideOnCpu: false, vec4: true };

/** The vec4 form a thread-per-row forward can take for this layout (see `NormVec4`), if any. */
function normVec4(l: NormLayout): NormVec4 | undefined {
  if (!normTuning.vec4) return undefined;
  if (l.inner === 1) return l.c % 4 === 0 ? 'c' : undefined;
  return l.inner % 4 === 0 ? 'rows' : undefined;
}

function layoutParams(l: NormLayout): Params {
  return new Params().u32('rows', rowsOf(l)).u32('c', l.c).u32('inner', l.inner);
}

function normForward(x: Tensor, w: Tensor | null, b: Tensor | null, eps: number, l: NormLayout, act?: FusedActivation, plus: Tensor | null = null) {
  const y = Tensor.empty(x.shape);
  const mean = Tensor.empty([rowsOf(l)]);
  const rstd = Tensor.empty([rowsOf(l)]);
  const sum = plus ? Tensor.empty(x.shape) : null;
  if (y.size === 0) return { y, mean, rstd, sum };
  const wide = isWide(l);
  const vec4 = wide ? undefined : normVec4(l);
  const p = layoutParams(l).f32('eps', eps);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  backend.run({
    kernel: normForwardKernel({ wide, weight: w !== null, bias: b !== null, act, plus: plus !== null, vec4, params: p }),
    inputs: [x, w, b, plus].filter((t): t is Tensor => t !== null).map((t) => t.range),
    outputs: [y.range, mean.range, rstd.range, ...(sum ? [sum.range] : [])],
    params: p.bytes(),
    workgroups: wide ? grid(rowsOf(l), 1, maxWg) : grid(vec4 === 'rows' ? rowsOf(l) / 4 : rowsOf(l), WG, maxWg),
  });
  return { y, mean, rstd, sum };
}

function normBackwardX(g: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, w: Tensor | null, l: NormLayout): Tensor {
  const dx = Tensor.empty(x.shape);
  if (dx.size === 0) return dx;
  const wide = isWide(l);
  const p = layoutParams(l);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  backend.run({
    kernel: normBackwardXKernel({ wide, weight: w !== null, params: p }),
    inputs: [g, x, mean, rstd, ...(w ? [w] : [])].map((t) => t.range),
    outputs: [dx.range],
    params: p.bytes(),
    workgroups: wide ? grid(rowsOf(l), 1, maxWg) : grid(rowsOf(l), WG, maxWg),
  });
  return dx;
}

/**
 * dw = Σ g·x̂ and db = Σ g over every row, per channel. First pass: thread (channel, chunk) sums
 * its chunk of rows into PART [chunks, 2, C]; second pass: one thread per channel adds the chunks.
 */
function normBackwardWB(g: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, l: NormLayout): { dw: Tensor; db: Tensor } {
  const dw = Tensor.empty([l.c]);
  const db = Tensor.empty([l.c]);
  if (l.c === 0) return { dw, db };
  const rows = rowsOf(l);
  const chunks = Math.max(1, Math.min(Math.ceil(PARTIAL_THREADS / l.c), Math.ceil(rows / 16), 65535));
  const per = Math.max(1, Math.ceil(rows / chunks));
  const nChunks = Math.max(1, Math.ceil(rows / per));
  const part = Tensor.empty([nChunks, 2, l.c]);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  const p1 = layoutParams(l).u32('per', per);
  backend.run({
    kernel: normPartialWBKernel(p1),
    inputs: [g.range, x.range, mean.range, rstd.range],
    outputs: [part.range],
    params: p1.bytes(),
    workgroups: [Math.ceil(l.c / WG), nChunks],
  });
  const p2 = new Params().u32('c', l.c).u32('chunks', nChunks);
  backend.run({
    kernel: normFinalWBKernel(p2),
    inputs: [part.range],
    outputs: [dw.range, db.range],
    params: p2.bytes(),
    workgroups: grid(l.c, WG, maxWg),
  });
  part.dispose();
  return { dw, db };
}

function checkAffine(op: string, arg: string, t: Tensor | null | undefined, c: number, x: Tensor): Tensor | null {
  if (t === null || t === undefined) return null;
  assertTensor(t, op, arg);
  assertDType(t, ['f32'], op, arg);
  if (t.rank !== 1 || t.shape[0] !== c) {
    throw new RangeError(`${op}: ${arg} ${fmtShape(t.shape)} must have shape [${c}] to match the normalised dim of input x ${fmtShape(x.shape)}`);
  }
  return t;
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be a non-negative number, got ${eps}`);
}

/** The layout of a norm over x's last dim (x checked: an f32 tensor with at least one dim). */
function lastDimLayout(op: string, x: Tensor): NormLayout {
  assertTensor(x, op, 'x');
  assertDType(x, ['f32'], op, 'x');
  if (x.rank === 0) throw new RangeError(`${op}: input x ${fmtShape(x.shape)} needs at least one dim`);
  const c = x.shape[x.rank - 1];
  return { outer: x.size === 0 ? 0 : x.size / c, c, inner: 1 };
}

/** The forward pass without the tape (its per-row statistics freed): y, and y + plus when given. */
function normWithoutTape(x: Tensor, w: Tensor | null, b: Tensor | null, eps: number, l: NormLayout, act?: FusedActivation, plus: Tensor | null = null) {
  const { y, mean, rstd, sum } = normForward(x, w, b, eps, l, act, plus);
  mean.dispose();
  rstd.dispose();
  return { y, sum };
}

function normOp(op: string, x: Tensor, weight: Tensor | null | undefined, bias: Tensor | null | undefined, eps: number, l: NormLayout, options: NormOptions = {}): Tensor {
  const w = checkAffine(op, 'weight', weight, l.c, x);
  const b = checkAffine(op, 'bias', bias, l.c, x);
  checkEps(op, eps);
  if (options.activation !== undefined) {
    const activate = activationOp(op, options.activation);
    // Fused into the stores without gradients; with them, the norm and then the activation op.
    if (recordsGrad(x, w, b)) return activate(normOp(op, x, w, b, eps, l));
    return normWithoutTape(x, w, b, eps, l, options.activation).y;
  }
  const { y, mean, rstd } = normForward(x, w, b, eps, l);
  const needX = x.requiresGrad;
  const needWB = Boolean(w?.requiresGrad || b?.requiresGrad);
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  const out = record(
    op,
    inputs,
    y,
    (g, [sx, smean, srstd, sw]) => {
      const dx = needX ? normBackwardX(g, sx, smean, srstd, sw ?? null, l) : null;
      let dw: Tensor | null = null;
      let db: Tensor | null = null;
      if (needWB) ({ dw, db } = normBackwardWB(g, sx, smean, srstd, l));
      const grads: (Tensor | null)[] = [dx];
      if (w) grads.push(dw);
      else dw?.dispose();
      if (b) grads.push(db);
      else db?.dispose();
      return grads;
    },
    [x, mean, rstd, ...(w ? [w] : [])],
  );
  mean.dispose();
  rstd.dispose();
  return out;
}

/**
 * {@link layerNorm} and its sum with `other` (x's shape), e.g. a transformer's normalised tokens
 * and those tokens plus their positional encoding: [y, y + other]. Without gradients both come
 * from one pass (the sum stored beside y); with them, the norm and then the add op.
 */
export function layerNormPlus(x: Tensor, weight: Tensor | null, bias: Tensor | null, other: Tensor, eps = 1e-5): [Tensor, Tensor] {
  const op = 'layerNormPlus';
  const l = lastDimLayout(op, x);
  assertTensor(other, op, 'other');
  assertDType(other, ['f32'], op, 'other');
  if (!shapeEq(other.shape, x.shape)) throw new RangeError(`${op}: other ${fmtShape(other.shape)} must have the shape of x ${fmtShape(x.shape)}`);
  const w = checkAffine(op, 'weight', weight, l.c, x);
  const b = checkAffine(op, 'bias', bias, l.c, x);
  checkEps(op, eps);
  if (recordsGrad(x, w, b, other)) {
    const y = normOp('layerNorm', x, w, b, eps, l);
    return [y, add(y, other)];
  }
  const { y, sum } = normWithoutTape(x, w, b, eps, l, undefined, other);
  return [y, sum!];
}

/** Options of {@link layerNorm} and {@link layerNorm2d}. */
export interface NormOptions {
  /**
   * Applied to the output: 'relu' or 'gelu' (erf). Without gradients it happens as the norm
   * stores its output (one pass fewer); with them it is the activation op after the norm.
   */
  activation?: FusedActivation;
}

/**
 * Layer normalisation over the last dim (PyTorch `layer_norm` with `normalized_shape` = the last
 * dim): y = (x − mean)/sqrt(var + eps)·weight + bias. `weight` and `bias` ([C]) are optional.
 */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5, options: NormOptions = {}): Tensor {
  return normOp('layerNorm', x, weight, bias, eps, lastDimLayout('layerNorm', x), options);
}

/**
 * SAM's LayerNorm2d: normalises an NCHW tensor over its channel dim (dim 1) at every (n, h, w)
 * position, then applies a per-channel weight and bias ([C], optional).
 */
export function layerNorm2d(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-6, options: NormOptions = {}): Tensor {
  assertTensor(x, 'layerNorm2d', 'x');
  assertDType(x, ['f32'], 'layerNorm2d', 'x');
  if (x.rank < 2) throw new RangeError(`layerNorm2d: input x ${fmtShape(x.shape)} must be [N, C, ...] (NCHW)`);
  const [n, c] = x.shape;
  const inner = x.shape.slice(2).reduce((a, d) => a * d, 1);
  return normOp('layerNorm2d', x, weight, bias, eps, { outer: n, c, inner }, options);
}
