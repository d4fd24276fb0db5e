/**
 * The matmul kernel generator: C = alpha · op(A) · op(B) (+ bias), batched, where op() is an
 * optional transpose read in place (no transposed copy is ever made).
 *
 * Each thread computes a register tile of `tm × tn` outputs (tn a multiple of 4, so a row of the
 * tile is `tn / 4` vec4 accumulators); a workgroup is `wx × wy` threads, and covers
 * `wy·tm` rows × `wx·tn` columns. No workgroup memory: on a CPU-emulated GPU (lavapipe) register
 * tiling alone was measured faster than shared-memory tiling, and on real GPUs the tile's reuse
 * already cuts global loads by tm·tn/(tm+tn).
 *
 * Edges: rows and columns past the matrix are clamped when loading (the thread computes a
 * duplicate and does not store it), so the inner loop has no branches. K runs in steps of 4
 * (one vec4 of A or B per row), then a scalar remainder loop. Each operand is read as
 * `array<vec4<f32>>` when its contiguous dimension and offset are multiples of 4 (`vecA`, `vecB`,
 * `vecC`), else as `array<f32>` with four scalar loads per vec4.
 *
 * Layout (elements): A[m·lda + k] (or A[k·lda + m] when transA), B[k·ldb + n] (or B[n·ldb + k]
 * when transB), C[m·N + n]; each batch adds its offsets (broadcast strides over the batch shape),
 * and `aOff`, `bOff`, `cOff` shift the whole dispatch (used when a large problem is split into
 * several dispatches that bind sub-ranges of the buffers).
 */
import type { Kernel } from '../backend/backend.js';
import { Params } from './params.js';

/** The register tile and workgroup shape (generator parameters). */
export interface MatmulTile {
  /** Output rows per thread. */
  tm: number;
  /** Output columns per thread (a multiple of 4). */
  tn: number;
  /** Threads per workgroup along N. */
  wx: number;
  /** Threads per workgroup along M. */
  wy: number;
}

/** What a kernel instance supports (part of its key). */
export interface MatmulVariant {
  transA: boolean;
  transB: boolean;
  /** A's contiguous dim (K, or M when transposed), lda and offsets are multiples of 4. */
  vecA: boolean;
  vecB: boolean;
  /** N and the C offsets are multiples of 4. */
  vecC: boolean;
  /** Adds bias[n] (a vector of N) to every row. */
  bias: boolean;
  /** Multiplies the product by params.alpha. */
  alpha: boolean;
  /** Number of batch dims (after coalescing); 0 = one matrix per dispatch z. */
  batchRank: number;
}

/** The default tile, chosen by measurement (see packages/bench `bench kernels`). */
export const DEFAULT_TILE: MatmulTile = { tm: 4, tn: 8, wx: 16, wy: 8 };

/** Per-dispatch values of the kernel's uniform struct. */
export interface MatmulParams {
  M: number;
  N: number;
  K: number;
  lda: number;
  ldb: number;
  aOff: number;
  bOff: number;
  cOff: number;
  /** Element stride between consecutive batches of C. */
  cBatch: number;
  /** First output batch of this dispatch (the batch index is b0 + workgroup z). */
  b0: number;
  alpha: number;
  /** Batch shape and A/B broadcast strides (elements), batchRank entries each. */
  bshape: readonly number[];
  ast: readonly number[];
  bst: readonly number[];
}

function assertTile(t: MatmulTile, v: MatmulVariant): void {
  const ok = (c: boolean, what: string) => {
    if (!c) throw new RangeError(`matmul kernel: invalid tile ${JSON.stringify(t)}: ${what}`);
  };
  ok(Number.isInteger(t.tm) && t.tm >= 1 && t.tm <= 16, 'tm must be an integer in 1..16');
  ok(Number.isInteger(t.tn) && t.tn >= 4 && t.tn <= 16 && t.tn % 4 === 0, 'tn must be 4, 8, 12 or 16');
  ok(t.wx >= 1 && t.wy >= 1 && t.wx * t.wy <= 256, 'wx·wy must be in 1..256');
  ok(t.tm * t.tn <= 64, 'tm·tn must be at most 64 accumulators per thread');
  // A transposed and read as vec4 spans 4 rows per load.
  if (v.transA && v.vecA) ok(t.tm % 4 === 0, 'tm must be a multiple of 4 when A is transposed and vec4-aligned');
}

