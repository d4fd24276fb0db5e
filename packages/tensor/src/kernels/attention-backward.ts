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
import { dotRegs, each, loadFn, rowType, storeFn, vec4s } from './attention-wgsl.js';

export interface AttentionBackwardConfig {
  d: number;
  dv: number;
  /** Threads per workgroup. */
  threads: number;
  /** Rows (queries in the query pass, keys in the key pass) per thread. */
  rows: number;
  /** Rows of the staged tile (keys in the query pass, queries in the key pass). */
  tile: number;
}

/** Element offsets of each binding inside its bound range, and the sizes. */
export interface AttentionBackwardOffsets {
  lq: number;
  lk: number;
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
  const p = new Params().u32('lq', v.lq).u32('lk', v.lk).f32('scale2', v.scale2);
  for (const k of ['qoff', 'koff', 'voff', 'ooff', 'goff', 'loff', 'doff', 'dqoff', 'dkoff', 'dvoff'] as const) p.u32(k, v[k]);
  return p;
}

const ZERO: AttentionBackwardOffsets = { lq: 0, lk: 0, scale2: 0, qoff: 0, koff: 0, voff: 0, ooff: 0, goff: 0, loff: 0, doff: 0, dqoff: 0, dkoff: 0, dvoff: 0 };

export function attentionBackwardQKey(c: AttentionBackwardConfig): string {
  return `attn:bwdq:d${c.d}:dv${c.dv}:t${c.threads}:r${c.rows}:bk${c.tile}`;
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
  return /* wgsl */ `
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
${each(D4, (k) => `  let q${t}_${k} = ld_Q(qe${t}, ${k}u) * params.scale2;
  var dq${t}_${k} = vec4<f32>(0.0);`)}
${each(V4, (k) => `  let g${t}_${k} = ld_G(ge${t}, ${k}u);`)}
  let delta${t} = ${dotRegs(V4, (k) => `g${t}_${k}`, (k) => `ld_O(oe${t}, ${k}u)`)};
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
${each(D4, (k) => `      let k_${k} = Ks[j * ${D4}u + ${k}u];`)}
${each(V4, (k) => `      let v_${k} = Vs[j * ${V4}u + ${k}u];`)}
${each(R, (t) => `      {
        let p = exp2(${dotRegs(D4, (k) => `q${t}_${k}`, (k) => `k_${k}`)} - lse${t});
        let ds = p * (${dotRegs(V4, (k) => `g${t}_${k}`, (k) => `v_${k}`)} - delta${t});
${each(D4, (k) => `        dq${t}_${k} += ds * k_${k};`)}
      }`)}
    }
  }
${each(R, (t) => `  if (row${t} < lq) {
    let dqe = params.dqoff + (h * lq + row${t}) * ${d}u;
${each(D4, (k) => `    st_DQ(dqe, ${k}u, dq${t}_${k} * params.scale2 * 0.6931471805599453);`)}
    DELTA[params.doff + h * lq + row${t}] = delta${t};
  }`)}
}`;
}

export function attentionBackwardKVKey(c: AttentionBackwardConfig): string {
  return `attn:bwdkv:d${c.d}:dv${c.dv}:t${c.threads}:r${c.rows}:bq${c.tile}`;
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
  return /* wgsl */ `
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
${each(D4, (k) => `  let k${t}_${k} = ld_K(ke${t}, ${k}u);
  var dk${t}_${k} = vec4<f32>(0.0);`)}
${each(V4, (k) => `  let v${t}_${k} = ld_V(ve${t}, ${k}u);
  var dv${t}_${k} = vec4<f32>(0.0);`)}`)}
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
${each(D4, (k) => `      let q_${k} = Qs[i * ${D4}u + ${k}u];`)}
${each(V4, (k) => `      let g_${k} = Gs[i * ${V4}u + ${k}u];`)}
      let lse = Ls[i];
      let delta = Ds[i];
${each(R, (t) => `      {
        let p = exp2(${dotRegs(D4, (k) => `q_${k}`, (k) => `k${t}_${k}`)} - lse);
        let ds = p * (${dotRegs(V4, (k) => `g_${k}`, (k) => `v${t}_${k}`)} - delta);
${each(V4, (k) => `        dv${t}_${k} += p * g_${k};`)}
${each(D4, (k) => `        dk${t}_${k} += ds * q_${k};`)}
      }`)}
    }
  }
${each(R, (t) => `  if (key${t} < lk) {
    let dke = params.dkoff + (h * lk + key${t}) * ${d}u;
    let dve = params.dvoff + (h * lk + key${t}) * ${dv}u;
${each(D4, (k) => `    st_DK(dke, ${k}u, dk${t}_${k} * 0.6931471805599453);`)}
${each(V4, (k) => `    st_DV(dve, ${k}u, dv${t}_${k});`)}
  }`)}
}`;
}
