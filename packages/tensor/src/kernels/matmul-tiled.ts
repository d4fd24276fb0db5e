/**
 * The matmul kernel generator: C = alpha · op(A) · op(B) (+ bias), batched, where op() is an
 * optional transpose read in place (a transposed copy is never made).
 *
 * Every thread accumulates a register tile of `rows × tn` outputs (`tn` a multiple of 4, one vec4
 * accumulator per 4 columns); no workgroup memory is used. Two ways to get A's values:
 *
 * - `register` tiles (`tm × tn` per thread, `wx × wy` threads): each thread loads its own rows of
 *   A. The usual GPU register tiling: a k step costs tm + tn loads for tm·tn FMAs.
 * - `subgroup` tiles (`rows × tn` per thread, `wx × 1` threads): all threads of a workgroup share
 *   the same `rows` rows of A; each lane of every 8-lane group loads 1/8 of them and
 *   `subgroupBroadcast` hands them to the other lanes. A k step then costs rows/8 + tn loads for
 *   rows·tn FMAs. On lavapipe (where every lane's load is a separate scalar access but a broadcast
 *   is a register extract) this is ~3× faster than register tiling at 1024³. It needs subgroups
 *   of at least 8 lanes.
 *
 * Edges: rows and columns past the matrix are clamped when loading (the thread computes a
 * duplicate that it never stores), so the inner loop has no branches and every loop has a uniform
 * trip count. K runs in blocks of 4 (vec4 loads along k where the layout allows), then a scalar
 * remainder loop. With `vec`, operands are read as `array<vec4<f32>>` (needs A's and B's
 * contiguous dims, N and all offsets to be multiples of 4); otherwise as `array<f32>` with
 * scalar loads.
 *
 * Grid: x = row blocks, y = column strips, z = batches.
 *
 * Layout (elements): A[m·lda + k] (A[k·lda + m] when transA), B[k·ldb + n] (B[n·ldb + k] when
 * transB), C[m·N + n] (C[m·ldc + n] plus C's own batch strides with `cStrided`); batch z adds
 * broadcast offsets (strides over the batch shape), and `aOff`, `bOff`, `cOff` shift a whole
 * dispatch (used when a large problem is split into dispatches that bind sub-ranges of the
 * buffers, and to read or write a view in place).
 */
import type { Kernel } from '../backend/backend.js';
import { Params } from './params.js';
import { activationWgsl, type FusedActivation } from './unary.js';

/** The activations a matmul can apply as it stores (`gelu` is the erf form; the unary ops' formulas). */
export type MatmulActivation = FusedActivation;

/** A register tile: each thread loads its own rows of A. */
export interface RegisterTile {
  kind: 'register';
  /** Output rows per thread. */
  tm: number;
  /** Output columns per thread (a multiple of 4). */
  tn: number;
  /** Threads per workgroup along N. */
  wx: number;
  /** Threads per workgroup along M. */
  wy: number;
}

/** A subgroup tile: A's rows are shared across each 8-lane group by subgroupBroadcast. */
export interface SubgroupTile {
  kind: 'subgroup';
  /** Output rows per thread (a multiple of 8; the same rows for the whole workgroup). */
  rows: number;
  /** Output columns per thread (a multiple of 4). */
  tn: number;
  /** Threads per workgroup along N. */
  wx: number;
  /**
   * Subgroups stacked along M per workgroup (default 1), each on its own `rows`: narrow outputs
   * take more rows per workgroup and so fewer workgroups (on lavapipe, M = 65536, N = 32, K = 16:
   * 8 lanes × 8 stacked 4.0–4.3 ms against 5.0–5.1 ms with one subgroup per workgroup).
   */
  wy?: number;
}

/** A matmul kernel's thread tiling: a {@link RegisterTile} or a {@link SubgroupTile} (told apart by `kind`). */
export type MatmulTile = RegisterTile | SubgroupTile;

