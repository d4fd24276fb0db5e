/**
 * scaled_dot_product_attention: softmax(q·kᵀ·scale)·v, fused so that the Lq×Lk score matrix is
 * never materialised (forward and backward; see kernels/attention-forward.ts and
 * kernels/attention-backward.ts). Memory is O((Lq + Lk)·D) per head, so SAM 2's 4096-token global
 * attention (whose scores would be 512 MiB for 8 heads) stays far below a 128 MiB binding limit.
 *
 * Heads (all leading dims flattened) are dispatched in chunks such that no binding exceeds the
 * device's maxStorageBufferBindingSize and the head count fits one workgroup-grid dimension; a
 * chunk is bound at an aligned offset with its element skew passed as a uniform.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record, recordsGrad } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { tidy } from '../scope.js';
import { matmul, matmulKernelKind, stridedGemmFits, stridedGemmInto } from './matmul.js';
import { softmax } from './softmax.js';
import { mulScalar } from './unary.js';
import { transpose } from './permute.js';
import { slice } from './slice.js';
import { reshape } from './reshape.js';
import { cat } from './concat.js';
import type { Backend, BufferRange, Kernel } from '../backend/backend.js';
import { REG_MAX_VEC4, attentionForwardKernel, attentionForwardRegKernel } from '../kernels/attention-forward.js';
import { MAX_TILE, attentionBackwardKVKernel, attentionBackwardQKernel } from '../kernels/attention-backward.js';
import { attentionParams, fitChunk, tileRows, vec4s, type AttentionKernelConfig, type AttentionParams, type RowLayout } from '../kernels/attention-wgsl.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Multiplies q·kᵀ before the softmax; default 1/sqrt(D). */
  scale?: number;
  /**
   * 'fused': the flash kernels (memory linear in the sequence lengths); 'materialized': batched
   * matmul → softmax → matmul, which keeps the score matrix; 'auto' (default): materialized when
   * the scores take at most {@link MATERIALIZED_SCORE_BYTES} (and fit one binding), else fused;
   * except that on CPU adapters (subgroup matmul tiles), when no gradient is needed, sequences of
   * 32 queries or more with head dims ≤ 32 take the fused register kernel, and larger score
   * matrices with wider heads are materialised a chunk of query rows at a time.
   */
  impl?: 'auto' | 'fused' | 'materialized';
}

/**
 * Score bytes up to which 'auto' materialises the scores. Many short sequences (windowed
 * attention: e.g. 256 windows × 64 tokens) leave the fused kernels' workgroups mostly idle; there
 * the plain matmul path was 5–10× faster forward and backward on lavapipe (bench in the commit
 * that added it), while long sequences (SAM 2's 4096-token global attention) keep the fused path.
 */
export const MATERIALIZED_SCORE_BYTES = 32 * 1024 * 1024;

const OP = 'scaledDotProductAttention';
/** Shortest query sequence for which 'auto' takes the register forward kernel over the materialised path (no gradients). */
const REG_AUTO_MIN_LQ = 32;
const THREADS = 64;
const LOG2E = 1.4426950408889634;

interface Dims {
  bh: number;
  lq: number;
  lk: number;
  d: number;
  dv: number;
  scale: number;
}

