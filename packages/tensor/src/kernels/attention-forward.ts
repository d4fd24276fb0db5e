/**
 * The fused attention forward kernel (flash-attention style): the Lq×Lk score matrix is never
 * stored. A workgroup owns `threads·rows` query rows of one head; each thread keeps its `rows`
 * query rows, their output accumulators and their running (max, sum) in registers. K and V are
 * walked in tiles of `bk` keys staged in workgroup memory, shared by all the workgroup's queries.
 * Per tile: scores for the tile, one rescale of the accumulators by exp(m_old − m_new), then
 * accumulate p·v (online softmax).
 *
 * Scores are kept in base-2 units (q is pre-multiplied by scale·log2 e, so exp becomes exp2);
 * the stored per-row log-sum-exp `LSE` is in the same units, for the backward kernels.
 *
 * Bindings: Q [h, Lq, d], K [h, Lk, d], V [h, Lk, dv] → O [h, Lq, dv], LSE [h, Lq]; each may
 * start `params.*off` elements into its binding (bindings start at aligned offsets).
 * Dispatch: (ceil(Lq / (threads·rows)), heads).
 */
import { Params } from './params.js';
import { Regs, each, loadFn, rowType, storeFn, vec4s } from './attention-wgsl.js';

export interface AttentionForwardConfig {
  d: number;
  dv: number;
  /** Threads per workgroup. */
  threads: number;
  /** Query rows per thread. */
  rows: number;
  /** Keys per K/V tile. */
  bk: number;
  /** Loops instead of unrolled register code (large head dims). */
  looped: boolean;
}

/** The uniform struct of the forward kernel (values filled per dispatch). */
export function attentionForwardParams(v: {
  lq: number;
  lk: number;
  d: number;
  dv: number;
  scale2: number;
  qoff: number;
  koff: number;
  voff: number;
  ooff: number;
  loff: number;
}): Params {
  return new Params()
    .u32('lq', v.lq)
    .u32('lk', v.lk)
    .u32('d4', vec4s(v.d))
    .u32('v4', vec4s(v.dv))
    .f32('scale2', v.scale2)
    .u32('qoff', v.qoff)
    .u32('koff', v.koff)
    .u32('voff', v.voff)
    .u32('ooff', v.ooff)
    .u32('loff', v.loff);
}

export function attentionForwardKey(c: AttentionForwardConfig): string {
  return `attn:fwd:d${c.d}:dv${c.dv}:t${c.threads}:r${c.rows}:bk${c.bk}:${c.looped ? 'loop' : 'unroll'}`;
}

export function attentionForwardWgsl(c: AttentionForwardConfig): string {
  const { d, dv, threads: T, rows: R, bk: BK } = c;
  const D4 = vec4s(d);
  const V4 = vec4s(dv);
  const BQ = T * R;
  const g = new Regs(c.looped);
  const dEach = (body: (c: string) => string, ind = '  ') => g.each(D4, 'params.d4', body, ind);
  const vEach = (body: (c: string) => string, ind = '  ') => g.each(V4, 'params.v4', body, ind);
  const p = attentionForwardParams({ lq: 0, lk: 0, d, dv, scale2: 0, qoff: 0, koff: 0, voff: 0, ooff: 0, loff: 0 });
  return g.finish(/* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<${rowType(d)}>;
@group(0) @binding(1) var<storage, read> K: array<${rowType(d)}>;
@group(0) @binding(2) var<storage, read> V: array<${rowType(dv)}>;
@group(0) @binding(3) var<storage, read_write> O: array<${rowType(dv)}>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
${p.wgsl(5)}
${loadFn('Q', d)}
${loadFn('K', d)}
${loadFn('V', dv)}
${storeFn('O', dv)}

var<workgroup> Ks: array<vec4<f32>, ${BK * D4}>;
var<workgroup> Vs: array<vec4<f32>, ${BK * V4}>;

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let first = wid.x * ${BQ}u + lid;
${each(R, (t) => `  let row${t} = first + ${t * T}u;
  let qe${t} = params.qoff + (h * lq + min(row${t}, lq - 1u)) * ${d}u;
${g.decl(`q${t}`, D4)}
${g.decl(`acc${t}`, V4)}
${dEach((c) => `q${t}[${c}] = ld_Q(qe${t}, ${c}) * params.scale2;`)}
${vEach((c) => `acc${t}[${c}] = vec4<f32>(0.0);`)}
  var m${t} = -3.402823e38;
  var l${t} = 0.0;`)}
  var sc: array<f32, ${BK * R}>;
  let kb0 = params.koff + h * lk * ${d}u;
  let vb0 = params.voff + h * lk * ${dv}u;
  for (var k0 = 0u; k0 < lk; k0 += ${BK}u) {
    let nk = min(${BK}u, lk - k0);
    workgroupBarrier();
    for (var i = lid; i < nk * ${D4}u; i += ${T}u) {
      let j = i / ${D4}u;
      Ks[i] = ld_K(kb0 + (k0 + j) * ${d}u, i - j * ${D4}u);
    }
    for (var i = lid; i < nk * ${V4}u; i += ${T}u) {
      let j = i / ${V4}u;
      Vs[i] = ld_V(vb0 + (k0 + j) * ${dv}u, i - j * ${V4}u);
    }
    workgroupBarrier();
${each(R, (t) => `    var mx${t} = m${t};`)}
    for (var j = 0u; j < nk; j++) {
      let kb = j * ${D4}u;
${each(R, (t) => `${g.dot(`s${t}`, D4, 'params.d4', (c) => `q${t}[${c}]`, (c) => `Ks[kb + ${c}]`, '      ')}
      sc[j * ${R}u + ${t}u] = s${t};
      mx${t} = max(mx${t}, s${t});`)}
    }
${each(R, (t) => `    {
      let alpha = exp2(m${t} - mx${t});
      m${t} = mx${t};
      l${t} *= alpha;
${vEach((c) => `acc${t}[${c}] *= alpha;`, '      ')}
    }`)}
    for (var j = 0u; j < nk; j++) {
      let vb = j * ${V4}u;
${each(R, (t) => `      let p${t} = exp2(sc[j * ${R}u + ${t}u] - m${t});
      l${t} += p${t};`)}
${vEach((c) => `{ let v = Vs[vb + ${c}]; ${ts(R, (t) => `acc${t}[${c}] += p${t} * v;`)} }`, '      ')}
    }
  }
${each(R, (t) => `  if (row${t} < lq) {
    let inv = 1.0 / l${t};
    let oe = params.ooff + (h * lq + row${t}) * ${dv}u;
${vEach((c) => `st_O(oe, ${c}, acc${t}[${c}] * inv);`, '    ')}
    LSE[params.loff + h * lq + row${t}] = m${t} + log2(l${t});
  }`)}
}`);
}

/** Statements for t < n joined on one line. */
function ts(n: number, f: (t: number) => string): string {
  return Array.from({ length: n }, (_, t) => f(t)).join(' ');
}
