/**
 * The layer-norm kernels (run by ops/norm.ts): rows of C elements of a tensor seen as
 * [outer, C, inner] (`params.rows`, `params.c`, `params.inner`).
 *
 * Forward: one fused kernel (it also stores mean and rstd per row for backward): with a row per
 * thread, mean and variance in one pass (Welford's update), then the output; with a workgroup per
 * row, the mean, then the centred variance (tree reductions), then the output. An activation can
 * be applied as the output is stored. Backward: one fused kernel for dx,
 *   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = g·w,  x̂ = (x − mean)·rstd,
 * and, for dw = Σ g·x̂ and db = Σ g over all rows, per-chunk partial sums followed by a kernel
 * that adds the chunks (no float atomics). `wide` kernels give a row a workgroup with tree
 * reductions (long contiguous rows); the others give it one thread. Pure generators: no tensors,
 * no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';
import { activationWgsl, type FusedActivation } from './unary.js';

export const NORM_WG = 64;
const WG = NORM_WG;

/**
 * The entry point of a row kernel. `body` runs once per row with `base` (offset of the row's first
 * element), `st` (stride between its elements), `row`, `valid` (whether the row exists; guard
 * stores with it) and `lead` (the one thread that stores per-row values). Inside it `RED(v)`
 * (v a name) is the sum of a per-thread partial over the row's threads and `for (ELEMS) { … k … }`
 * visits this thread's elements.
 */
function rowMain(body: string, wide: boolean): string {
  if (!wide) {
    const b = body.replaceAll('ELEMS', 'var k = 0u; k < params.c; k++').replace(/RED\((\w+)\)/g, '$1');
    const prelude = `  let valid = true;
  let lead = true;
  let o = row / params.inner;
  let st = params.inner;
  let base = o * params.c * st + (row - o * st);`;
    return linearMain(`${prelude}\n${b}`, WG, 'row', 'params.rows');
  }
  const b = body.replaceAll('ELEMS', `var k = lid; k < params.c; k += ${WG}u`).replace(/RED\((\w+)\)/g, 'red_($1, lid)');
  // Every thread takes part in the reductions (barriers need uniform control flow); a workgroup
  // past the last row computes on row 0 and stores nothing.
  return `
var<workgroup> part: array<f32, ${WG}>;
fn red_(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  part[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  return part[0];
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.y * nwg.x + wid.x;
  let valid = r < params.rows;
  let lead = valid && lid == 0u;
  let row = select(0u, r, valid);
  let st = 1u;
  let base = row * params.c;
${b}
}`;
}

export interface NormForwardConfig {
  wide: boolean;
  weight: boolean;
  bias: boolean;
  /** Applied to y as it is stored (MEAN and RSTD stay those of the normalisation). */
  act?: FusedActivation;
  /** Also stores S = y + P (P of x's shape): a second output in the same pass. */
  plus?: boolean;
  /**
   * Thread-per-row kernels reading vec4s (see {@link NormVec4}); not with `wide`.
   */
  vec4?: NormVec4;
  params: Params;
}

/**
 * How a thread-per-row norm reads vec4s: 'c', a contiguous row (inner 1) 4 elements at a time,
 * C a multiple of 4; 'rows', four neighbouring rows (consecutive inner positions, inner a
 * multiple of 4) at once. On lavapipe every load and store is a per-lane access whatever its
 * width, so either is about a quarter of the accesses.
 */
export type NormVec4 = 'c' | 'rows';

/** y = act((x − mean)·rstd·w + b) per row, storing MEAN and RSTD. Bindings X[, W][, B][, P] → Y, MEAN, RSTD[, S]. */
export function normForwardKernel(c: NormForwardConfig): Kernel {
  const { wide, weight: w, bias: b, act, plus, vec4 } = c;
  if (vec4 && wide) throw new RangeError('norm kernel: vec4 reads need a thread per row');
  return { key: `norm:fwd:${vec4 ? `v4${vec4}` : wide ? 'wg' : 'th'}:${w ? 'w' : ''}${b ? 'b' : ''}${act ? `:${act}` : ''}${plus ? ':plus' : ''}`, wgsl: () => (vec4 ? normForwardVec4Wgsl(c, vec4) : normForwardWgsl(c)) };
}

