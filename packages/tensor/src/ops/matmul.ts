/**
 * Matrix products: `matmul` (PyTorch semantics, batched with broadcasting), `matmulT` (operands
 * optionally transposed inside the kernel, and a scale) and `linear` (x·Wᵀ + b).
 *
 * All three run one tiled kernel (kernels/matmul-tiled.ts; subgroup tiles on CPU adapters,
 * register tiles elsewhere). Transposes are never materialised: the backward products read their operands transposed in place. A problem whose
 * bindings would exceed the device's maxStorageBufferBindingSize (or whose grid would exceed the
 * per-dimension workgroup limit) is split into several dispatches over batches, then over rows,
 * each binding only the sub-ranges it reads and writes.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, fmtShape, shapeEq, sizeOf, type Shape } from '../tensor/shape.js';
import { record, recordsGrad } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import type { BufferRange } from '../backend/backend.js';
import {
  REGISTER_TILE,
  SUBGROUP_TILE,
  matmulKernel,
  matmulParams,
  matmulWorkgroups,
  tileExtent,
  type MatmulActivation,
  type MatmulTile,
  type MatmulVariant,
} from '../kernels/matmul-tiled.js';
import { reshape } from './reshape.js';
import { sum, sumTo } from './reduce.js';
import { activationOp } from './unary.js';
import { tidy } from '../scope.js';
import { add } from './binary.js';

/** Options of {@link matmulT}. */
export interface MatmulOptions {
  /** Read `a` as its transpose (last two dims swapped). */
  transA?: boolean;
  /** Read `b` as its transpose. */
  transB?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /**
   * Added to the (scaled) product: a tensor of the result's shape, e.g. a residual. Without
   * gradients it is added as the product is stored (one pass fewer); with them, by the add op.
   */
  add?: Tensor;
}

/** A matrix operand: its batch dims and the stored (rows, cols) of each matrix. */
interface Operand {
  t: Tensor;
  batch: number[];
  trans: boolean;
}

/** The problem after shape checks: C[batch, M, N] = alpha · op(A) · op(B). */
interface Problem {
  a: Operand;
  b: Operand;
  M: number;
  N: number;
  K: number;
  batch: number[];
  alpha: number;
  bias: Tensor | null;
  /** Applied to each result as it is stored (forward only: callers check that no gradient is needed). */
  act?: MatmulActivation;
  /** Added (C's shape) as each result is stored, before `act` (forward only, as `act`). */
  residual?: Tensor | null;
}

function describeOp(op: string, a: Tensor, b: Tensor, o: MatmulOptions): string {
  const t = (x: boolean | undefined) => (x ? 'ᵀ' : '');
  return `${op}: ${a.describe()}${t(o.transA)} · ${b.describe()}${t(o.transB)}`;
}

/** Shape checks; the op name and shapes appear in every error. */
function problem(op: string, a: Tensor, b: Tensor, o: MatmulOptions, bias: Tensor | null = null): Problem {
  if (a.rank < 2 || b.rank < 2) throw new RangeError(`${describeOp(op, a, b, o)}: both operands need at least 2 dims`);
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const M = o.transA ? ca : ra;
  const K = o.transA ? ra : ca;
  const Kb = o.transB ? cb : rb;
  const N = o.transB ? rb : cb;
  if (K !== Kb) {
    throw new RangeError(`${describeOp(op, a, b, o)}: inner dims differ (${K} vs ${Kb})`);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB, op);
  } catch {
    throw new RangeError(`${describeOp(op, a, b, o)}: batch dims ${fmtShape(batchA)} and ${fmtShape(batchB)} do not broadcast`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) {
    throw new RangeError(`${op}: bias ${bias.describe()} must have shape [${N}]`);
  }
  return { a: { t: a, batch: batchA, trans: !!o.transA }, b: { t: b, batch: batchB, trans: !!o.transB }, M, N, K, batch, alpha: o.alpha ?? 1, bias };
}

