/**
 * Shared pieces of the fused attention kernels.
 *
 * Design (all three kernels): a thread owns `rows` rows (queries, or keys in the dK/dV pass) and
 * works through the other side in chunks of `chunk` rows, keeping a rows×chunk block of scores
 * in registers; head-dim loops step over vec4s with a runtime bound, so the generated code does
 * not grow with the head dim. This matters on LLVM-based drivers (lavapipe): a memory access
 * inside a loop is emitted lane by lane (~10 instructions per lane, about the same for a vec4 as
 * for a scalar), so the block reuses each loaded vec4 `rows` or `chunk` times, and unrolled
 * per-head-dim register code takes such drivers minutes to compile for head dims ≥ 96. The other
 * side is staged tile by tile in workgroup memory (vec4 rows, zero-padded), shared by all threads.
 *
 * Rows of `d` floats are read as ceil(d/4) vec4s. When d % 4 == 0 the buffer is bound as
 * `array<vec4<f32>>` and a vec4 is one load; otherwise it is gathered from scalars with the
 * padding lanes set to 0 (so that 0·garbage cannot make a NaN).
 */
import { Params } from './params.js';

export interface AttentionKernelConfig {
  /** Whether q/k rows (head dim d) and v/o rows (dv) are bound as vec4 (d % 4 == 0). */
  vecD: boolean;
  vecV: boolean;
  /** Threads per workgroup. */
  threads: number;
  /** Rows owned by each thread. */
  rows: number;
  /** Rows of the other side per register block. */
  chunk: number;
  /** vec4 slots of each workgroup-memory tile array. */
  slots: number;
}

/**
 * Head dims, tile sizes and offsets are uniforms, so one kernel serves every head dim (fewer
 * pipelines to compile: lavapipe takes seconds per pipeline).
 */
export const configKey = (c: AttentionKernelConfig) =>
  `${c.vecD ? 'vd' : 'sd'}:${c.vecV ? 'vv' : 'sv'}:t${c.threads}:r${c.rows}:c${c.chunk}:s${c.slots}`;

/** Sizes and binding offsets (elements) of one dispatch; the same struct serves all kernels. */
export interface AttentionParams {
  lq: number;
  lk: number;
  d: number;
  dv: number;
  /** Rows of the other side per staged tile. */
  tile: number;
  /** scale·log2 e */
  scale2: number;
  scale: number;
  offsets: readonly number[];
  /**
   * Row addressing of the first bindings (register forward kernel only): head h of the dispatch
   * is head h % headsPerBatch of batch ⌊h / headsPerBatch⌋, and its row r starts at element
   * offset + batch·batchStride + head·headStride + r·rowStride. Contiguous [heads, L, d] rows are
   * headsPerBatch 1, batchStride L·d, rowStride d; a [B, L, H, d] layout (heads interleaved, as a
   * linear layer writes them) is headsPerBatch H, batchStride L·row, headStride d, rowStride row.
   */
  layout?: { headsPerBatch: number; rows: readonly RowLayout[] };
}

/** Where the rows of one binding are (see {@link AttentionParams.layout}). */
export interface RowLayout {
  batchStride: number;
  headStride: number;
  rowStride: number;
}

/** The uniform struct: sizes, scales and one element offset per storage binding. */
export function attentionParams(p: AttentionParams): Params {
  const r = new Params()
    .u32('lq', p.lq)
    .u32('lk', p.lk)
    .u32('d', p.d)
    .u32('dv', p.dv)
    .u32('d4', vec4s(p.d))
    .u32('v4', vec4s(p.dv))
    .u32('tile', p.tile)
    .f32('scale2', p.scale2)
    .f32('scale', p.scale);
  p.offsets.forEach((o, i) => r.u32(`off${i}`, o));
  if (p.layout) {
    r.u32('hpb', p.layout.headsPerBatch);
    p.layout.rows.forEach((l, i) => r.u32(`sb${i}`, l.batchStride).u32(`sh${i}`, l.headStride).u32(`sr${i}`, l.rowStride));
  }
  return r;
}

const ZERO = (n: number, laidOut = 0): AttentionParams => ({
  lq: 0,
  lk: 0,
  d: 0,
  dv: 0,
  tile: 0,
  scale2: 0,
  scale: 0,
  offsets: new Array(n).fill(0),
  ...(laidOut ? { layout: { headsPerBatch: 1, rows: new Array(laidOut).fill({ batchStride: 0, headStride: 0, rowStride: 0 }) } } : {}),
});

/** A binding: name, and which head dim its rows have ('d', 'dv', or 'scalar' for LSE/Δ). */
export type AttentionBuffer = [string, 'd' | 'dv' | 'scalar'];