function dimsOf(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Dims {
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new RangeError(`${OP}: q, k and v must have the same rank ≥ 2 ([..., L, D]); got ${shapes}`);
  }
  const r = q.rank;
  for (let i = 0; i < r - 2; i++) {
    if (k.shape[i] !== q.shape[i] || v.shape[i] !== q.shape[i]) {
      throw new RangeError(`${OP}: the leading (batch, head) dims of q, k and v must match; got ${shapes}`);
    }
  }
  if (k.shape[r - 1] !== q.shape[r - 1]) throw new RangeError(`${OP}: k's head dim must equal q's; got ${shapes}`);
  if (v.shape[r - 2] !== k.shape[r - 2]) throw new RangeError(`${OP}: v must have as many rows (keys) as k; got ${shapes}`);
  const bh = q.shape.slice(0, r - 2).reduce((a, b) => a * b, 1);
  const lq = q.shape[r - 2];
  const lk = k.shape[r - 2];
  const d = q.shape[r - 1];
  const dv = v.shape[r - 1];
  if (lk === 0 && bh * lq > 0) throw new RangeError(`${OP}: k and v have no rows (Lk = 0); the softmax is undefined (${shapes})`);
  if (d === 0 || dv === 0) throw new RangeError(`${OP}: head dims must be ≥ 1; got ${shapes}`);
  if (Math.max(vec4s(d), vec4s(dv)) > slotsOf('kv')) {
    throw new RangeError(`${OP}: head dims above ${slotsOf('kv') * 4} are not supported (one staged row must fit workgroup memory); got ${shapes}`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new RangeError(`${OP}: scale must be finite, got ${scale}`);
  return { bh, lq, lk, d, dv, scale };
}

/** A chunk of heads [h0, h0 + nh) of a tensor with `per` elements per head. */
function headSlice(backend: Backend, t: Tensor, h0: number, nh: number, per: number): { range: BufferRange; skew: number } {
  const align = backend.device.limits?.minStorageBufferOffsetAlignment ?? 256;
  const start = h0 * per * 4;
  const offset = start - (start % align);
  return { range: { buffer: t.range.buffer, offset, size: start - offset + nh * per * 4 }, skew: (start - offset) / 4 };
}

/** Heads per dispatch: every binding (with up to one alignment of skew) must fit maxBinding. */
function headsPerChunk(backend: Backend, dims: Dims): number {
  const align = backend.device.limits?.minStorageBufferOffsetAlignment ?? 256;
  const { lq, lk, d, dv } = dims;
  const perHead = 4 * Math.max(lq * d, lk * d, lk * dv, lq * dv, lq);
  const n = Math.floor((backend.maxBinding - align) / perHead);
  if (n < 1) {
    throw new RangeError(
      `${OP}: one head of q/k/v/out (Lq ${lq}, Lk ${lk}, D ${d}, Dv ${dv}) needs ${perHead} bytes, above the device's ` +
        `maxStorageBufferBindingSize ${backend.maxBinding}`,
    );
  }
  return Math.min(n, dims.bh, backend.info.limits.maxComputeWorkgroupsPerDimension);
}

function forEachChunk(backend: Backend, dims: Dims, fn: (h0: number, nh: number) => void): void {
  const n = headsPerChunk(backend, dims);
  for (let h0 = 0; h0 < dims.bh; h0 += n) fn(h0, Math.min(n, dims.bh - h0));
}

function groups(backend: Backend, rows: number, cfg: AttentionKernelConfig): number {
  const g = Math.ceil(rows / (cfg.threads * cfg.rows));
  const max = backend.info.limits.maxComputeWorkgroupsPerDimension;
  if (g > max) throw new RangeError(`${OP}: ${rows} rows need ${g} workgroups, above the limit ${max}`);
  return g;
}

/**
 * Kernel shapes: threads per workgroup, rows per thread and the register block's chunk of the
 * other side, for the forward and the backward kernels (the backward keeps two score blocks).
 * Measured on lavapipe (B 8, L 1024, D 72): forward 4×16 blocks ≈ 1.4× faster than 4×8; larger
 * blocks compile much more slowly. @internal — exposed for benchmarks.
 */
export const attentionTuning = {
  threads: THREADS,
  rows: 4,
  chunk: 16,
  bwdRows: 4,
  bwdChunk: 8,
  /**
   * The forward register kernel for small head dims (see `forwardVariant`): whether to use it, its
   * most rows per thread for head dims ≤ 16 and ≤ 32, and its chunk of keys. Measured on lavapipe
   * at 4 heads × 4096 × D 16: rows 8 × chunk 8 0.36 s, 4 × 8 0.75 s, 4 × 16 0.44 s, 8 × 16 0.44 s.
   */
  reg: true,
  regRows: 8,
  regRowsWide: 4,
  regChunk: 8,
  /** Score bytes up to which 'auto' materialises, and the most a query chunk of the chunked path keeps (tests lower it). */
  materializedBytes: MATERIALIZED_SCORE_BYTES,
  /** Whether {@link packedAttention} may read the heads in place (false: always split, attend, merge; for A/B timings). */
  packed: true,
  /** Shortest query sequence for which {@link packedAttention} reads the heads in place. */
  packedMinLq: REG_AUTO_MIN_LQ,
};

/**
 * vec4 slots per staged tile array: two arrays fill the workgroup memory (32 KiB on lavapipe and
 * most GPUs); the key pass keeps room for its lse and Δ tiles.
 */
function slotsOf(pass: 'fwd' | 'q' | 'kv'): number {
  const bytes = Math.min(32768, getBackend().info.limits.maxComputeWorkgroupStorageSize);
  return Math.floor((bytes - (pass === 'kv' ? 8 * MAX_TILE : 0)) / 32);
}

interface Variant {
  cfg: AttentionKernelConfig;
  /** Rows of the other side per staged tile. */
  tile: number;
  /** Whether the kernel addresses Q, K, V and O through row layouts (the register forward kernel). */
  laidOut?: boolean;
}

/**
 * The kernel variant of a pass. Head dims are uniforms; only their divisibility by 4 (vec4
 * bindings) and, for very large head dims, a smaller register block select another variant.
 */
function variant(d: number, dv: number, pass: 'fwd' | 'q' | 'kv'): Variant {
  const { threads } = attentionTuning;
  const fwd = pass === 'fwd';
  const slots = slotsOf(pass);
  const perRow = Math.max(vec4s(d), vec4s(dv));
  const chunk = fitChunk(slots, perRow, fwd ? attentionTuning.chunk : attentionTuning.bwdChunk);
  // Short sequences waste some of a workgroup, but one variant per pass keeps the number of
  // pipelines (seconds of compilation each on lavapipe) small.
  const perThread = fwd ? attentionTuning.rows : attentionTuning.bwdRows;
  return {
    cfg: { vecD: d % 4 === 0, vecV: dv % 4 === 0, threads, rows: perThread, chunk, slots },
    tile: tileRows(slots, perRow, chunk, MAX_TILE),
  };
}

/**
 * Whether the forward register kernel serves these head dims on this device: both fit
 * {@link REG_MAX_VEC4} vec4s, and matmul takes subgroup tiles (CPU adapters such as lavapipe,
 * with subgroups of ≥ 8 lanes).
 */
function registerForward(d: number, dv: number): boolean {
  return attentionTuning.reg && vec4s(d) <= REG_MAX_VEC4 && vec4s(dv) <= REG_MAX_VEC4 && matmulKernelKind() === 'subgroup';
}

/**
 * The forward kernel: the register kernel where {@link registerForward} (measured on lavapipe:
 * 4 heads × 4096 tokens × D 16, tiny1024's global attention, 2.6 s → 0.36 s; 2 × 2048 × D 32
 * 345 → 111 ms), else the generic one. The register kernel's rows per thread follow Lq, so that
 * short sequences (windows) do not leave most of a workgroup idle: the most of 1, 2, 4, 8 with
 * threads × rows ≤ 1.5·Lq (4 at most for head dims above 16: registers, and LLVM's compile time,
 * ~12 s cold at D 32 with 4 rows, ~33 s with 8).
 */
function forwardVariant(d: number, dv: number, lq: number): Variant & { kernel: Kernel } {
  const [d4, v4] = [vec4s(d), vec4s(dv)];
  const t = attentionTuning;
  if (registerForward(d, dv)) {
    const cap = Math.max(d4, v4) <= 4 ? t.regRows : t.regRowsWide;
    let rows = 1;
    while (rows * 2 <= cap && THREADS * rows * 2 <= 1.5 * lq) rows *= 2;
    const cfg: AttentionKernelConfig = { vecD: d % 4 === 0, vecV: dv % 4 === 0, threads: THREADS, rows, chunk: t.regChunk, slots: 0 };
    return { cfg, tile: 0, laidOut: true, kernel: attentionForwardRegKernel(cfg, d4, v4) };
  }
  const v = variant(d, dv, 'fwd');
  return { ...v, kernel: attentionForwardKernel(v.cfg) };
}

function chunkParams(dims: Dims, tile: number, offsets: number[], layout?: AttentionParams['layout']) {
  const { lq, lk, d, dv, scale } = dims;
  return attentionParams({ lq, lk, d, dv, tile, scale, scale2: scale * LOG2E, offsets, layout }).bytes();
}

/** Q, K, V, O as contiguous [heads, L, d] rows (the layout of {@link scaledDotProductAttention}'s operands). */
function contiguousLayout({ lq, lk, d, dv }: Dims): NonNullable<AttentionParams['layout']> {
  const rows = (l: number, w: number): RowLayout => ({ batchStride: l * w, headStride: 0, rowStride: w });
  return { headsPerBatch: 1, rows: [rows(lq, d), rows(lk, d), rows(lk, dv), rows(lq, dv)] };
}

type HeadSlice = ReturnType<typeof headSlice>;

/**
 * Dispatches one pass of `variant` over a chunk of `nh` heads: the slices bound in order, their
 * skews as the kernel's offsets, and workgroups along the pass's `rows` (Lq or Lk) by heads.
 */
function runPass(backend: Backend, kernel: Kernel, { cfg, tile, laidOut }: Variant, dims: Dims, rows: number, nh: number, inputs: HeadSlice[], outputs: HeadSlice[]): void {
  backend.run({
    kernel,
    inputs: inputs.map((x) => x.range),
    outputs: outputs.map((x) => x.range),
    params: chunkParams(dims, tile, [...inputs, ...outputs].map((x) => x.skew), laidOut ? contiguousLayout(dims) : undefined),
    workgroups: [groups(backend, rows, cfg), nh],
  });
}

function forward(q: Tensor, k: Tensor, v: Tensor, dims: Dims): { out: Tensor; lse: Tensor } {
  const { bh, lq, lk, d, dv } = dims;
  const out = Tensor.empty([...q.shape.slice(0, -1), dv]);
  const lse = Tensor.empty([bh, lq]);
  if (bh * lq === 0) return { out, lse };
  const backend = getBackend();
  const fv = forwardVariant(d, dv, lq);
  forEachChunk(backend, dims, (h0, nh) => {
    const sl = [headSlice(backend, q, h0, nh, lq * d), headSlice(backend, k, h0, nh, lk * d), headSlice(backend, v, h0, nh, lk * dv)];
    const outs = [headSlice(backend, out, h0, nh, lq * dv), headSlice(backend, lse, h0, nh, lq)];
    runPass(backend, fv.kernel, fv, dims, lq, nh, sl, outs);
  });
  return { out, lse };
}

function backwardPasses(g: Tensor, [q, k, v, o, lse]: Tensor[], dims: Dims): [Tensor, Tensor, Tensor] {
  const { bh, lq, lk, d, dv } = dims;
  const dq = Tensor.empty(q.shape);
  const dk = Tensor.empty(k.shape);
  const dvv = Tensor.empty(v.shape);
  const backend = getBackend();
  if (bh * lk === 0) return [dq, dk, dvv];
  if (lq === 0) {
    // No queries: k and v get zero gradients.
    backend.write(dk.range.buffer, 0, new Float32Array(dk.size));
    backend.write(dvv.range.buffer, 0, new Float32Array(dvv.size));
    return [dq, dk, dvv];
  }
  const delta = Tensor.empty([bh, lq]);
  const qv = variant(d, dv, 'q');
  const kv = variant(d, dv, 'kv');
  const qKernel = attentionBackwardQKernel(qv.cfg);
  const kvKernel = attentionBackwardKVKernel(kv.cfg);
  forEachChunk(backend, dims, (h0, nh) => {
    const slice = (t: Tensor, per: number) => headSlice(backend, t, h0, nh, per);
    const [sq, sk, sv, so, sg] = [slice(q, lq * d), slice(k, lk * d), slice(v, lk * dv), slice(o, lq * dv), slice(g, lq * dv)];
    const [sl, sdel] = [slice(lse, lq), slice(delta, lq)];
    const [sdq, sdk, sdv] = [slice(dq, lq * d), slice(dk, lk * d), slice(dvv, lk * dv)];
    runPass(backend, qKernel, qv, dims, lq, nh, [sq, sk, sv, so, sg, sl], [sdq, sdel]);
    runPass(backend, kvKernel, kv, dims, lk, nh, [sq, sk, sv, sg, sl, sdel], [sdk, sdv]);
  });
  delta.dispose();
  return [dq, dk, dvv];
}

/** Whether 'auto' takes the register kernel for these head dims and queries (without gradients). */
function registerServes(d: number, dv: number, lq: number): boolean {
  return lq >= REG_AUTO_MIN_LQ && registerForward(d, dv);
}

/**
 * How attention runs ('register' and 'fused' both take the fused forward kernels, the register
 * one where {@link forwardVariant} picks it). The one rule for {@link scaledDotProductAttention}
 * and {@link packedAttention}. Without gradients, the register forward kernel beats the
 * materialised path from Lq ≈ 32 on (lavapipe, D 16: 1024 windows × 64 tokens 208 → 74 ms, 100 ×
 * 196 135 → 38 ms, 200 × 49 22 → 12 ms; 2048 × 16 about even); its backward would be the generic
 * fused kernels, slow on short sequences, so with gradients the score-size rule stays. `limit`:
 * the most score bytes one materialised chunk may keep.
 */
function attentionPath(dims: Dims, impl: 'auto' | 'fused' | 'materialized', noGradNeeded: boolean): { path: 'register' | 'materialized' | 'chunked' | 'fused'; limit: number } {
  const limit = Math.min(attentionTuning.materializedBytes, getBackend().maxBinding);
  if (impl === 'materialized') return { path: 'materialized', limit };
  if (impl === 'fused') return { path: 'fused', limit };
  if (noGradNeeded && registerServes(dims.d, dims.dv, dims.lq)) return { path: 'register', limit };
  if (dims.bh * dims.lq * dims.lk * 4 <= limit) return { path: 'materialized', limit };
  if (noGradNeeded && matmulKernelKind() === 'subgroup') return { path: 'chunked', limit };
  return { path: 'fused', limit };
}

/**
 * softmax(q·kᵀ·scale)·v through the batched matmul, keeping the whole score matrix. The scale
 * multiplies q (Lq·D values) rather than the scores (Lq·Lk).
 */
function materialized(q: Tensor, k: Tensor, v: Tensor, scale: number): Tensor {
  return matmul(softmax(matmul(mulScalar(q, scale), transpose(k, -1, -2)), -1), v);
}

/**
 * The materialised path over chunks of query rows, each chunk's scores (all heads) within
 * `limit` bytes (the scores as a whole exceed it): on CPU adapters (subgroup matmul tiles) without gradients,
 * long sequences whose head dims are too wide for the register kernel run on the subgroup matmul
 * instead of the generic fused kernel (lavapipe, Hiera-T's global attention, 4 heads × 4096
 * tokens × D 96: 4.5 s → about 2 s a block). Rows are independent, so the chunks' outputs are
 * the rows of the whole.
 */
function materializedByQueryChunks(q: Tensor, k: Tensor, v: Tensor, dims: Dims, limit: number): Tensor {
  const rows = Math.max(1, Math.floor(limit / (4 * dims.bh * dims.lk)));
  const parts: Tensor[] = [];
  for (let r0 = 0; r0 < dims.lq; r0 += rows) parts.push(materialized(slice(q, [...q.shape.slice(0, -2).map(() => null), { start: r0, end: Math.min(dims.lq, r0 + rows) }]), k, v, dims.scale));
  return cat(parts, -2);
}

/**
 * Scaled dot-product attention (PyTorch `scaled_dot_product_attention` without mask or dropout):
 * softmax(q·kᵀ·scale)·v for q [..., Lq, D], k [..., Lk, D], v [..., Lk, Dv] with equal leading
 * (batch, head) dims; returns [..., Lq, Dv]. One fused kernel, memory linear in the sequence
 * lengths; the backward is fused too (recomputing the probabilities from a saved log-sum-exp).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  assertTensor(q, OP, 'q');
  assertTensor(k, OP, 'k');
  assertTensor(v, OP, 'v');
  for (const [t, n] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) assertDType(t, ['f32'], OP, n);
  const dims = dimsOf(q, k, v, options);
  const impl = options.impl ?? 'auto';
  if (impl !== 'auto' && impl !== 'fused' && impl !== 'materialized') throw new RangeError(`${OP}: impl must be 'auto', 'fused' or 'materialized', got '${String(impl)}'`);
  const noGradNeeded = !recordsGrad(q, k, v);
  const { path, limit } = attentionPath(dims, impl, noGradNeeded);
  if (path === 'materialized') return tidy(() => materialized(q, k, v, dims.scale));
  if (path === 'chunked') return tidy(() => materializedByQueryChunks(q, k, v, dims, limit));
  const { out, lse } = forward(q, k, v, dims);
  const y = record(OP, [q, k, v], out, (g, saved) => backwardPasses(g, saved, dims), [q, k, v, out, lse]);
  lse.dispose();
  return y;
}

/** Options of {@link packedAttention}. */
export interface PackedAttentionOptions {
  /**
   * Queries [B, Lq, H·D] that replace the packed ones (e.g. pooled: Hiera's query pooling); the
   * keys and values stay those of `qkv`.
   */
  q?: Tensor;
  /** Multiplies q·kᵀ before the softmax; default 1/sqrt(D). */
  scale?: number;
}

/**
 * Whether {@link packedAttention}, without gradients, runs heads of dim `hd` over `lq` queries
 * on the register kernel on the current device (reading the heads in place, no score matrix).
 * Memory estimates ask it.
 */
export function packedAttentionUsesRegisterKernel(hd: number, lq: number): boolean {
  return attentionTuning.packed && hd % 4 === 0 && lq >= attentionTuning.packedMinLq && registerServes(hd, hd, lq);
}

/**
 * Multi-head self-attention on a packed projection, in the layout a linear layer writes:
 * `qkv` [B, L, 3·H·D] holds, per token, the queries, keys and values of `heads` heads (each
 * H·D, head-major) and the result is [B, Lq, H·D], heads interleaved the same way (Lq = L, or
 * `options.q`'s length). The same as splitting q, k, v, moving the heads in front,
 * {@link scaledDotProductAttention} and moving them back — which is what it does with gradients.
 * Without gradients it takes the path `scaledDotProductAttention` would take, without the four
 * copies: where that is the register kernel (CPU adapters, head dim ≤ 32 and a multiple of 4,
 * Lq ≥ 32), the kernel reads the heads in place and writes them interleaved (lavapipe: the
 * default SAM 2's image encoder ~8 % faster, the same numbers); where the scores are
 * materialised (wider heads, short sequences), q·kᵀ and p·v are strided matmuls that read q, k,
 * v in place and write the interleaved output (lavapipe: Hiera-T's encoder 13.9 → 12.3 s of
 * kernels). The fused kernels for long sequences on GPUs still take the split.
 */
export function packedAttention(qkv: Tensor, heads: number, options: PackedAttentionOptions = {}): Tensor {
  const name = 'packedAttention';
  assertTensor(qkv, name, 'qkv');
  assertDType(qkv, ['f32'], name, 'qkv');
  if (!Number.isInteger(heads) || heads < 1) throw new RangeError(`${name}: heads must be a positive integer, got ${heads}`);
  if (qkv.rank !== 3 || qkv.shape[2] % (3 * heads) !== 0) {
    throw new RangeError(`${name}: qkv ${fmtShape(qkv.shape)} must be [B, L, 3·H·D] with H = ${heads} heads`);
  }
  const [b, l, packed] = qkv.shape;
  const hd = packed / (3 * heads);
  const q = options.q;
  if (q) {
    assertTensor(q, name, 'q');
    assertDType(q, ['f32'], name, 'q');
    if (q.rank !== 3 || q.shape[0] !== b || q.shape[2] !== heads * hd) throw new RangeError(`${name}: q ${fmtShape(q.shape)} must be [${b}, Lq, ${heads * hd}] for qkv ${fmtShape(qkv.shape)}`);
  }
  const lq = q ? q.shape[1] : l;
  const scale = options.scale ?? 1 / Math.sqrt(hd);
  const noGradNeeded = !recordsGrad(qkv, q);
  const fits = stridedGemmFits(b * heads, qkv.size, q?.size ?? 0, b * lq * heads * hd);
  if (attentionTuning.packed && noGradNeeded && l > 0 && fits && Number.isFinite(scale)) {
    const p = { b, heads, lq, lk: l, d: hd, scale };
    if (packedAttentionUsesRegisterKernel(hd, lq)) return packedRegisterForward(qkv, q ?? null, p);
    const { path, limit } = attentionPath({ bh: b * heads, lq, lk: l, d: hd, dv: hd, scale }, 'auto', true);
    if ((path === 'materialized' || path === 'chunked') && b * heads * l * 4 <= limit) return packedMaterialized(qkv, q ?? null, p, limit);
  }
  return tidy(() => {
    const split = reshape(qkv, [b, l, 3, heads, hd]);
    const part = (i: number) => transpose(slice(split, [null, null, i]), 1, 2);
    const qh = q ? transpose(reshape(q, [b, lq, heads, hd]), 1, 2) : part(0);
    const o = scaledDotProductAttention(qh, part(1), part(2), { scale });
    return reshape(transpose(o, 1, 2), [b, lq, heads * hd]);
  });
}

/**
 * {@link packedAttention}'s copy-free materialised path: per chunk of query rows (scores within
 * `limit` bytes), S = scale·q·kᵀ with q and k read in place, P = softmax(S), and P·v written
 * straight into the interleaved output (strided matmuls: `stridedGemmInto`). Before, the heads
 * were split and transposed out (three copies of q, k, v) and the output transposed back.
 */
function packedMaterialized(qkv: Tensor, q: Tensor | null, p: { b: number; heads: number; lq: number; lk: number; d: number; scale: number }, limit: number): Tensor {
  const { b, heads, lq, lk, d, scale } = p;
  const hd = heads * d;
  const out = Tensor.empty([b, lq, hd]);
  const rows = Math.max(1, Math.min(lq, Math.floor(limit / (4 * b * heads * lk))));
  const packed = { t: qkv, ld: 3 * hd, batchStrides: [lk * 3 * hd, d] };
  for (let r0 = 0; r0 < lq; r0 += rows) {
    const n = Math.min(rows, lq - r0);
    const qRows = q ? { t: q, offset: r0 * hd, ld: hd, batchStrides: [lq * hd, d] } : { ...packed, offset: r0 * 3 * hd };
    const scores = { ld: lk, batchStrides: [heads * n * lk, n * lk], offset: 0 };
    const s = Tensor.empty([b, heads, n, lk]);
    stridedGemmInto({ M: n, N: lk, K: d, batch: [b, heads], a: qRows, b: { ...packed, offset: hd, trans: true }, c: { ...scores, t: s }, alpha: scale });
    const probs = softmax(s, -1);
    s.dispose();
    stridedGemmInto({ M: n, N: d, K: lk, batch: [b, heads], a: { ...scores, t: probs }, b: { ...packed, offset: 2 * hd }, c: { t: out, offset: r0 * hd, ld: hd, batchStrides: [lq * hd, d] } });
    probs.dispose();
  }
  return out;
}

/** {@link packedAttention}'s copy-free path: the register kernel over the packed rows. */
function packedRegisterForward(qkv: Tensor, q: Tensor | null, p: { b: number; heads: number; lq: number; lk: number; d: number; scale: number }): Tensor {
  const { b, heads, lq, lk, d, scale } = p;
  const backend = getBackend();
  const hd = heads * d;
  const out = Tensor.empty([b, lq, hd]);
  if (b * lq === 0) return out;
  const lse = Tensor.empty([b * heads, lq]);
  const dims: Dims = { bh: b * heads, lq, lk, d, dv: d, scale };
  const fv = forwardVariant(d, d, lq);
  const packedRows: RowLayout = { batchStride: lk * 3 * hd, headStride: d, rowStride: 3 * hd };
  const interleaved: RowLayout = { batchStride: lq * hd, headStride: d, rowStride: hd };
  backend.run({
    kernel: fv.kernel,
    inputs: [q ? q.range : qkv.range, qkv.range, qkv.range],
    outputs: [out.range, lse.range],
    params: chunkParams(dims, 0, [0, hd, 2 * hd, 0, 0], { headsPerBatch: heads, rows: [q ? interleaved : packedRows, packedRows, packedRows, interleaved] }),
    workgroups: [groups(backend, lq, fv.cfg), b * heads],
  });
  lse.dispose();
  return out;
}
