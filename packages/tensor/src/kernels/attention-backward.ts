/**
 * The fused attention backward kernels (flash-attention-2 style). The probabilities are
 * recomputed tile by tile from q, k and the forward's per-row log-sum-exp, never stored:
 *   P = exp2(s − lse), s = q·k·scale·log2 e,  Δ_i = Σ dO_i∘O_i,
 *   dS = P∘(dO·vᵀ − Δ),  dQ = dS·K·scale,  dK = dSᵀ·Q·scale,  dV = Pᵀ·dO.
 * Two passes, so that every output is owned by one thread and no float atomics are needed:
 * - the query pass (parallel over query rows, K/V tiles in workgroup memory) computes dQ and Δ;
 * - the key pass (parallel over key rows, Q/dO/lse/Δ tiles in workgroup memory) computes dK, dV.
 */
import { Params } from './params.js';
import { Regs, each, loadFn, rowType, storeFn, vec4s } from './attention-wgsl.js';

export interface AttentionBackwardConfig {
  d: number;
  dv: number;
  /** Threads per workgroup. */
  threads: number;
  /** Rows (queries in the query pass, keys in the key pass) per thread. */
  rows: number;
  /** Rows of the staged tile (keys in the query pass, queries in the key pass). */
  tile: number;
  /** Loops instead of unrolled register code (large head dims). */
  looped: boolean;
}

/** Sizes, and the element offset of each binding inside its bound range. */
export interface AttentionBackwardOffsets {
  lq: number;
  lk: number;
  d: number;
  dv: number;
  scale2: number;
  qoff: number;
  koff: number;
  voff: number;
  ooff: number;
  goff: number;
  loff: number;
  doff: number;
  dqoff: number;
  dkoff: number;
  dvoff: number;
}

/** The uniform struct of both backward kernels. */
export function attentionBackwardParams(v: AttentionBackwardOffsets): Params {
  const p = new Params().u32('lq', v.lq).u32('lk', v.lk).u32('d4', vec4s(v.d)).u32('v4', vec4s(v.dv)).f32('scale2', v.scale2);
  for (const k of ['qoff', 'koff', 'voff', 'ooff', 'goff', 'loff', 'doff', 'dqoff', 'dkoff', 'dvoff'] as const) p.u32(k, v[k]);
  return p;
}

const ZERO: AttentionBackwardOffsets = {
  ...{ lq: 0, lk: 0, d: 0, dv: 0, scale2: 0, qoff: 0, koff: 0, voff: 0 },
  ...{ ooff: 0, goff: 0, loff: 0, doff: 0, dqoff: 0, dkoff: 0, dvoff: 0 },
};

const LN2 = '0.6931471805599453';

const variant = (c: AttentionBackwardConfig) => `d${c.d}:dv${c.dv}:t${c.threads}:r${c.rows}:tile${c.tile}:${c.looped ? 'loop' : 'unroll'}`;

export function attentionBackwardQKey(c: AttentionBackwardConfig): string {
  return `attn:bwdq:${variant(c)}`;
}

/**
 * Query pass. Bindings: Q, K, V, O, G (= dO), LSE → DQ, DELTA. Dispatch
 * (ceil(Lq / (threads·rows)), heads).
 */