/**
 * Binding declarations in binding order, the last `nOut` read_write, plus `ld_<name>` and (for
 * outputs) `st_<name>` for the row buffers; the uniform struct has row layouts for the first
 * `laidOut` bindings (see {@link AttentionParams.layout}).
 */
export function attentionBindings(c: AttentionKernelConfig, bufs: AttentionBuffer[], nOut: number, laidOut = 0): string {
  const decl: string[] = [];
  const fns: string[] = [];
  bufs.forEach(([n, kind], i) => {
    const out = i >= bufs.length - nOut;
    const vec = kind === 'd' ? c.vecD : c.vecV;
    decl.push(`@group(0) @binding(${i}) var<storage, ${out ? 'read_write' : 'read'}> ${n}: array<${kind === 'scalar' ? 'f32' : rowType(vec)}>;`);
    if (kind === 'scalar') return;
    const len = kind === 'd' ? 'params.d' : 'params.dv';
    fns.push(loadFn(n, vec, len));
    if (out) fns.push(storeFn(n, vec, len));
  });
  return `${decl.join('\n')}\n${attentionParams(ZERO(bufs.length, laidOut)).wgsl(bufs.length)}\n${fns.join('\n')}`;
}

/** Number of vec4s of a row of `d` floats. */
export const vec4s = (d: number) => Math.ceil(d / 4);

/** The WGSL element type of a buffer of rows bound as vec4 (`vec`) or as scalars. */
export const rowType = (vec: boolean) => (vec ? 'vec4<f32>' : 'f32');

/**
 * `fn ld_<name>(e, c) -> vec4<f32>`: vec4 `c` of the row starting at element `e`; `len` is the
 * WGSL expression of the row length (scalar path only).
 */
export function loadFn(name: string, vec: boolean, len: string): string {
  if (vec) return `fn ld_${name}(e: u32, c: u32) -> vec4<f32> { return ${name}[(e >> 2u) + c]; }`;
  return `fn ld_${name}(e: u32, c: u32) -> vec4<f32> {
  let i = e + c * 4u;
  let n = ${len} - c * 4u;
  return vec4<f32>(${name}[i], select(0.0, ${name}[i + 1u], n > 1u), select(0.0, ${name}[i + 2u], n > 2u), select(0.0, ${name}[i + 3u], n > 3u));
}`;
}

/** `fn st_<name>(e, c, v)`: stores vec4 `c` of the row starting at element `e` (not past the row). */
export function storeFn(name: string, vec: boolean, len: string): string {
  if (vec) return `fn st_${name}(e: u32, c: u32, v: vec4<f32>) { ${name}[(e >> 2u) + c] = v; }`;
  return `fn st_${name}(e: u32, c: u32, v: vec4<f32>) {
  let i = e + c * 4u;
  let n = ${len} - c * 4u;
  ${name}[i] = v.x;
  if (n > 1u) { ${name}[i + 1u] = v.y; }
  if (n > 2u) { ${name}[i + 2u] = v.z; }
  if (n > 3u) { ${name}[i + 3u] = v.w; }
}`;
}

/** `statements(t, u)` for every register (t < rows, u < chunk), one per line. */
export function grid2(rows: number, chunk: number, f: (t: number, u: number) => string, indent = '      '): string {
  const out: string[] = [];
  for (let t = 0; t < rows; t++) for (let u = 0; u < chunk; u++) out.push(indent + f(t, u));
  return out.join('\n');
}

/** `statements(i)` for i < n, one per line. */
export function each(n: number, f: (i: number) => string, indent = '  '): string {
  return Array.from({ length: n }, (_, i) => indent + f(i)).join('\n');
}

/** `a0 op a1 op …` over i < n (e.g. a sum of register terms). */
export function fold(n: number, f: (i: number) => string, op: string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(` ${op} `);
}

/** `f(f(a0, a1), a2)…` over i < n for a two-argument WGSL function `f` (e.g. max). */
export function nest(n: number, term: (i: number) => string, f: string): string {
  let out = term(0);
  for (let i = 1; i < n; i++) out = `${f}(${out}, ${term(i)})`;
  return out;
}

/**
 * Rows per staged tile: a multiple of `chunk`, at most `cap`, such that a tile of rows of `perRow`
 * vec4s fits in `slots` vec4s.
 */
export function tileRows(slots: number, perRow: number, chunk: number, cap: number): number {
  return Math.max(chunk, Math.min(cap, Math.floor(slots / perRow / chunk) * chunk));
}