/** What a kernel instance supports (part of its key). */
export interface MatmulVariant {
  transA: boolean;
  transB: boolean;
  /** All operands read and written as vec4 (see the file comment for the conditions). */
  vec: boolean;
  /** Adds bias[n] (a vector of N) to every row. */
  bias: boolean;
  /** With `bias`: adds bias[m] (a vector of M) to every column instead (e.g. a 1×1 conv's channels as rows). */
  rowBias?: boolean;
  /** Multiplies the product by params.alpha. */
  alpha: boolean;
  /** Capacity of the batch shape arrays (0: a single matrix per dispatch z, no batch offsets). */
  batchCap: number;
  /**
   * C written with its own row stride `ldc` and batch strides `cst` (a strided view, e.g. one
   * head's columns of an interleaved [B, L, H·D] output) instead of contiguous [batch, M, N].
   * Needs `batchCap` > 0 when there are batches.
   */
  cStrided?: boolean;
  /**
   * C is scattered as a transposed conv whose kernel equals its stride ('unpatch', with
   * `cStrided`): row m = input pixel (y, x) = (m / uw, m % uw), column n = (output channel o, tap
   * t) = (n / utaps, n % utaps), written to C[cBase + o·uplane + (y·ukh + t / ukw)·uws + x·ukw +
   * t % ukw]; a bias is per channel o. C is scalar then (array<f32>).
   */
  unpatch?: boolean;
  /**
   * With `unpatch`, a 2×2 kernel whose input width is a multiple of the subgroup tile's rows (and
   * every offset a multiple of 4): a thread's 4 columns are one channel's taps and its rows
   * consecutive pixels of one input row, so each output row's share is 2·rows contiguous floats,
   * stored (and the residual read) as vec4s: a quarter of the scattered scalar accesses, which
   * were most of the decoder's upscaling convs on lavapipe.
   */
  unpatchVec?: boolean;
  /**
   * Adds R before the activation: with `unpatch`, R has C's layout within a batch, batches `urb`
   * apart; otherwise R is bound like C and read at C's indices.
   */
  residual?: boolean;
  /** An activation applied to each result as it is stored (after bias and residual). */
  act?: MatmulActivation;
}

/** Register tile used where subgroups are not used; measured best of the register tiles on lavapipe. */
export const REGISTER_TILE: RegisterTile = { kind: 'register', tm: 4, tn: 8, wx: 16, wy: 8 };
/**
 * Subgroup tile; measured best on lavapipe at 1024³ with the napping wait (2026-12-07, idle): rows
 * 32 × tn 4 54 ms, rows 24 58 ms, 40 63 ms, 16 67 ms, 48 66 ms, 64 70 ms, 8 92 ms; loading both
 * k blocks' operands per iteration (k step 8) or A before B was slower. Loads are two thirds of
 * the time (without them: 19 ms), so more rows per B load pays until the accumulators spill.
 */
export const SUBGROUP_TILE: SubgroupTile = { kind: 'subgroup', rows: 32, tn: 4, wx: 128 };

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
  /** Batch shape and A/B broadcast strides (elements). */
  bshape: readonly number[];
  ast: readonly number[];
  bst: readonly number[];
  /** With `cStrided`: C's row stride and batch strides (elements). */
  ldc?: number;
  cst?: readonly number[];
  /**
   * With `unpatch`: input width, kernel (= stride) height and width, output width and plane size,
   * and the residual's stride between batches (0: one residual for every batch).
   */
  unpatch?: { uw: number; ukh: number; ukw: number; uws: number; uplane: number; urb?: number };
}

/** Output rows a thread computes. */
export function tileRows(t: MatmulTile): number {
  return t.kind === 'register' ? t.tm : t.rows;
}

/** Rows × columns of C one workgroup covers. */
export function tileExtent(t: MatmulTile): [number, number] {
  return t.kind === 'register' ? [t.tm * t.wy, t.tn * t.wx] : [t.rows * (t.wy ?? 1), t.tn * t.wx];
}