/**
 * Coalesces the batch dims: drops size-1 dims and merges neighbours that both operands step
 * through contiguously (or both broadcast), so typical problems have batch rank 0 or 1.
 */
function batchLayout(p: Problem): { shape: number[]; ast: number[]; bst: number[] } {
  const matA = p.M * p.K;
  const matB = p.K * p.N;
  const sa = broadcastStrides(p.a.batch, p.batch).map((s) => s * matA);
  const sb = broadcastStrides(p.b.batch, p.batch).map((s) => s * matB);
  const shape: number[] = [];
  const ast: number[] = [];
  const bst: number[] = [];
  p.batch.forEach((d, i) => {
    if (d === 1) return;
    const k = shape.length - 1;
    if (k >= 0 && ast[k] === sa[i] * d && bst[k] === sb[i] * d) {
      shape[k] *= d;
      ast[k] = sa[i];
      bst[k] = sb[i];
    } else {
      shape.push(d);
      ast.push(sa[i]);
      bst.push(sb[i]);
    }
  });
  return { shape, ast, bst };
}

/** Offset (elements) of output batch `i` in an operand with broadcast strides `st`. */
function batchOffset(i: number, shape: readonly number[], st: readonly number[]): number {
  let off = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    off += (i % shape[d]) * st[d];
    i = Math.floor(i / shape[d]);
  }
  return off;
}

/** Which kernel family matmul uses; 'auto' picks by device (see {@link matmulKernelKind}). */
export type MatmulKernelKind = 'auto' | 'register' | 'subgroup';
let kernelKind: MatmulKernelKind = 'auto';

/**
 * Forces a matmul kernel family (for benchmarks and tests), or 'auto' (the default). 'subgroup'
 * falls back to 'register' where the device lacks subgroups of at least 8 lanes.
 */
export function setMatmulKernel(kind: MatmulKernelKind): void {
  kernelKind = kind;
}

/**
 * The kernel family matmul uses on the current device: subgroup tiles on CPU-emulated adapters
 * with subgroups of ≥ 8 lanes (lavapipe, where they measured ~3× faster), register tiles
 * elsewhere.
 */