/**
 * The vec4 forms of the thread-per-row forward (same bindings and results as
 * {@link normForwardWgsl}). 'c': four interleaved Welford streams over the row, merged at the
 * end (equal counts: the variance adds the streams' spread about the mean); 'rows': one Welford
 * stream per row, the four rows in a vec4's lanes.
 */
function normForwardVec4Wgsl(c: NormForwardConfig, mode: NormVec4): string {
  const v4 = 'vec4<f32>';
  const types: Record<string, string> = mode === 'c' ? { X: v4, W: v4, B: v4, P: v4, Y: v4, S: v4 } : { X: v4, P: v4, Y: v4, S: v4, MEAN: v4, RSTD: v4 };
  const { header, store } = forwardParts(c, 'act4_', types);
  const stats =
    mode === 'c'
      ? `  let n = params.c / 4u; let st = 1u; let base = row * n;
  var mu = vec4<f32>(0.0);
  var m2 = vec4<f32>(0.0);
  for (var k = 0u; k < n; k++) { let v = X[base + k]; let d = v - mu; mu += d * (1.0 / f32(k + 1u)); m2 += d * (v - mu); }
  let mean = (mu.x + mu.y + mu.z + mu.w) * 0.25;
  let dm = mu - vec4<f32>(mean);
  let rstd = inverseSqrt(((m2.x + m2.y + m2.z + m2.w) + f32(n) * dot(dm, dm)) / f32(params.c) + params.eps);`
      : `  let n = params.c; let r0 = row * 4u; let o = r0 / params.inner;
  let st = params.inner / 4u; let base = (o * params.c * params.inner + (r0 - o * params.inner)) / 4u;
  var mean = vec4<f32>(0.0);
  var m2 = vec4<f32>(0.0);
  for (var k = 0u; k < n; k++) { let v = X[base + k * st]; let d = v - mean; mean += d * (1.0 / f32(k + 1u)); m2 += d * (v - mean); }
  let rstd = inverseSqrt(m2 / f32(params.c) + params.eps);`;
  const body = `${stats}
  for (var k = 0u; k < n; k++) { ${store} }
  MEAN[row] = mean; RSTD[row] = rstd;`;
  const count = mode === 'c' ? 'params.rows' : 'params.rows / 4u';
  return `${header}${linearMain(body, WG, 'row', count)}`;
}

/**
 * What the forward kernels share: the bindings X[, W][, B][, P] → Y, MEAN, RSTD[, S] (of
 * `types`), the params and the activation (`header`), and the statement storing element k of a
 * row (its normalised value, activated by `actFn`, and its sum with P).
 */
function forwardParts({ weight: w, bias: b, act, plus, params: p }: NormForwardConfig, actFn: 'act_' | 'act4_', types: Record<string, string> = {}) {
  const names = ['X', ...(w ? ['W'] : []), ...(b ? ['B'] : []), ...(plus ? ['P'] : [])];
  const outs = ['Y', 'MEAN', 'RSTD', ...(plus ? ['S'] : [])];
  const y = `(X[base + k * st] - mean) * rstd${w ? ' * W[k]' : ''}${b ? ' + B[k]' : ''}`;
  const v = act ? `${actFn}(${y})` : y;
  const store = plus ? `let i = base + k * st; let v = ${v}; Y[i] = v; S[i] = v + P[i];` : `Y[base + k * st] = ${v};`;
  const header = `${bindings(names, outs, types)}\n${p.wgsl(names.length + outs.length)}\n${act ? `${activationWgsl(act)}\n` : ''}`;
  return { header, store };
}

function normForwardWgsl(c: NormForwardConfig): string {
  const { header, store } = forwardParts(c, 'act_');
  // A thread's row in one pass (Welford): on lavapipe every load is a per-lane access, so a pass
  // fewer is a quarter fewer memory accesses (4096 × 256: 3.41 → 3.02 ms; the reciprocal keeps
  // the division off the dependency chain, with it [1, 64, 128, 128] took 5.0 ms instead of 3.24).
  // Workgroup rows keep the two tree-reduced passes.
  const stats = c.wide
    ? `
  var s = 0.0;
  for (ELEMS) { s += X[base + k * st]; }
  let ts = RED(s);
  let mean = ts / f32(params.c);
  var q = 0.0;
  for (ELEMS) { let d = X[base + k * st] - mean; q += d * d; }
  let tq = RED(q);`
    : `
  var mean = 0.0;
  var tq = 0.0;
  for (ELEMS) { let v = X[base + k * st]; let d = v - mean; mean += d * (1.0 / f32(k + 1u)); tq += d * (v - mean); }`;
  const body = `${stats}
  let rstd = inverseSqrt(tq / f32(params.c) + params.eps);
  if (valid) {
    for (ELEMS) { ${store} }
  }
  if (lead) { MEAN[row] = mean; RSTD[row] = rstd; }`;
  return `${header}${rowMain(body, c.wide)}`;
}