function assertTile(t: MatmulTile, v: MatmulVariant): void {
  const ok = (c: boolean, what: string) => {
    if (!c) throw new RangeError(`matmul kernel: invalid tile ${JSON.stringify(t)}: ${what}`);
  };
  ok(Number.isInteger(t.tn) && t.tn >= 4 && t.tn <= 16 && t.tn % 4 === 0, 'tn must be 4, 8, 12 or 16');
  if (t.kind === 'register') {
    ok(Number.isInteger(t.tm) && t.tm >= 1 && t.tm <= 16, 'tm must be an integer in 1..16');
    ok(Number.isInteger(t.wx) && Number.isInteger(t.wy) && t.wx >= 1 && t.wy >= 1 && t.wx * t.wy <= 256, 'wx·wy must be in 1..256');
    ok(t.tm * t.tn <= 64, 'tm·tn must be at most 64 accumulators per thread');
    // A transposed and read as vec4 spans 4 rows per load.
    if (v.transA && v.vec) ok(t.tm % 4 === 0, 'tm must be a multiple of 4 when A is transposed and vec4-aligned');
  } else {
    ok(Number.isInteger(t.rows) && t.rows >= 8 && t.rows <= 32 && t.rows % 8 === 0, 'rows must be 8, 16, 24 or 32');
    // Lanes 0..7 of every subgroup must exist: workgroups of whole 8-lane groups.
    ok(Number.isInteger(t.wx) && t.wx >= 8 && t.wx <= 256 && t.wx % 8 === 0, 'wx must be a multiple of 8 in 8..256');
    const wy = t.wy ?? 1;
    ok(Number.isInteger(wy) && wy >= 1 && t.wx * wy <= 256, 'wy must be an integer ≥ 1 with wx·wy ≤ 256');
    ok(t.rows * t.tn <= 128, 'rows·tn must be at most 128 accumulators per thread');
  }
  if (v.unpatchVec) ok(t.kind === 'subgroup' && t.tn === 4 && !!v.unpatch, 'a vec4 unpatch needs a subgroup tile of tn 4');
  ok(v.batchCap === 0 || (v.batchCap % 4 === 0 && v.batchCap <= 16), 'batchCap must be 0, 4, 8, 12 or 16');
}

/** The uniform struct for one dispatch. */
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
    .u32('b0', p.b0)
    .u32('brank', p.bshape.length);
  if (v.alpha) q.f32('alpha', p.alpha);
  if (v.cStrided) q.u32('ldc', p.ldc ?? p.N);
  if (v.unpatch) {
    const u = p.unpatch ?? { uw: 1, ukh: 1, ukw: 1, uws: 1, uplane: 1 };
    q.u32('uw', u.uw).u32('ukh', u.ukh).u32('ukw', u.ukw).u32('utaps', u.ukh * u.ukw).u32('uws', u.uws).u32('uplane', u.uplane).u32('urb', u.urb ?? 0);
  }
  if (v.batchCap > 0) {
    if (p.bshape.length > v.batchCap) throw new RangeError(`matmul kernel: ${p.bshape.length} batch dims exceed capacity ${v.batchCap}`);
    q.u32s('bshape', p.bshape, v.batchCap).u32s('ast', p.ast, v.batchCap).u32s('bst', p.bst, v.batchCap);
    if (v.cStrided) q.u32s('cst', p.cst ?? [], v.batchCap);
  }
  return q;
}

/** The kernel for a tile and variant (the key determines the source). */
export function matmulKernel(tile: MatmulTile, v: MatmulVariant): Kernel {
  assertTile(tile, v);
  const shape = tile.kind === 'register' ? `r${tile.tm}x${tile.tn}:${tile.wx}x${tile.wy}` : `s${tile.rows}x${tile.tn}:${tile.wx}${(tile.wy ?? 1) > 1 ? `x${tile.wy}` : ''}`;
  const key =
    `matmul:${shape}:${v.transA ? 'T' : 'N'}${v.transB ? 'T' : 'N'}:${v.vec ? 'v' : 's'}` +
    `${v.bias ? (v.rowBias ? 'r' : 'b') : ''}${v.alpha ? 'a' : ''}${v.cStrided ? 'c' : ''}` +
    `${v.unpatch ? (v.unpatchVec ? ':uv' : ':u') : v.residual ? ':' : ''}${v.residual ? 'r' : ''}${v.act ? `:${v.act}` : ''}:${v.batchCap}`;
  return { key, wgsl: () => matmulWgsl(tile, v) };
}

/**
 * Workgroup counts for one dispatch of M×N outputs over `batches` batches: x runs over row
 * blocks, y over column strips, so consecutive workgroups share a strip of B (on lavapipe this
 * keeps B in cache: measured ~10% faster at 1024³ than x over columns).
 */
export function matmulWorkgroups(tile: MatmulTile, M: number, N: number, batches: number): [number, number, number] {
  const [rows, cols] = tileExtent(tile);
  return [Math.ceil(M / rows), Math.ceil(N / cols), batches];
}

const XYZW = ['x', 'y', 'z', 'w'];
const range = (n: number) => [...Array(n).keys()];

/**
 * How a kernel reads A: statements per k block and the expression of A[row r, k + kk]. The main
 * loop (blocks of 4) reads through running indices, moved on to the next block right after their
 * loads, so the loop body has no index arithmetic beyond constant offsets; the remainder loop
 * indexes from `k`. Measured at 1024³: 64 → 55 ms, as fast as a kernel with the sizes compiled
 * in (moving the indices at the end of the body instead measured 62–65 ms).
 */