export function matmulKernelKind(): 'register' | 'subgroup' {
  const backend = getBackend();
  const info = (backend.device as unknown as { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  const canSubgroup = backend.info.features.subgroups && (info?.subgroupMinSize ?? 0) >= 8;
  if (!canSubgroup || kernelKind === 'register') return 'register';
  if (kernelKind === 'subgroup') return 'subgroup';
  const a = backend.info.adapter;
  const cpu = a.architecture === 'software' || /llvmpipe|lavapipe/i.test(`${a.device} ${a.description}`);
  return cpu ? 'subgroup' : 'register';
}

/**
 * Relative cost of one output row per subgroup tile height on lavapipe (1024³: 8 rows 92 ms, 16
 * rows 67 ms, 32 rows 54 ms). A workgroup computes its rows whatever M is, so the height is the
 * one that minimises rows computed × this cost.
 */
const ROW_COST: ReadonlyArray<readonly [rows: number, cost: number]> = [
  [32, 1],
  [16, 1.24],
  [8, 1.7],
];

/**
 * The tile matmul uses on the current device for an output of M rows and N columns (default: large).
 * Subgroup tiles pick their height by the measured row costs (ROW_COST: the decoder's 4 mask rows
 * against 256² pixels take 8 rows, not 32) and the workgroup width (128, 64, 32, 16 or 8 lanes)
 * that leaves the fewest lanes past N: SAM 2's N = 144 would otherwise idle 44% of a 256-column workgroup
 * (measured 1.8× slower at 16384×144×144). Few widths keep the number of compiled variants small.
 * Workgroups narrower than 64 lanes stack subgroups along M (`wy`) when M is long enough.
 */
export function matmulTile(N = Infinity, M = Infinity): MatmulTile {
  if (matmulKernelKind() !== 'subgroup') return REGISTER_TILE;
  let rows = SUBGROUP_TILE.rows;
  if (Number.isFinite(M)) {
    const cost = ([r, c]: readonly [number, number]) => Math.ceil(M / r) * r * c;
    rows = ROW_COST.reduce((best, rc) => (cost(rc) < cost(best) ? rc : best))[0];
  }
  if (!Number.isFinite(N)) return { ...SUBGROUP_TILE, rows };
  const lanes = Math.max(1, Math.ceil(N / SUBGROUP_TILE.tn));
  let best = SUBGROUP_TILE.wx;
  for (const wx of [128, 64, 32, 16, 8]) {
    const waste = (w: number) => Math.ceil(lanes / w) * w - lanes;
    if (waste(wx) < waste(best)) best = wx;
  }
  // Narrow workgroups stack subgroups along M, up to 64 lanes, where that adds at most 5 % rows.
  let wy = 1;
  if (Number.isFinite(M)) {
    const computed = (h: number) => Math.ceil(M / h) * h;
    while (best * wy * 2 <= 64 && computed(rows * wy * 2) <= 1.05 * computed(rows)) wy *= 2;
  }
  return { ...SUBGROUP_TILE, rows, wx: best, ...(wy > 1 ? { wy } : {}) };
}

/** One dispatch: a range of output batches, or a range of rows of one batch. */
interface Chunk {
  b0: number;
  nb: number;
  m0: number;
  rows: number;
}

/** The layout facts chunk planning and dispatch share. */
interface Geometry {
  M: number;
  N: number;
  K: number;
  matA: number;
  matB: number;
  matC: number;
  nbatch: number;
  transA: boolean;
  /** Element offset of output batch i's matrix in A / B. */
  offA(i: number): number;
  offB(i: number): number;
  /** Elements [lo, hi) of one A matrix that rows m0..m0+rows of op(A) occupy. */
  rowSpanA(m0: number, rows: number): [number, number];
}

/**
 * Splits a product into dispatches whose bindings fit `maxEl` elements (each binding may start
 * up to `align` elements before its first element) and whose grids fit `maxWg` workgroups per
 * dimension: one dispatch when everything fits, else runs of whole batches, else runs of rows.
 */
function planChunks(g: Geometry, maxEl: number, align: number, maxWg: number, rowsPerWg: number, what: () => string): Chunk[] {
  const { M, N, matA, matB, matC, nbatch } = g;
  const rowsPerGrid = maxWg * rowsPerWg;
  const fits = (n: number) => n + align <= maxEl;
  const chunks: Chunk[] = [];
  if (M <= rowsPerGrid && fits(matA) && fits(matB) && fits(matC)) {
    // Whole matrices per dispatch, as many batches as fit (usually all: a single dispatch).
    for (let b0 = 0; b0 < nbatch; ) {
      const a = new Span(g.offA(b0), matA);
      const b = new Span(g.offB(b0), matB);
      let nb = 1;
      while (b0 + nb < nbatch && nb < maxWg && fits((nb + 1) * matC)) {
        const [na, nbb] = [a.with(g.offA(b0 + nb)), b.with(g.offB(b0 + nb))];
        if (!fits(na.size) || !fits(nbb.size)) break;
        [a.lo, a.hi, b.lo, b.hi] = [na.lo, na.hi, nbb.lo, nbb.hi];
        nb++;
      }
      chunks.push({ b0, nb, m0: 0, rows: M });
      b0 += nb;
    }
    return chunks;
  }
  // Rows of one matrix per dispatch: A's rows (when not transposed) and C's rows are contiguous.
  const limit = (bytes: number, of: string) =>
    new RangeError(`${what()}: ${of} (${bytes * 4} bytes) exceeds the device's maxStorageBufferBindingSize (${maxEl * 4}); split the product`);
  if (!fits(matB)) throw limit(matB, 'one matrix of B');
  // A run of rows binds rows·N of C and rows·K of A; a transposed A is bound whole.
  if (g.transA && !fits(matA)) throw limit(matA, 'one transposed matrix of A');
  const perRow = Math.max(N, g.transA ? 0 : g.K, 1);
  let rows = Math.min(M, rowsPerGrid, Math.floor((maxEl - 2 * align) / perRow));
  rows = Math.max(4, rows - (rows % 4));
  for (let b = 0; b < nbatch; b++) for (let m0 = 0; m0 < M; m0 += rows) chunks.push({ b0: b, nb: 1, m0, rows: Math.min(rows, M - m0) });
  return chunks;
}

/** The elements [lo, hi) that a run of matrices of `mat` elements covers. */
class Span {
  lo: number;
  hi: number;
  constructor(
    off: number,
    readonly mat: number,
  ) {
    this.lo = off;
    this.hi = off + mat;
  }
  get size(): number {
    return this.hi - this.lo;
  }
  /** This span grown by the matrix at `off`. */
  with(off: number): Span {
    const s = new Span(Math.min(this.lo, off), this.mat);
    s.hi = Math.max(this.hi, off + this.mat);
    return s;
  }
}

/** A binding of elements [lo, hi) of `t`, its start aligned down to `align` elements. */
function bindRange(t: Tensor, lo: number, hi: number, align: number): { range: BufferRange; start: number } {
  const start = lo - (lo % align);
  const buf = t.store.buffer;
  let bytes = Math.max(4, (hi - start) * 4);
  // Whole vec4s when the buffer has room (a vec4 array drops a partial tail).
  const rounded = Math.ceil(bytes / 16) * 16;
  if (start * 4 + rounded <= buf.size) bytes = rounded;
  return { range: { buffer: buf, offset: start * 4, size: bytes }, start };
}

/**
 * Runs the product into `out` ([...batch, M, N], contiguous). No autograd. A batch-less B with
 * a non-transposed A is folded into one tall 2-D product (A's rows are contiguous across batches).
 */
function runProduct(p: Problem, out: Tensor): void {
  const { M, N, K } = p;
  const nbatch = sizeOf(p.batch);
  if (out.size === 0) return;
  if (sizeOf(p.b.batch) === 1 && nbatch > 1 && !p.a.trans) {
    // [...batch, M, K] · [K, N] is one [batch·M, K] · [K, N] product.
    runProduct({ ...p, M: M * nbatch, batch: [], a: { ...p.a, batch: [] }, b: { ...p.b, batch: [] } }, out);
    return;
  }
  const backend = getBackend();
  const maxEl = Math.floor(backend.maxBinding / 4);
  const align = Math.max(1, (backend.device.limits?.minStorageBufferOffsetAlignment ?? 256) / 4);
  const tile = matmulTile(N, M);
  const layout = batchLayout(p);
  if (layout.shape.length > 16) throw new RangeError(`${describeOp('matmul', p.a.t, p.b.t, p)}: more than 16 batch dims after merging`);
  const batchCap = layout.shape.length === 0 ? 0 : Math.ceil(layout.shape.length / 4) * 4;
  const lda = p.a.trans ? M : K;
  const ldb = p.b.trans ? K : N;
  const g: Geometry = {
    M,
    N,
    K,
    matA: M * K,
    matB: K * N,
    matC: M * N,
    nbatch,
    transA: p.a.trans,
    offA: (i) => batchOffset(i, layout.shape, layout.ast),
    offB: (i) => batchOffset(i, layout.shape, layout.bst),
    rowSpanA: (m0, rows) => (p.a.trans ? [m0, K === 0 ? m0 : (K - 1) * M + m0 + rows] : [m0 * K, (m0 + rows) * K]),
  };
  const chunks = planChunks(g, maxEl, align, backend.info.limits.maxComputeWorkgroupsPerDimension, tileExtent(tile)[0], () =>
    describeOp('matmul', p.a.t, p.b.t, p),
  );

  for (const c of chunks) {
    // Elements this dispatch reads and writes.
    let loA = Infinity;
    let hiA = -Infinity;
    let loB = Infinity;
    let hiB = -Infinity;
    const [ra0, ra1] = g.rowSpanA(c.m0, c.rows);
    for (let i = c.b0; i < c.b0 + c.nb; i++) {
      loA = Math.min(loA, g.offA(i) + ra0);
      hiA = Math.max(hiA, g.offA(i) + ra1);
      loB = Math.min(loB, g.offB(i));
      hiB = Math.max(hiB, g.offB(i) + g.matB);
    }
    const cLo = c.b0 * g.matC + c.m0 * N;
    const cHi = cLo + (c.nb - 1) * g.matC + c.rows * N;
    const A = bindRange(p.a.t, loA, Math.max(hiA, loA + 1), align);
    const B = bindRange(p.b.t, loB, Math.max(hiB, loB + 1), align);
    const C = bindRange(out, cLo, cHi, align);
    // The residual has C's layout: bound like C, read at C's indices.
    const R = p.residual ? bindRange(p.residual, cLo, cHi, align) : null;
    // Offsets relative to the bindings (the kernel adds the batch offsets, absolute in A and B).
    const aOff = (p.a.trans ? c.m0 : c.m0 * K) - A.start;
    const bOff = -B.start;
    const cOff = cLo - C.start;
    const v: MatmulVariant = {
      transA: p.a.trans,
      transB: p.b.trans,
      vec: lda % 4 === 0 && ldb % 4 === 0 && N % 4 === 0 && mod4(aOff) && mod4(bOff) && mod4(cOff),
      bias: p.bias !== null,
      alpha: p.alpha !== 1,
      batchCap,
      ...(R ? { residual: true } : {}),
      ...(p.act ? { act: p.act } : {}),
    };
    const params = matmulParams(
      { M: c.rows, N, K, lda, ldb, aOff, bOff, cOff, cBatch: g.matC, b0: c.b0, alpha: p.alpha, bshape: layout.shape, ast: layout.ast, bst: layout.bst },
      v,
    );
    backend.run({
      kernel: matmulKernel(tile, v),
      inputs: [A.range, B.range, ...(p.bias ? [p.bias.range] : []), ...(R ? [R.range] : [])],
      outputs: [C.range],
      params: params.bytes(),
      workgroups: matmulWorkgroups(tile, c.rows, N, c.nb),
    });
  }
}

/** A matrix operand or result of {@link stridedGemmInto}, read or written in place in `t`'s buffer. */
export interface StridedMatrices {
  t: Tensor;
  /** Element offset of the first matrix in `t`. */
  offset: number;
  /** Elements between consecutive stored rows (for a transposed operand: between its stored rows, i.e. op()'s columns). */
  ld: number;
  /** Element strides of the batch dims (one per dim of the problem's batch shape; 0 broadcasts). */
  batchStrides: readonly number[];
  /** Read as its transpose (operands only). */
  trans?: boolean;
}

/**
 * Whether {@link stridedGemmInto} can take tensors of these element counts over `batches`
 * batches: each fits one binding, and the batches fit one grid dimension.
 */
export function stridedGemmFits(batches: number, ...elements: number[]): boolean {
  const backend = getBackend();
  return elements.every((n) => n * 4 <= backend.maxBinding) && batches <= backend.info.limits.maxComputeWorkgroupsPerDimension;
}

/**
 * C = alpha·op(A)·op(B) over `batch`, every matrix a strided view of its tensor's buffer: no copy of
 * a slice, a head split or an interleaved output (e.g. attention heads read from and written to
 * [B, L, H·D] rows). One dispatch; no autograd. Each tensor is bound whole, so each must fit one
 * binding (a RangeError says which does not). The caller owns the layouts: views must lie within
 * their tensors, and C's must not overlap between its elements.
 */
export function stridedGemmInto(spec: {
  M: number;
  N: number;
  K: number;
  batch: readonly number[];
  a: StridedMatrices;
  b: StridedMatrices;
  c: StridedMatrices;
  alpha?: number;
  /**
   * Added as C is stored: one value per row m, a vector of M (e.g. a 1×1 conv's bias per output
   * channel); with `unpatch`, one value per output channel.
   */
  bias?: Tensor | null;
  /**
   * C scattered as a transposed conv whose kernel equals its stride (see `MatmulVariant.unpatch`;
   * `c.ld` is unused): rows are input pixels of a `uw`-wide map, columns (channel, tap);
   * `residual` (C's shape) is added.
   */
  unpatch?: { uw: number; ukh: number; ukw: number; uws: number; uplane: number; urb: number; residual: Tensor | null };
  /** Applied to each result as it is stored. */
  act?: MatmulActivation;
}): void {
  const { M, N, K, a, b, c } = spec;
  const batch = [...spec.batch];
  const nbatch = sizeOf(batch);
  if (M * N * nbatch === 0) return;
  const backend = getBackend();
  for (const [x, name] of [[a, 'A'], [b, 'B'], [c, 'C']] as const) {
    if (x.batchStrides.length !== batch.length) throw new RangeError(`stridedGemmInto: ${name} has ${x.batchStrides.length} batch strides for ${batch.length} batch dims`);
    if (x.t.size * 4 > backend.maxBinding) throw new RangeError(`stridedGemmInto: ${name} ${x.t.describe()} exceeds the device's maxStorageBufferBindingSize (${backend.maxBinding} bytes)`);
  }
  if (batch.length > 16) throw new RangeError(`stridedGemmInto: more than 16 batch dims`);
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  const tile = matmulTile(N, M);
  const wg = matmulWorkgroups(tile, M, N, nbatch);
  if (wg.some((n) => n > maxWg)) throw new RangeError(`stridedGemmInto: grid ${wg.join('×')} exceeds ${maxWg} workgroups per dimension`);
  const alpha = spec.alpha ?? 1;
  const batchCap = batch.length === 0 ? 0 : Math.ceil(batch.length / 4) * 4;
  const aligned = [a.ld, b.ld, c.ld, N, a.offset, b.offset, c.offset, ...a.batchStrides, ...b.batchStrides, ...c.batchStrides].every(mod4);
  const bias = spec.bias ?? null;
  const u = spec.unpatch;
  if (bias && !u && bias.size !== M) throw new RangeError(`stridedGemmInto: row bias ${bias.describe()} must hold M = ${M} values`);
  const residual = u?.residual ?? null;
  if (residual && residual.size * 4 > backend.maxBinding) throw new RangeError(`stridedGemmInto: residual ${residual.describe()} exceeds the device's maxStorageBufferBindingSize (${backend.maxBinding} bytes)`);
  const v: MatmulVariant = {
    transA: !!a.trans,
    transB: !!b.trans,
    vec: aligned,
    bias: bias !== null,
    rowBias: bias !== null && !u,
    alpha: alpha !== 1,
    batchCap,
    cStrided: true,
    ...(u ? { unpatch: true, residual: residual !== null, unpatchVec: aligned && unpatchAsVec4(tile, u) } : {}),
    ...(spec.act ? { act: spec.act } : {}),
  };
  const whole = (t: Tensor) => bindRange(t, 0, Math.max(1, t.size), 1).range;
  const params = matmulParams(
    { M, N, K, lda: a.ld, ldb: b.ld, ldc: c.ld, aOff: a.offset, bOff: b.offset, cOff: c.offset, cBatch: 0, b0: 0, alpha, bshape: batch, ast: a.batchStrides, bst: b.batchStrides, cst: c.batchStrides, unpatch: u },
    v,
  );
  const inputs = [whole(a.t), whole(b.t), ...(bias ? [bias.range] : []), ...(residual ? [whole(residual)] : [])];
  backend.run({ kernel: matmulKernel(tile, v), inputs, outputs: [whole(c.t)], params: params.bytes(), workgroups: wg });
}

/** Whether an unpatch can store vec4s (see `MatmulVariant.unpatchVec`); the caller checks the operands' alignment. */
function unpatchAsVec4(tile: MatmulTile, u: { uw: number; ukh: number; ukw: number; uws: number; uplane: number; urb: number }): boolean {
  return tile.kind === 'subgroup' && tile.tn === 4 && u.ukh === 2 && u.ukw === 2 && u.uw % tile.rows === 0 && [u.uws, u.uplane, u.urb].every(mod4);
}

function mod4(x: number): boolean {
  return ((x % 4) + 4) % 4 === 0;
}

/** Forward product without autograd: a new tensor [...batch, M, N]. */
function product(p: Problem): Tensor {
  const out = Tensor.empty([...p.batch, p.M, p.N]);
  runProduct(p, out);
  return out;
}

/** alpha·op(a)·op(b) without autograd (used by backward rules). */
function gemm(a: Tensor, b: Tensor, transA: boolean, transB: boolean, alpha = 1): Tensor {
  return product(problem('matmul backward', a, b, { transA, transB, alpha }));
}

/** Sums a batched gradient over the batch dims its operand was broadcast along. */
function reduceBatch(g: Tensor, shape: Shape): Tensor {
  const r = sumTo(g, shape);
  g.dispose();
  return r;
}

/** Gradient of op(A) for C = alpha·op(A)·op(B), returned in A's stored shape. */
function gradA(g: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean, alpha: number): Tensor {
  const full = transA ? gemm(b, g, transB, true, alpha) : gemm(g, b, false, !transB, alpha);
  return reduceBatch(full, a.shape);
}

/** Gradient of op(B), in B's stored shape; a batch-less B takes one tall product. */
function gradB(g: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean, alpha: number): Tensor {
  const batchA = sizeOf(a.shape.slice(0, -2));
  if (b.rank === 2 && !transA && batchA > 1 && sizeOf(g.shape.slice(0, -2)) === batchA) {
    // Σ_batch op(A_i)ᵀ·dC_i = A_flatᵀ·dC_flat with the batches stacked as rows.
    const K = a.shape[a.rank - 1];
    const N = g.shape[g.rank - 1];
    const af = a.view([sizeOf(a.shape.slice(0, -1)), K], false);
    const gf = g.view([sizeOf(g.shape.slice(0, -1)), N], false);
    const r = transB ? gemm(gf, af, true, false, alpha) : gemm(af, gf, true, false, alpha);
    af.dispose();
    gf.dispose();
    return r;
  }
  const full = transB ? gemm(g, a, true, transA, alpha) : gemm(a, g, !transA, false, alpha);
  return reduceBatch(full, b.shape);
}

/**
 * Batched matrix product with in-kernel transposes: `alpha · op(a) · op(b)` where op() swaps the
 * last two dims when `transA` / `transB` is set. Both operands need at least 2 dims; their batch
 * dims broadcast (NumPy rules). Differentiable in both operands.
 */
export function matmulT(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  return differentiableProduct('matmulT', a, b, options);
}

function differentiableProduct(op: string, a: Tensor, b: Tensor, options: MatmulOptions): Tensor {
  assertTensor(a, op, 'a');
  assertTensor(b, op, 'b');
  assertDType(a, ['f32'], op, 'a');
  assertDType(b, ['f32'], op, 'b');
  const p = problem(op, a, b, options);
  const residual = options.add;
  if (residual) {
    assertTensor(residual, op, 'add');
    assertDType(residual, ['f32'], op, 'add');
    const shape = [...p.batch, p.M, p.N];
    if (!shapeEq(residual.shape, shape)) {
      throw new RangeError(`${describeOp(op, a, b, options)}: add ${residual.describe()} must have the product's shape ${fmtShape(shape)}`);
    }
    if (!recordsGrad(a, b, residual)) return product({ ...p, residual });
    const { add: _, ...plain } = options;
    return tidy(() => add(differentiableProduct(op, a, b, plain), residual));
  }
  const y = product(p);
  const { alpha } = p;
  const transA = p.a.trans;
  const transB = p.b.trans;
  return record(
    'matmul',
    [a, b],
    y,
    (g, [sa, sb]) => [
      a.requiresGrad ? gradA(g, sa, sb, transA, transB, alpha) : null,
      b.requiresGrad ? gradB(g, sa, sb, transA, transB, alpha) : null,
    ],
    [a, b],
  );
}

/**
 * Matrix product with PyTorch's `torch.matmul` semantics: 2-D × 2-D, batched (…×M×K)·(…×K×N)
 * with broadcasting of the batch dims, and 1-D operands (a vector is promoted to a matrix by
 * prepending (a) or appending (b) a dim of 1, which is removed from the result).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertTensor(a, 'matmul', 'a');
  assertTensor(b, 'matmul', 'b');
  if (a.rank === 0 || b.rank === 0) throw new RangeError(`matmul: ${a.describe()} · ${b.describe()}: scalars are not matrices`);
  if (a.rank >= 2 && b.rank >= 2) return differentiableProduct('matmul', a, b, {});
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  try {
    const y = differentiableProduct('matmul', a2, b2, {});
    const shape = y.shape.slice(0, -2);
    if (a.rank !== 1) shape.push(y.shape[y.rank - 2]);
    if (b.rank !== 1) shape.push(y.shape[y.rank - 1]);
    const r = reshape(y, shape);
    y.dispose();
    return r;
  } finally {
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /**
   * Applied to the result: 'relu' or 'gelu' (erf). Without gradients it happens as the matmul
   * stores its results (no second pass over the output); with them, as the op of that name.
   */
  activation?: MatmulActivation;
}

/**
 * `x · weightᵀ + bias` (PyTorch's `F.linear`): x [..., in], weight [out, in], bias [out] or
 * none → [..., out]. The weight is read transposed in place and the bias is added in the same
 * kernel, as is `options.activation` without gradients. Differentiable in x, weight and bias.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: LinearOptions = {}): Tensor {
  assertTensor(x, 'linear', 'x');
  assertTensor(weight, 'linear', 'weight');
  assertDType(x, ['f32'], 'linear', 'x');
  assertDType(weight, ['f32'], 'linear', 'weight');
  if (bias !== null && bias !== undefined) {
    assertTensor(bias, 'linear', 'bias');
    assertDType(bias, ['f32'], 'linear', 'bias');
  } else bias = null;
  if (weight.rank !== 2) throw new RangeError(`linear: weight ${weight.describe()} must be 2-D [out, in]`);
  if (x.rank < 1) throw new RangeError(`linear: input ${x.describe()} needs at least 1 dim`);
  const [nOut, nIn] = weight.shape;
  const inX = x.shape[x.rank - 1];
  if (inX !== nIn) {
    throw new RangeError(`linear: input ${x.describe()} has ${inX} features, weight ${weight.describe()} expects ${nIn}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== nOut)) {
    throw new RangeError(`linear: bias ${bias.describe()} must have shape [${nOut}] for weight ${weight.describe()}`);
  }
  const act = options.activation;
  const activate = act === undefined ? null : activationOp('linear', act);
  if (activate && recordsGrad(x, weight, bias)) return tidy(() => activate(linear(x, weight, bias)));
  const rows = sizeOf(x.shape.slice(0, -1));
  const x2 = x.view([rows, nIn], false);
  const y2 = product({ ...problem('linear', x2, weight, { transB: true }, bias), act });
  x2.dispose();
  const y = y2.view([...x.shape.slice(0, -1), nOut]);
  y2.dispose();
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const b = bias;
  return record(
    'linear',
    inputs,
    y,
    (g, [sx, sw]) => {
      const g2 = g.view([rows, nOut], false);
      const xf = sx.view([rows, nIn], false);
      let gx: Tensor | null = null;
      if (x.requiresGrad) {
        const t = gemm(g2, sw, false, false);
        gx = t.view(x.shape);
        t.dispose();
      }
      const gw = weight.requiresGrad ? gemm(g2, xf, true, false) : null;
      const gb = b && b.requiresGrad ? sum(g2, 0) : null;
      g2.dispose();
      xf.dispose();
      return [gx, gw, gb];
    },
    [x, weight],
  );
}