/** The largest power of two ≤ `want` for which `chunk` rows of `perRow` vec4s fit in `slots`. */
export function fitChunk(slots: number, perRow: number, want: number): number {
  let c = want;
  while (c > 1 && c * perRow > slots) c >>= 1;
  return c;
}

/**
 * The entry point's head and prologue, shared by the three kernels: head `h`, the sizes from the
 * uniforms, this thread's first owned row `first` (rows of `owner`: 'lq' for query rows, 'lk'
 * for key rows) and `busy` (whether it owns any). Threads without a row skip the arithmetic but
 * still help staging (barriers are uniform).
 */
export function attentionMain(c: AttentionKernelConfig, owner: 'lq' | 'lk'): string {
  return `@compute @workgroup_size(${c.threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let d = params.d;
  let dv = params.dv;
  let d4 = params.d4;
  let v4 = params.v4;
  let tile = params.tile;
  let first = wid.x * ${c.threads * c.rows}u + lid;
  let busy = first < ${owner};`;
}

/**
 * WGSL loop staging one tile of rows into the workgroup array `dst` (vec4 slots): slot `i` gets
 * vec4 `i % per` of row `start + i / per` of the buffer read by `ld_<buf>`, rows being `len`
 * floats from element `base` on and clamped to the last row `count − 1` (the tail of the last
 * tile repeats it; the kernels mask those rows). The workgroup's `threads` threads share the work.
 */
export function stageTile(
  dst: string,
  buf: string,
  t: { base: string; start: string; count: string; len: string; per: string },
  threads: number,
): string {
  return `    for (var i = lid; i < tile * ${t.per}; i += ${threads}u) {
      let j = i / ${t.per};
      ${dst}[i] = ld_${buf}(${t.base} + min(${t.start} + j, ${t.count} - 1u) * ${t.len}, i - j * ${t.per});
    }`;
}

/** The workgroup tiles `Ks` and `Vs` of the query-side kernels (forward and backward query pass). */
export function keyValueTiles(c: AttentionKernelConfig): string {
  return `var<workgroup> Ks: array<vec4<f32>, ${c.slots}>;
var<workgroup> Vs: array<vec4<f32>, ${c.slots}>;`;
}

/**
 * Loop helpers of a kernel body: `ts(f)` writes `f(t)` for each of the thread's rows t, `cs(f)`
 * writes `f(u)` for each row u of a register block's chunk (default indent `chunkIndent`).
 */
export function rowLoops(c: AttentionKernelConfig, chunkIndent: string) {
  return {
    ts: (f: (t: number) => string, indent = '  ') => each(c.rows, f, indent),
    cs: (f: (u: number) => string, indent = chunkIndent) => each(c.chunk, f, indent),
  };
}

/**
 * The key/value tile loop of the query-side kernels (forward and backward query pass), opened up
 * to its register block: per tile of keys [k0, k0 + nk), K and V are staged into `Ks` and `Vs`
 * (from the head's rows at `kb0`, `vb0`) between barriers, then threads that own rows walk the
 * tile `chunk` keys (`jb`) at a time. The caller writes the block's body and closes three braces.
 */
export function keyValueTileLoop(c: AttentionKernelConfig): string {
  return `  let kb0 = params.off1 + h * lk * d;
  let vb0 = params.off2 + h * lk * dv;
  for (var k0 = 0u; k0 < lk; k0 += tile) {
    let nk = min(tile, lk - k0);
    workgroupBarrier();
${stageTile('Ks', 'K', { base: 'kb0', start: 'k0', count: 'lk', len: 'd', per: 'd4' }, c.threads)}
${stageTile('Vs', 'V', { base: 'vb0', start: 'k0', count: 'lk', len: 'dv', per: 'v4' }, c.threads)}
    workgroupBarrier();
    if (busy) {
      for (var jb = 0u; jb < nk; jb += ${c.chunk}u) {`;
}

/**
 * Inside {@link keyValueTileLoop}: the rows×chunk block of raw scores `s<t>_<u>` += q·k over the
 * head dim, reading the thread's query rows (`qe<t>`) and the staged keys at `kr<u>`.
 */
export function queryKeyScores(c: AttentionKernelConfig): string {
  const { ts, cs } = rowLoops(c, '          ');
  return `        for (var c = 0u; c < d4; c++) {
${ts((t) => `let q${t} = ld_Q(qe${t}, c);`, '          ')}
${cs((u) => `let k${u} = Ks[kr${u} + c];`)}
${grid2(c.rows, c.chunk, (t, u) => `s${t}_${u} += dot(q${t}, k${u});`, '          ')}
        }`;
}