export interface NormBackwardXConfig {
  wide: boolean;
  weight: boolean;
  params: Params;
}

/** dx of a row. Bindings G, X, MEAN, RSTD[, W] → DX. */
export function normBackwardXKernel(c: NormBackwardXConfig): Kernel {
  return { key: `norm:dx:${c.wide ? 'wg' : 'th'}:${c.weight ? 'w' : ''}`, wgsl: () => normBackwardXWgsl(c) };
}

function normBackwardXWgsl({ wide, weight: w, params: p }: NormBackwardXConfig): string {
  const names = ['G', 'X', 'MEAN', 'RSTD', ...(w ? ['W'] : [])];
  const gw = w ? 'G[base + k * st] * W[k]' : 'G[base + k * st]';
  const body = `
  let mu = MEAN[row];
  let rs = RSTD[row];
  var a = 0.0;
  var b = 0.0;
  for (ELEMS) {
    let gw = ${gw};
    a += gw;
    b += gw * (X[base + k * st] - mu);
  }
  let inv_c = 1.0 / f32(params.c);
  let ta = RED(a);
  let tb = RED(b);
  let ma = ta * inv_c;
  let mb = tb * inv_c * rs;
  if (valid) {
    for (ELEMS) {
      let xh = (X[base + k * st] - mu) * rs;
      DX[base + k * st] = rs * (${gw} - ma - xh * mb);
    }
  }`;
  return `${bindings(names, ['DX'])}\n${p.wgsl(names.length + 1)}\n${rowMain(body, wide)}`;
}

/**
 * First pass of dw = Σ g·x̂ and db = Σ g: thread (channel, chunk) sums its chunk of `params.per`
 * rows into PART [chunks, 2, C]. Bindings G, X, MEAN, RSTD → PART.
 */
export function normPartialWBKernel(p1: Params): Kernel {
  return { key: 'norm:dwdb:partial', wgsl: () => normPartialWBWgsl(p1) };
}

function normPartialWBWgsl(p1: Params): string {
  return `${bindings(['G', 'X', 'MEAN', 'RSTD'], ['PART'])}\n${p1.wgsl(5)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * ${WG}u + lid;
  if (c >= params.c) { return; }
  let m0 = wid.y * params.per;
  let m1 = min(params.rows, m0 + params.per);
  // Walk rows m = o·inner + i of the chunk without dividing per element.
  var o = m0 / params.inner;
  var i = m0 - o * params.inner;
  var sw = 0.0;
  var sb = 0.0;
  for (var m = m0; m < m1; m++) {
    let idx = (o * params.c + c) * params.inner + i;
    let gv = G[idx];
    sw += gv * (X[idx] - MEAN[m]) * RSTD[m];
    sb += gv;
    i++;
    if (i == params.inner) { i = 0u; o++; }
  }
  PART[(wid.y * 2u) * params.c + c] = sw;
  PART[(wid.y * 2u + 1u) * params.c + c] = sb;
}`;
}

/** Second pass: one thread per channel adds the chunks. Bindings PART → DW, DB. */
export function normFinalWBKernel(p2: Params): Kernel {
  return { key: 'norm:dwdb:final', wgsl: () => normFinalWBWgsl(p2) };
}

function normFinalWBWgsl(p2: Params): string {
  return `${bindings(['PART'], ['DW', 'DB'])}\n${p2.wgsl(3)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * ${WG}u + lid;
  if (c >= params.c) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    sw += PART[(k * 2u) * params.c + c];
    sb += PART[(k * 2u + 1u) * params.c + c];
  }
  DW[c] = sw;
  DB[c] = sb;
}`;
}