interface AReader {
  /** Statements before the k loop (including the running indices' initial values). */
  setup: string[];
  /**
   * Emits one k block (`width` 4 or 1) given `fmaRow(r, kk, aExpr)`, which returns the FMA
   * statements for row r at k + kk with the scalar A value `aExpr`.
   */
  block(width: number, fmaRow: (r: number, kk: number, a: string) => string[]): string[];
}

/** Register tiles: thread-owned rows m0..m{tm-1}. */
function registerA(t: RegisterTile, v: MatmulVariant): AReader {
  const TM = t.tm;
  const setup: string[] = [`  let row0 = (wid.x * ${t.wy}u + lid.y) * ${TM}u;`];
  for (const r of range(TM)) setup.push(`  let m${r} = min(row0 + ${r}u, M - 1u);`);
  if (v.transA && v.vec) for (const j of range(TM / 4)) setup.push(`  let mg${j} = min(row0 + ${4 * j}u, M - 4u);`);
  const advance: string[] = [];
  if (!v.transA) {
    for (const r of range(TM)) setup.push(`  let ar${r} = aBase + m${r} * lda;`);
    for (const r of range(TM)) setup.push(`  var ai${r} = ${v.vec ? `ar${r} >> 2u` : `ar${r}`};`);
    advance.push(range(TM).map((r) => `ai${r} += ${v.vec ? 1 : 4}u;`).join(' '));
  } else if (v.vec) {
    for (const j of range(TM / 4)) setup.push(`  var ai${j} = (aBase + mg${j}) >> 2u;`);
    advance.push(range(TM / 4).map((j) => `ai${j} += lda;`).join(' '));
  } else {
    setup.push(`  var ak = aBase;`);
    advance.push(`ak += 4u * lda;`);
  }
  const block = (width: number, fmaRow: (r: number, kk: number, a: string) => string[]): string[] => {
    const out: string[] = [];
    if (width === 1) {
      for (const r of range(TM)) out.push(`let a${r} = ${scalarAt('A', v.vec, v.transA ? `aBase + k * lda + m${r}` : `ar${r} + k`)};`);
      for (const r of range(TM)) out.push(...fmaRow(r, 0, `a${r}`));
      return out;
    }
    if (!v.transA) {
      // one vec4 along k per row
      for (const r of range(TM)) out.push(`let a${r} = ${v.vec ? `A[ai${r}]` : vec4At('A', false, `ai${r}`)};`);
      out.push(...advance);
      for (const kk of range(4)) for (const r of range(TM)) out.push(...fmaRow(r, kk, `a${r}.${XYZW[kk]}`));
    } else {
      for (const kk of range(4)) {
        if (v.vec) {
          for (const j of range(TM / 4)) out.push(`let a${kk}_${j} = A[ai${j}${offset(kk, 'lda >> 2u')}];`);
          for (const r of range(TM)) out.push(...fmaRow(r, kk, `a${kk}_${r >> 2}.${XYZW[r & 3]}`));
        } else {
          for (const r of range(TM)) out.push(`let a${kk}_${r} = A[ak${offset(kk, 'lda')} + m${r}];`);
          for (const r of range(TM)) out.push(...fmaRow(r, kk, `a${kk}_${r}`));
        }
      }
      out.push(...advance);
    }
    return out;
  };
  return { setup, block };
}

/** `+ kk·stride` (nothing for kk = 0): the offset of row kk of a k block from its running index. */
function offset(kk: number, stride: string): string {
  return kk === 0 ? '' : kk === 1 ? ` + (${stride})` : ` + ${kk}u * (${stride})`;
}

/**
 * Subgroup tiles: the workgroup's rows row0..row0+rows-1; lane l (of each 8) loads part of them
 * and subgroupBroadcast distributes. Per block of 4 k, lane l loads one vec4 per 8 rows:
 * A[row0 + 8j + l, k..k+3] (A not transposed) or A[k + (l & 3), row0 + 8j + 4(l >> 2) ..+3]
 * (transposed), so one broadcast of lane q yields four (row, kk) values.
 */