export function matmulParams(p: MatmulParams, v: MatmulVariant): Params {
  const q = new Params()
    .u32('M', p.M)
    .u32('N', p.N)
    .u32('K', p.K)
    .u32('lda', p.lda)
    .u32('ldb', p.ldb)
    .u32('aOff', p.aOff >>> 0)
    .u32('bOff', p.bOff >>> 0)
    .u32('cOff', p.cOff >>> 0)
    .u32('cBatch', p.cBatch)
    .u32('b0', p.b0);
  if (v.alpha) q.f32('alpha', p.alpha);
  if (v.batchRank > 0) {
    const cap = batchCap(v.batchRank);
    q.u32s('bshape', p.bshape, cap).u32s('ast', p.ast, cap).u32s('bst', p.bst, cap);
  }
  return q;
}

function batchCap(rank: number): number {
  return Math.max(4, Math.ceil(rank / 4) * 4);
}

/** The kernel for a tile and variant. */
export function matmulKernel(tile: MatmulTile, v: MatmulVariant): Kernel {
  assertTile(tile, v);
  const key =
    `matmul:${tile.tm}x${tile.tn}:${tile.wx}x${tile.wy}:` +
    `${v.transA ? 'T' : 'N'}${v.transB ? 'T' : 'N'}:` +
    `${v.vecA ? 'v' : 's'}${v.vecB ? 'v' : 's'}${v.vecC ? 'v' : 's'}:` +
    `${v.bias ? 'b' : ''}${v.alpha ? 'a' : ''}:r${v.batchRank}`;
  return { key, wgsl: () => matmulWgsl(tile, v) };
}

const C4 = ['x', 'y', 'z', 'w'];

