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
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import type { Backend, BufferRange } from '../backend/backend.js';
import { attentionForwardKey, attentionForwardParams, attentionForwardWgsl, type AttentionForwardConfig } from '../kernels/attention-forward.js';
import {
  attentionBackwardKVKey,
  attentionBackwardKVWgsl,
  attentionBackwardParams,
  attentionBackwardQKey,
  attentionBackwardQWgsl,
  type AttentionBackwardConfig,
} from '../kernels/attention-backward.js';
import { tileRows, vec4s } from '../kernels/attention-wgsl.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Multiplies q·kᵀ before the softmax; default 1/sqrt(D). */
  scale?: number;
}

const OP = 'scaledDotProductAttention';
const THREADS = 64;
const LOG2E = 1.4426950408889634;
/** Workgroup memory the kernels' tiles may use (the WebGPU default limit). */
const TILE_BYTES = 32768;

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

function queryGroups(backend: Backend, rows: number, perGroup: number): number {
  const g = Math.ceil(rows / perGroup);
  const max = backend.info.limits.maxComputeWorkgroupsPerDimension;
  if (g > max) throw new RangeError(`${OP}: ${rows} rows need ${g} workgroups, above the limit ${max}`);
  return g;
}

/**
 * Kernel variants. Register code is unrolled while the per-thread state is small; above
 * `unrollLimit` vec4 registers it is looped (see `Regs`). @internal — exposed for benchmarks.
 */
export const attentionTuning = { threads: THREADS, rows: 1, unrollLimit: 48, looped: undefined as boolean | undefined };

function isLooped(regs: number): boolean {
  return attentionTuning.looped ?? regs > attentionTuning.unrollLimit;
}

function forwardConfig(d: number, dv: number): AttentionForwardConfig {
  const { threads, rows } = attentionTuning;
  const regs = rows * (vec4s(d) + vec4s(dv));
  return { d, dv, threads, rows, bk: tileRows(TILE_BYTES, vec4s(d) + vec4s(dv), 0, 64), looped: isLooped(regs) };
}

function backwardConfigs(d: number, dv: number): [AttentionBackwardConfig, AttentionBackwardConfig] {
  const { threads, rows } = attentionTuning;
  const d4 = vec4s(d);
  const v4 = vec4s(dv);
  return [
    { d, dv, threads, rows, tile: tileRows(TILE_BYTES, d4 + v4, 0, 64), looped: isLooped(rows * (2 * d4 + v4)) },
    { d, dv, threads, rows, tile: tileRows(TILE_BYTES, d4 + v4, 2, 64), looped: isLooped(rows * 2 * (d4 + v4)) },
  ];
}

function forward(q: Tensor, k: Tensor, v: Tensor, dims: Dims): { out: Tensor; lse: Tensor } {
  const { bh, lq, lk, d, dv } = dims;
  const out = Tensor.empty([...q.shape.slice(0, -1), dv]);
  const lse = Tensor.empty([bh, lq]);
  if (bh * lq === 0) return { out, lse };
  const backend = getBackend();
  const cfg = forwardConfig(d, dv);
  const kernel = { key: attentionForwardKey(cfg), wgsl: () => attentionForwardWgsl(cfg) };
  forEachChunk(backend, dims, (h0, nh) => {
    const sq = headSlice(backend, q, h0, nh, lq * d);
    const sk = headSlice(backend, k, h0, nh, lk * d);
    const sv = headSlice(backend, v, h0, nh, lk * dv);
    const so = headSlice(backend, out, h0, nh, lq * dv);
    const sl = headSlice(backend, lse, h0, nh, lq);
    const p = attentionForwardParams({
      lq,
      lk,
      d,
      dv,
      scale2: dims.scale * LOG2E,
      qoff: sq.skew,
      koff: sk.skew,
      voff: sv.skew,
      ooff: so.skew,
      loff: sl.skew,
    });
    backend.run({
      kernel,
      inputs: [sq.range, sk.range, sv.range],
      outputs: [so.range, sl.range],
      params: p.bytes(),
      workgroups: [queryGroups(backend, lq, cfg.threads * cfg.rows), nh],
    });
  });
  return { out, lse };
}

function backwardPasses(
  g: Tensor,
  [q, k, v, o, lse]: Tensor[],
  dims: Dims,
): [Tensor, Tensor, Tensor] {
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
  const [qCfg, kvCfg] = backwardConfigs(d, dv);
  const qKernel = { key: attentionBackwardQKey(qCfg), wgsl: () => attentionBackwardQWgsl(qCfg) };
  const kvKernel = { key: attentionBackwardKVKey(kvCfg), wgsl: () => attentionBackwardKVWgsl(kvCfg) };
  forEachChunk(backend, dims, (h0, nh) => {
    const s = {
      q: headSlice(backend, q, h0, nh, lq * d),
      k: headSlice(backend, k, h0, nh, lk * d),
      v: headSlice(backend, v, h0, nh, lk * dv),
      o: headSlice(backend, o, h0, nh, lq * dv),
      g: headSlice(backend, g, h0, nh, lq * dv),
      l: headSlice(backend, lse, h0, nh, lq),
      del: headSlice(backend, delta, h0, nh, lq),
      dq: headSlice(backend, dq, h0, nh, lq * d),
      dk: headSlice(backend, dk, h0, nh, lk * d),
      dv: headSlice(backend, dvv, h0, nh, lk * dv),
    };
    const p = attentionBackwardParams({
      lq,
      lk,
      d,
      dv,
      scale2: dims.scale * LOG2E,
      qoff: s.q.skew,
      koff: s.k.skew,
      voff: s.v.skew,
      ooff: s.o.skew,
      goff: s.g.skew,
      loff: s.l.skew,
      doff: s.del.skew,
      dqoff: s.dq.skew,
      dkoff: s.dk.skew,
      dvoff: s.dv.skew,
    }).bytes();
    backend.run({
      kernel: qKernel,
      inputs: [s.q.range, s.k.range, s.v.range, s.o.range, s.g.range, s.l.range],
      outputs: [s.dq.range, s.del.range],
      params: p,
      workgroups: [queryGroups(backend, lq, qCfg.threads * qCfg.rows), nh],
    });
    backend.run({
      kernel: kvKernel,
      inputs: [s.q.range, s.k.range, s.v.range, s.g.range, s.l.range, s.del.range],
      outputs: [s.dk.range, s.dv.range],
      params: p,
      workgroups: [queryGroups(backend, lk, kvCfg.threads * kvCfg.rows), nh],
    });
  });
  delta.dispose();
  return [dq, dk, dvv];
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
  const { out, lse } = forward(q, k, v, dims);
  const y = record(OP, [q, k, v], out, (g, saved) => backwardPasses(g, saved, dims), [q, k, v, out, lse]);
  lse.dispose();
  return y;
}