function subgroupA(t: SubgroupTile, v: MatmulVariant): AReader {
  const J = t.rows / 8;
  const wy = t.wy ?? 1;
  const setup: string[] = [wy > 1 ? `  let row0 = (wid.x * ${wy}u + lid.y) * ${t.rows}u;` : `  let row0 = wid.x * ${t.rows}u;`, `  let lane = sgid & 7u;`];
  for (const j of range(J)) {
    if (!v.transA) setup.push(`  let al${j} = aBase + min(row0 + ${8 * j}u + lane, M - 1u) * lda;`);
    else {
      setup.push(`  let akk${j} = lane & 3u;`);
      if (v.vec) setup.push(`  let am${j} = min(row0 + ${8 * j}u + (lane >> 2u) * 4u, M - 4u);`);
      else for (const c of range(4)) setup.push(`  let am${j}_${c} = min(row0 + ${8 * j}u + (lane >> 2u) * 4u + ${c}u, M - 1u);`);
    }
    // remainder loop: lane l holds row 8j + l at a single k
    setup.push(`  let ar${j} = min(row0 + ${8 * j}u + lane, M - 1u);`);
    if (!v.transA) setup.push(`  var ai${j} = ${v.vec ? `al${j} >> 2u` : `al${j}`};`);
    else if (v.vec) setup.push(`  var ai${j} = (aBase + akk${j} * lda + am${j}) >> 2u;`);
    else setup.push(`  var ai${j} = aBase + akk${j} * lda;`);
  }
  // a block is 4 columns of A (one vec4 or 4 scalars further) or 4 rows of Aᵀ (4·lda further)
  const step = !v.transA ? (v.vec ? '1u' : '4u') : v.vec ? 'lda' : '4u * lda';
  const advance = [range(J).map((j) => `ai${j} += ${step};`).join(' ')];
  const block = (width: number, fmaRow: (r: number, kk: number, a: string) => string[]): string[] => {
    const out: string[] = [];
    if (width === 1) {
      for (const j of range(J)) {
        const idx = v.transA ? `aBase + k * lda + ar${j}` : `aBase + ar${j} * lda + k`;
        out.push(`let av${j} = ${scalarAt('A', v.vec, idx)};`);
      }
      for (const j of range(J))
        for (const q of range(8)) {
          out.push(`{ let a = subgroupBroadcast(av${j}, ${q}u);`);
          out.push(...fmaRow(8 * j + q, 0, 'a').map((s) => `  ${s}`));
          out.push(`}`);
        }
      return out;
    }
    for (const j of range(J)) {
      if (!v.transA) out.push(`let av${j} = ${v.vec ? `A[ai${j}]` : vec4At('A', false, `ai${j}`)};`);
      else if (v.vec) out.push(`let av${j} = A[ai${j}];`);
      else out.push(`let av${j} = vec4<f32>(${range(4).map((c) => `A[ai${j} + am${j}_${c}]`).join(', ')});`);
    }
    out.push(...advance);
    for (const j of range(J)) {
      if (!v.transA) {
        // lane q holds row 8j + q at k..k+3: one broadcast feeds that row's 4 FMAs
        for (const q of range(8)) {
          out.push(`{ let a = subgroupBroadcast(av${j}, ${q}u);`);
          for (const kk of range(4)) out.push(...fmaRow(8 * j + q, kk, `a.${XYZW[kk]}`).map((s) => `  ${s}`));
          out.push(`}`);
        }
      } else {
        // lane q holds rows 8j + 4(q >> 2) + c at k + (q & 3): all 8 broadcasts first, then each
        // row's 4 FMAs together (row by row, an accumulator is loaded and stored once per block
        // when it spills; broadcast by broadcast it was 4 times: 1024³ 69 → 55 ms on lavapipe)
        for (const q of range(8)) out.push(`let a${j}_${q} = subgroupBroadcast(av${j}, ${q}u);`);
        for (const r of range(8))
          for (const kk of range(4)) out.push(...fmaRow(8 * j + r, kk, `a${j}_${4 * (r >> 2) + kk}.${XYZW[r & 3]}`));
      }
    }
    return out;
  };
  return { setup, block };
}