/** WGSL source (exported for tests and the benchmark). */
export function matmulWgsl(tile: MatmulTile, v: MatmulVariant): string {
  assertTile(tile, v);
  const { tm: TM, tn: TN, wx: WX, wy: WY } = tile;
  const G = TN / 4; // vec4 column groups per thread
  const range = (n: number) => [...Array(n).keys()];
  const dummy = v.batchRank === 0 ? new Params() : null;
  void dummy;
  const params = matmulParams(
    { M: 0, N: 0, K: 0, lda: 0, ldb: 0, aOff: 0, bOff: 0, cOff: 0, cBatch: 0, b0: 0, alpha: 1, bshape: [], ast: [], bst: [] },
    v,
  );
  const ins = ['A', 'B', ...(v.bias ? ['BIAS'] : [])];
  let binding = 0;
  const decl = (name: string, vec: boolean, access: 'read' | 'read_write') =>
    `@group(0) @binding(${binding++}) var<storage, ${access}> ${name}: array<${vec ? 'vec4<f32>' : 'f32'}>;`;
  const lines: string[] = [];
  lines.push(decl('A', v.vecA, 'read'), decl('B', v.vecB, 'read'));
  if (v.bias) lines.push(decl('BIAS', false, 'read'));
  lines.push(decl('C', v.vecC, 'read_write'));
  void ins;
  lines.push(params.wgsl(binding));

  // ---- per-thread setup: batch offsets, clamped rows / columns --------------------------------
  const setup: string[] = [];
  setup.push(`  let M = params.M; let N = params.N; let K = params.K;`);
  setup.push(`  let row0 = (wid.y * ${WY}u + lid.y) * ${TM}u;`);
  setup.push(`  let col0 = (wid.x * ${WX}u + lid.x) * ${TN}u;`);
  if (v.batchRank > 0) {
    setup.push(`  var rem = params.b0 + wid.z; var ba = 0u; var bb = 0u;`);
    setup.push(
      `  for (var d = ${v.batchRank - 1}i; d >= 0; d--) { let s = bshape_at(u32(d)); let i = rem % s; rem = rem / s; ba += i * ast_at(u32(d)); bb += i * bst_at(u32(d)); }`,
    );
  } else {
    setup.push(`  let ba = 0u; let bb = 0u;`);
  }
  setup.push(`  let aBase = params.aOff + ba; let bBase = params.bOff + bb;`);
  setup.push(`  let cBase = params.cOff + wid.z * params.cBatch;`);
  setup.push(`  let lda = params.lda; let ldb = params.ldb;`);
  // Clamped row / column indices (duplicates are computed, never stored).
  for (const r of range(TM)) setup.push(`  let m${r} = min(row0 + ${r}u, M - 1u);`);
  const bVecCols = !v.transB && v.vecB; // B rows read as vec4 over n
  if (bVecCols) {
    for (const g of range(G)) setup.push(`  let ng${g} = min(col0 + ${4 * g}u, N - 4u);`);
  } else {
    for (const c of range(TN)) setup.push(`  let n${c} = min(col0 + ${c}u, N - 1u);`);
  }
  const aVecRows = v.transA && v.vecA; // A^T rows read as vec4 over m
  if (aVecRows) for (const j of range(TM / 4)) setup.push(`  let mg${j} = min(row0 + ${4 * j}u, M - 4u);`);
  // Row starts of A (non-transposed) and B (transposed): the k loop adds k.
  if (!v.transA) for (const r of range(TM)) setup.push(`  let ar${r} = aBase + m${r} * lda;`);
  if (v.transB) for (const c of range(TN)) setup.push(`  let br${c} = bBase + n${c} * ldb;`);
  for (const r of range(TM)) for (const g of range(G)) setup.push(`  var acc${r}_${g} = vec4<f32>(0.0);`);

  // ---- loads for one k block (k..k+3) and element accessors ------------------------------
  const v4 = (arr: string, idx: (i: number) => string) => `vec4<f32>(${range(4).map((i) => `${arr}[${idx(i)}]`).join(', ')})`;
  const kp = (kk: number) => (kk === 0 ? 'k' : `(k + ${kk}u)`);
  /** Loads for the block; returns statements and accessors aEl(r, kk), bVec(kk, g). */
  function blockLoads(width: number): { loadsA: (kk: number) => string[]; loadsB: (kk: number) => string[]; aEl: (r: number, kk: number) => string; bVec: (kk: number, g: number) => string; headA: string[]; headB: string[] } {
    const headA: string[] = [];
    const headB: string[] = [];
    let loadsA: (kk: number) => string[] = () => [];
    let loadsB: (kk: number) => string[] = () => [];
    let aEl: (r: number, kk: number) => string;
    let bVec: (kk: number, g: number) => string;
    const blocked = width === 4;
    if (!v.transA) {
      if (blocked) {
        // one vec4 along k per row
        for (const r of range(TM)) headA.push(v.vecA ? `let a${r} = A[(ar${r} + k) >> 2u];` : `let a${r} = ${v4('A', (i) => `ar${r} + ${kp(i)}`)};`);
        aEl = (r, kk) => `a${r}.${C4[kk]}`;
      } else {
        for (const r of range(TM)) headA.push(`let a${r} = A[ar${r} + k];`);
        aEl = (r) => `a${r}`;
      }
    } else if (aVecRows && blocked) {
      loadsA = (kk) => range(TM / 4).map((j) => `let a${kk}_${j} = A[(aBase + ${kp(kk)} * lda + mg${j}) >> 2u];`);
      aEl = (r, kk) => `a${kk}_${r >> 2}.${C4[r & 3]}`;
    } else {
      const arr = v.vecA ? 'A' : 'A';
      loadsA = (kk) => range(TM).map((r) => `let a${kk}_${r} = ${arr}[aBase + ${kp(kk)} * lda + m${r}];`);
      aEl = (r, kk) => `a${kk}_${r}`;
      if (v.vecA && !blocked) {
        // vec4 array read element-wise (remainder loop): index the vec4 and the lane
        loadsA = (kk) =>
          range(TM).map((r) => `let a${kk}_${r} = A[(aBase + ${kp(kk)} * lda + m${r}) >> 2u][(aBase + ${kp(kk)} * lda + m${r}) & 3u];`);
      }
    }
    if (!v.transB) {
      if (bVecCols) loadsB = (kk) => range(G).map((g) => `let b${kk}_${g} = B[(bBase + ${kp(kk)} * ldb + ng${g}) >> 2u];`);
      else loadsB = (kk) => range(G).map((g) => `let b${kk}_${g} = ${v4('B', (i) => `bBase + ${kp(kk)} * ldb + n${4 * g + i}`)};`);
      bVec = (kk, g) => `b${kk}_${g}`;
    } else if (blocked) {
      for (const c of range(TN)) headB.push(v.vecB ? `let b${c} = B[(br${c} + k) >> 2u];` : `let b${c} = ${v4('B', (i) => `br${c} + ${kp(i)}`)};`);
      bVec = (kk, g) => `vec4<f32>(${range(4).map((i) => `b${4 * g + i}.${C4[kk]}`).join(', ')})`;
    } else {
      for (const c of range(TN)) headB.push(v.vecB ? `let b${c} = B[(br${c} + k) >> 2u][(br${c} + k) & 3u];` : `let b${c} = B[br${c} + k];`);
      bVec = (_kk, g) => `vec4<f32>(${range(4).map((i) => `b${4 * g + i}`).join(', ')})`;
    }
    if (!v.transA && !blocked && v.vecA) {
      headA.length = 0;
      for (const r of range(TM)) headA.push(`let a${r} = A[(ar${r} + k) >> 2u][(ar${r} + k) & 3u];`);
    }
    if (!v.transB && !blocked && v.vecB) {
      loadsB = (kk) => range(G).map((g) => `let b${kk}_${g} = B[(bBase + ${kp(kk)} * ldb + ng${g}) >> 2u];`);
    }
    return { loadsA, loadsB, aEl: aEl!, bVec: bVec!, headA, headB };
  }
  const body = (width: number): string => {
    const L = blockLoads(width);
    const out: string[] = [...L.headA, ...L.headB];
    for (const kk of range(width)) {
      out.push(...L.loadsA(kk), ...L.loadsB(kk));
      for (const r of range(TM)) for (const g of range(G)) out.push(`acc${r}_${g} = fma(vec4<f32>(${L.aEl(r, kk)}), ${L.bVec(kk, g)}, acc${r}_${g});`);
    }
    return out.map((s) => `    ${s}`).join('\n');
  };

  // ---- stores -----------------------------------------------------------------------------
  const store: string[] = [];
  const alpha = v.alpha ? ' * params.alpha' : '';
  for (const g of range(G)) {
    if (v.bias) {
      store.push(`  let bias${g} = vec4<f32>(${range(4).map((i) => `BIAS[min(col0 + ${4 * g + i}u, N - 1u)]`).join(', ')});`);
    }
  }
  for (const r of range(TM)) {
    store.push(`  if (row0 + ${r}u < M) {`);
    store.push(`    let cr = cBase + (row0 + ${r}u) * N + col0;`);
    for (const g of range(G)) {
      const val = `acc${r}_${g}${alpha}${v.bias ? ` + bias${g}` : ''}`;
      if (v.vecC) {
        store.push(`    if (col0 + ${4 * g}u < N) { C[(cr + ${4 * g}u) >> 2u] = ${val}; }`);
      } else {
        store.push(`    { let val = ${val};`);
        for (const i of range(4)) store.push(`      if (col0 + ${4 * g + i}u < N) { C[cr + ${4 * g + i}u] = val.${C4[i]}; }`);
        store.push(`    }`);
      }
    }
    store.push(`  }`);
  }

  return `${lines.join('\n')}
@compute @workgroup_size(${WX}, ${WY}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${setup.join('\n')}
  let K4 = K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
${body(4)}
  }
  for (var k = K4; k < K; k++) {
${body(1)}
  }
${store.join('\n')}
}
`;
}

/** Workgroup counts for one dispatch of M×N outputs over `batches` batches. */
export function matmulWorkgroups(tile: MatmulTile, M: number, N: number, batches: number): [number, number, number] {
  return [Math.ceil(N / (tile.tn * tile.wx)), Math.ceil(M / (tile.tm * tile.wy)), batches];
}