export function attentionBackwardQWgsl(c: AttentionBackwardConfig): string {
  const { d, dv, threads: T, rows: R, tile: BK } = c;
  const D4 = vec4s(d);
  const V4 = vec4s(dv);
  const BQ = T * R;
  const g = new Regs(c.looped);
  const dEach = (body: (c: string) => string, ind = '  ') => g.each(D4, 'params.d4', body, ind);
  const vEach = (body: (c: string) => string, ind = '  ') => g.each(V4, 'params.v4', body, ind);
  return g.finish(/* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<${rowType(d)}>;
@group(0) @binding(1) var<storage, read> K: array<${rowType(d)}>;
@group(0) @binding(2) var<storage, read> V: array<${rowType(dv)}>;
@group(0) @binding(3) var<storage, read> O: array<${rowType(dv)}>;
@group(0) @binding(4) var<storage, read> G: array<${rowType(dv)}>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read_write> DQ: array<${rowType(d)}>;
@group(0) @binding(7) var<storage, read_write> DELTA: array<f32>;
${attentionBackwardParams(ZERO).wgsl(8)}
${loadFn('Q', d)}
${loadFn('K', d)}
${loadFn('V', dv)}
${loadFn('O', dv)}
${loadFn('G', dv)}
${storeFn('DQ', d)}

var<workgroup> Ks: array<vec4<f32>, ${BK * D4}>;
var<workgroup> Vs: array<vec4<f32>, ${BK * V4}>;

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let first = wid.x * ${BQ}u + lid;
${each(R, (t) => `  let row${t} = first + ${t * T}u;
  let rc${t} = min(row${t}, lq - 1u);
  let qe${t} = params.qoff + (h * lq + rc${t}) * ${d}u;
  let oe${t} = params.ooff + (h * lq + rc${t}) * ${dv}u;
  let ge${t} = params.goff + (h * lq + rc${t}) * ${dv}u;
${g.decl(`q${t}`, D4)}
${g.decl(`dq${t}`, D4)}
${g.decl(`g${t}`, V4)}
${dEach((c) => `q${t}[${c}] = ld_Q(qe${t}, ${c}) * params.scale2; dq${t}[${c}] = vec4<f32>(0.0);`)}
${vEach((c) => `g${t}[${c}] = ld_G(ge${t}, ${c});`)}
${g.dot(`delta${t}`, V4, 'params.v4', (c) => `g${t}[${c}]`, (c) => `ld_O(oe${t}, ${c})`)}
  let lse${t} = LSE[params.loff + h * lq + rc${t}];`)}
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
    for (var j = 0u; j < nk; j++) {
      let kb = j * ${D4}u;
      let vb = j * ${V4}u;
${each(R, (t) => `      {
${g.dot('s', D4, 'params.d4', (c) => `q${t}[${c}]`, (c) => `Ks[kb + ${c}]`, '        ')}
${g.dot('dp', V4, 'params.v4', (c) => `g${t}[${c}]`, (c) => `Vs[vb + ${c}]`, '        ')}
        let p = exp2(s - lse${t});
        let ds = p * (dp - delta${t});
${dEach((c) => `dq${t}[${c}] += ds * Ks[kb + ${c}];`, '        ')}
      }`)}
    }
  }
${each(R, (t) => `  if (row${t} < lq) {
    let dqe = params.dqoff + (h * lq + row${t}) * ${d}u;
${dEach((c) => `st_DQ(dqe, ${c}, dq${t}[${c}] * (params.scale2 * ${LN2}));`, '    ')}
    DELTA[params.doff + h * lq + row${t}] = delta${t};
  }`)}
}`);
}

export function attentionBackwardKVKey(c: AttentionBackwardConfig): string {
  return `attn:bwdkv:${variant(c)}`;
}

/**
 * Key pass. Bindings: Q, K, V, G (= dO), LSE, DELTA → DK, DV. Dispatch
 * (ceil(Lk / (threads·rows)), heads).
 */
export function attentionBackwardKVWgsl(c: AttentionBackwardConfig): string {
  const { d, dv, threads: T, rows: R, tile: BQ } = c;
  const D4 = vec4s(d);
  const V4 = vec4s(dv);
  const BK = T * R;
  const g = new Regs(c.looped);
  const dEach = (body: (c: string) => string, ind = '  ') => g.each(D4, 'params.d4', body, ind);
  const vEach = (body: (c: string) => string, ind = '  ') => g.each(V4, 'params.v4', body, ind);
  return g.finish(/* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<${rowType(d)}>;
@group(0) @binding(1) var<storage, read> K: array<${rowType(d)}>;
@group(0) @binding(2) var<storage, read> V: array<${rowType(dv)}>;
@group(0) @binding(3) var<storage, read> G: array<${rowType(dv)}>;
@group(0) @binding(4) var<storage, read> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> DELTA: array<f32>;
@group(0) @binding(6) var<storage, read_write> DK: array<${rowType(d)}>;
@group(0) @binding(7) var<storage, read_write> DV: array<${rowType(dv)}>;
${attentionBackwardParams(ZERO).wgsl(8)}
${loadFn('Q', d)}
${loadFn('K', d)}
${loadFn('V', dv)}
${loadFn('G', dv)}
${storeFn('DK', d)}
${storeFn('DV', dv)}

var<workgroup> Qs: array<vec4<f32>, ${BQ * D4}>;
var<workgroup> Gs: array<vec4<f32>, ${BQ * V4}>;
var<workgroup> Ls: array<f32, ${BQ}>;
var<workgroup> Ds: array<f32, ${BQ}>;

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let first = wid.x * ${BK}u + lid;
${each(R, (t) => `  let key${t} = first + ${t * T}u;
  let kc${t} = min(key${t}, lk - 1u);
  let ke${t} = params.koff + (h * lk + kc${t}) * ${d}u;
  let ve${t} = params.voff + (h * lk + kc${t}) * ${dv}u;
${g.decl(`k${t}`, D4)}
${g.decl(`dk${t}`, D4)}
${g.decl(`v${t}`, V4)}
${g.decl(`dv${t}`, V4)}
${dEach((c) => `k${t}[${c}] = ld_K(ke${t}, ${c}); dk${t}[${c}] = vec4<f32>(0.0);`)}
${vEach((c) => `v${t}[${c}] = ld_V(ve${t}, ${c}); dv${t}[${c}] = vec4<f32>(0.0);`)}`)}
  let qb0 = params.qoff + h * lq * ${d}u;
  let gb0 = params.goff + h * lq * ${dv}u;
  for (var i0 = 0u; i0 < lq; i0 += ${BQ}u) {
    let nq = min(${BQ}u, lq - i0);
    workgroupBarrier();
    for (var x = lid; x < nq * ${D4}u; x += ${T}u) {
      let i = x / ${D4}u;
      Qs[x] = ld_Q(qb0 + (i0 + i) * ${d}u, x - i * ${D4}u) * params.scale2;
    }
    for (var x = lid; x < nq * ${V4}u; x += ${T}u) {
      let i = x / ${V4}u;
      Gs[x] = ld_G(gb0 + (i0 + i) * ${dv}u, x - i * ${V4}u);
    }
    for (var i = lid; i < nq; i += ${T}u) {
      Ls[i] = LSE[params.loff + h * lq + i0 + i];
      Ds[i] = DELTA[params.doff + h * lq + i0 + i];
    }
    workgroupBarrier();
    for (var i = 0u; i < nq; i++) {
      let qb = i * ${D4}u;
      let gb = i * ${V4}u;
      let lse = Ls[i];
      let delta = Ds[i];
${each(R, (t) => `      {
${g.dot('s', D4, 'params.d4', (c) => `Qs[qb + ${c}]`, (c) => `k${t}[${c}]`, '        ')}
${g.dot('dp', V4, 'params.v4', (c) => `Gs[gb + ${c}]`, (c) => `v${t}[${c}]`, '        ')}
        let p = exp2(s - lse);
        let ds = p * (dp - delta);
${vEach((c) => `dv${t}[${c}] += p * Gs[gb + ${c}];`, '        ')}
${dEach((c) => `dk${t}[${c}] += ds * Qs[qb + ${c}];`, '        ')}
      }`)}
    }
  }
${each(R, (t) => `  if (key${t} < lk) {
    let dke = params.dkoff + (h * lk + key${t}) * ${d}u;
    let dve = params.dvoff + (h * lk + key${t}) * ${dv}u;
${dEach((c) => `st_DK(dke, ${c}, dk${t}[${c}] * ${LN2});`, '    ')}
${vEach((c) => `st_DV(dve, ${c}, dv${t}[${c}]);`, '    ')}
  }`)}
}`);
}