/** The stores of an unpatch (see {@link MatmulVariant.unpatch}): per element, its scattered address; bias, residual, GELU. */
function unpatchStore(TM: number, TN: number, alpha: string, v: MatmulVariant): string[] {
  const out: string[] = [];
  // the residual's element for C's element at `cBase + e` is `rBase + e`
  if (v.residual) out.push(`  let rBase = (params.b0 + wid.z) * params.urb;`);
  // Column n = (channel o, tap (ty, tx)) and row m = pixel (py, px) by division once per thread,
  // then stepped: llvmpipe runs a vector integer division lane by lane, and dividing per element
  // made the decoder's two upscaling convs ~3× slower than their FLOPs.
  out.push(`  var o = col0 / params.utaps; var ty = (col0 % params.utaps) / params.ukw; var tx = col0 % params.ukw;`);
  for (const c of range(TN)) {
    out.push(`  let n${c}u = col0 + ${c}u; let off${c}u = o * params.uplane + ty * params.uws + tx;`);
    if (v.bias) out.push(`  let bias${c}u = BIAS[min(o, N / params.utaps - 1u)];`);
    if (c < TN - 1) out.push(`  tx += 1u; if (tx == params.ukw) { tx = 0u; ty += 1u; if (ty == params.ukh) { ty = 0u; o += 1u; } }`);
  }
  out.push(`  var py = row0 / params.uw; var px = row0 % params.uw;`);
  for (const r of range(TM)) {
    out.push(`  if (row0 + ${r}u < M) {`);
    out.push(`    let e = py * params.ukh * params.uws + px * params.ukw; let base = cBase + e;`);
    for (const c of range(TN)) {
      let val = `acc${r}_${c >> 2}.${XYZW[c & 3]}${alpha}${v.bias ? ` + bias${c}u` : ''}`;
      if (v.residual) val += ` + R[rBase + e + off${c}u]`;
      out.push(`    if (n${c}u < N) { C[base + off${c}u] = ${v.act ? `act_(${val})` : val}; }`);
    }
    out.push(`  }`);
    if (r < TM - 1) out.push(`  px += 1u; if (px == params.uw) { px = 0u; py += 1u; }`);
  }
  return out;
}

/**
 * The stores of a 2×2 unpatch as vec4s (see {@link MatmulVariant.unpatchVec}): thread columns
 * (o, tap 0..3) = (o, ty, tx), rows row0.. = pixels px0.. of input row py; output row 2·py + ty
 * gets (acc[2q].tx0, acc[2q].tx1, acc[2q+1].tx0, acc[2q+1].tx1) at vec4 q.
 */
function unpatchVecStore(TM: number, alpha: string, v: MatmulVariant): string[] {
  const out: string[] = [];
  if (v.residual) out.push(`  let rBase = (params.b0 + wid.z) * params.urb;`);
  out.push(`  let o = col0 >> 2u; let py = row0 / params.uw; let px = row0 % params.uw;`);
  out.push(`  if (row0 < M && col0 < N) {`);
  if (v.bias) out.push(`    let bo = vec4<f32>(BIAS[o]);`);
  for (const ty of [0, 1]) {
    const [c0, c1] = ty === 0 ? ['x', 'y'] : ['z', 'w'];
    out.push(`    { let e = o * params.uplane + (py * 2u + ${ty}u) * params.uws + px * 2u; let ci = (cBase + e) >> 2u;${v.residual ? ' let ri = (rBase + e) >> 2u;' : ''}`);
    for (const q of range(TM / 2)) {
      const [a, b] = [`acc${2 * q}_0`, `acc${2 * q + 1}_0`];
      let val = `vec4<f32>(${a}.${c0}, ${a}.${c1}, ${b}.${c0}, ${b}.${c1})${alpha}${v.bias ? ' + bo' : ''}`;
      if (v.residual) val += ` + R[ri + ${q}u]`;
      out.push(`      C[ci + ${q}u] = ${v.act ? `act4_(${val})` : val};`);
    }
    out.push(`    }`);
  }
  out.push(`  }`);
  return out;
}

/** A scalar element of an array that may be declared as vec4s. */
function scalarAt(arr: string, vec: boolean, idx: string): string {
  return vec ? `${arr}[(${idx}) >> 2u][(${idx}) & 3u]` : `${arr}[${idx}]`;
}

/** Four consecutive elements starting at `idx` (a multiple of 4 when `vec`). */
function vec4At(arr: string, vec: boolean, idx: string): string {
  return vec ? `${arr}[(${idx}) >> 2u]` : `vec4<f32>(${range(4).map((i) => `${arr}[${idx} + ${i}u]`).join(', ')})`;
}

/** WGSL source (exported for tests and the benchmark). */
export function matmulWgsl(tile: MatmulTile, v: MatmulVariant): string {
  assertTile(tile, v);
  const TN = tile.tn;
  const G = TN / 4; // vec4 column groups per thread
  const TM = tileRows(tile);
  const sub = tile.kind === 'subgroup';
  const reader = sub ? subgroupA(tile, v) : registerA(tile, v);
  const wx = tile.wx;
  const wy = tile.wy ?? 1;
  const params = matmulParams(
    { M: 0, N: 0, K: 0, lda: 0, ldb: 0, aOff: 0, bOff: 0, cOff: 0, cBatch: 0, b0: 0, alpha: 1, bshape: [], ast: [], bst: [], cst: [] },
    v,
  );
  const arr = v.vec ? 'array<vec4<f32>>' : 'array<f32>';
  let binding = 0;
  const decls = [
    `@group(0) @binding(${binding++}) var<storage, read> A: ${arr};`,
    `@group(0) @binding(${binding++}) var<storage, read> B: ${arr};`,
    ...(v.bias ? [`@group(0) @binding(${binding++}) var<storage, read> BIAS: array<f32>;`] : []),
    ...(v.residual ? [`@group(0) @binding(${binding++}) var<storage, read> R: ${v.unpatch && !v.unpatchVec ? 'array<f32>' : arr};`] : []),
    `@group(0) @binding(${binding++}) var<storage, read_write> C: ${v.unpatch && !v.unpatchVec ? 'array<f32>' : arr};`,
    params.wgsl(binding),
  ];

  // ---- per-thread setup: batch offsets, clamped columns, A's rows ------------------------------
  const setup: string[] = [`  let M = params.M; let N = params.N; let K = params.K; let lda = params.lda; let ldb = params.ldb;`];
  const cs = v.cStrided && v.batchCap > 0;
  if (v.batchCap > 0) {
    setup.push(`  var rem = params.b0 + wid.z; var ba = 0u; var bb = 0u;${cs ? ' var bc = 0u;' : ''}`);
    setup.push(
      `  for (var d = i32(params.brank) - 1; d >= 0; d--) { let s = bshape_at(u32(d)); let i = rem % s; rem = rem / s; ba += i * ast_at(u32(d)); bb += i * bst_at(u32(d));${cs ? ' bc += i * cst_at(u32(d));' : ''} }`,
    );
  } else setup.push(`  let ba = 0u; let bb = 0u;`);
  setup.push(`  let aBase = params.aOff + ba; let bBase = params.bOff + bb;`);
  if (v.cStrided) setup.push(`  let cBase = params.cOff${cs ? ' + bc' : ''}; let ldc = params.ldc;`);
  else setup.push(`  let cBase = params.cOff + wid.z * params.cBatch; let ldc = N;`);
  setup.push(`  let col0 = (wid.y * ${wx}u + lid.x) * ${TN}u;`);
  setup.push(...reader.setup);
  const bVecCols = !v.transB && v.vec; // B rows read as vec4 over n
  if (bVecCols) for (const g of range(G)) setup.push(`  let ng${g} = min(col0 + ${4 * g}u, N - 4u);`);
  else for (const c of range(TN)) setup.push(`  let n${c} = min(col0 + ${c}u, N - 1u);`);
  if (v.transB) for (const c of range(TN)) setup.push(`  let br${c} = bBase + n${c} * ldb;`);
  // running indices of B for the main loop (see AReader): a block is 4 rows of B (4·ldb further)
  // or 4 columns of Bᵀ
  const bAdvance: string[] = [];
  if (!v.transB && bVecCols) {
    for (const g of range(G)) setup.push(`  var bi${g} = (bBase + ng${g}) >> 2u;`);
    bAdvance.push(range(G).map((g) => `bi${g} += ldb;`).join(' '));
  } else if (!v.transB) {
    setup.push(`  var bk = bBase;`);
    bAdvance.push(`bk += 4u * ldb;`);
  } else {
    for (const c of range(TN)) setup.push(`  var bi${c} = ${v.vec ? `br${c} >> 2u` : `br${c}`};`);
    bAdvance.push(range(TN).map((c) => `bi${c} += ${v.vec ? 1 : 4}u;`).join(' '));
  }
  for (const r of range(TM)) for (const g of range(G)) setup.push(`  var acc${r}_${g} = vec4<f32>(0.0);`);

  // ---- B for a k block, and the FMAs ---------------------------------------------------------
  const kAt = (kk: number) => (kk === 0 ? 'k' : `(k + ${kk}u)`);
  const body = (width: number): string => {
    const out: string[] = [];
    let bVec: (kk: number, g: number) => string;
    if (!v.transB) {
      for (const kk of range(width)) {
        const rowOf = width === 4 ? `bk${offset(kk, 'ldb')}` : `bBase + ${kAt(kk)} * ldb`;
        for (const g of range(G)) {
          out.push(
            bVecCols
              ? width === 4
                ? `let b${kk}_${g} = B[bi${g}${offset(kk, 'ldb >> 2u')}];`
                : `let b${kk}_${g} = B[(${rowOf} + ng${g}) >> 2u];`
              : `let b${kk}_${g} = vec4<f32>(${range(4).map((i) => `B[${rowOf} + n${4 * g + i}]`).join(', ')});`,
          );
        }
      }
      bVec = (kk, g) => `b${kk}_${g}`;
    } else if (width === 4) {
      for (const c of range(TN)) out.push(`let b${c} = ${v.vec ? `B[bi${c}]` : vec4At('B', false, `bi${c}`)};`);
      bVec = (kk, g) => `vec4<f32>(${range(4).map((i) => `b${4 * g + i}.${XYZW[kk]}`).join(', ')})`;
    } else {
      for (const c of range(TN)) out.push(`let b${c} = ${scalarAt('B', v.vec, `br${c} + k`)};`);
      bVec = (_kk, g) => `vec4<f32>(${range(4).map((i) => `b${4 * g + i}`).join(', ')})`;
    }
    if (width === 4) out.push(...bAdvance);
    const fmaRow = (r: number, kk: number, a: string) =>
      range(G).map((g) => `acc${r}_${g} = fma(vec4<f32>(${a}), ${bVec(kk, g)}, acc${r}_${g});`);
    out.push(...reader.block(width, fmaRow));
    return out.map((s) => `    ${s}`).join('\n');
  };

  // ---- stores --------------------------------------------------------------------------------
  const store: string[] = [];
  const alpha = v.alpha ? ' * params.alpha' : '';
  const colBias = v.bias && !v.rowBias && !v.unpatch;
  if (v.unpatch) store.push(...(v.unpatchVec ? unpatchVecStore(TM, alpha, v) : unpatchStore(TM, TN, alpha, v)));
  if (colBias) {
    for (const g of range(G)) store.push(`  let bias${g} = vec4<f32>(${range(4).map((i) => `BIAS[min(col0 + ${4 * g + i}u, N - 1u)]`).join(', ')});`);
  }
  for (const r of v.unpatch ? [] : range(TM)) {
    store.push(`  if (row0 + ${r}u < M && col0 < N) {`);
    store.push(`    let cr = cBase + (row0 + ${r}u) * ldc + col0;`);
    if (v.rowBias && v.bias) store.push(`    let rb = vec4<f32>(BIAS[row0 + ${r}u]);`);
    for (const g of range(G)) {
      let sum = `acc${r}_${g}${alpha}${colBias ? ` + bias${g}` : v.bias ? ' + rb' : ''}`;
      if (v.residual) sum += v.vec ? ` + R[(cr + ${4 * g}u) >> 2u]` : ` + vec4<f32>(${range(4).map((i) => `R[min(cr + ${4 * g + i}u, cr + N - col0 - 1u)]`).join(', ')})`;
      const val = v.act ? `act4_(${sum})` : sum;
      if (v.vec) {
        store.push(`    if (col0 + ${4 * g}u < N) { C[(cr + ${4 * g}u) >> 2u] = ${val}; }`);
      } else {
        store.push(`    { let val = ${val};`);
        for (const i of range(4)) store.push(`      if (col0 + ${4 * g + i}u < N) { C[cr + ${4 * g + i}u] = val.${XYZW[i]}; }`);
        store.push(`    }`);
      }
    }
    store.push(`  }`);
  }

  // With vec4 operands K is a multiple of 4 (it is A's or B's contiguous dim) unless A is
  // transposed and B is not; the remainder loop is left out where it cannot run (less to compile).
  const kAligned = v.vec && !(v.transA && !v.transB);
  const remainder = kAligned ? '' : `  for (var k = K4; k < K; k++) {\n${body(1)}\n  }\n`;
  const builtins = sub
    ? `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sgid: u32`
    : `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>`;
  return `${sub ? 'enable subgroups;\n' : ''}${decls.join('\n')}${v.act ? `\n${activationWgsl(v.act)}` : ''}
@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(${builtins}) {
${setup.join('\n')}
  let K4 = K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
${body(4)}
  }
${remainder}${store.join('\n')}
}
`;
}
