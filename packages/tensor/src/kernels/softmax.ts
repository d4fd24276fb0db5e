/**
 * The softmax / log_softmax row kernels (run by ops/softmax.ts): every row of a tensor seen as
 * [outer, n, inner] (`params.rows`, `params.n`, `params.inner`) is reduced and then written by the
 * same thread (or, `wide`, by one workgroup with a tree reduction, for long contiguous rows).
 * Forward: a running (max, Σ exp) pair; backward: softmax dx = y·(g − Σ g·y), log_softmax
 * dx = g − exp(y)·Σ g. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

export type SoftmaxMode = 'softmax' | 'log_softmax';
export type SoftmaxPass = 'fwd' | 'bwd';
type Mode = SoftmaxMode;
type Pass = SoftmaxPass;

export const SOFTMAX_WG = 64;
const WG = SOFTMAX_WG;

/** The row kernel: bindings X → Y (forward) or G, Y → DX (backward). */
export function softmaxKernel(mode: Mode, pass: Pass, wide: boolean, p: Params): Kernel {
  return { key: `${mode}:${pass}:${wide ? 'wg' : 'th'}`, wgsl: () => softmaxWgsl(mode, pass, wide, p) };
}

function softmaxWgsl(mode: Mode, pass: Pass, wide: boolean, p: Params): string {
  const names = pass === 'fwd' ? ['X'] : ['G', 'Y'];
  const outName = pass === 'fwd' ? 'Y' : 'DX';
  return `${bindings(names, [outName])}\n${p.wgsl(names.length + 1)}\n${rowFunctions(mode, pass)}\n${wide ? workgroupPerRowMain() : threadPerRowMain()}`;
}

/**
 * WGSL of the per-row state (a vec2): how one element is folded in (`acc_`), how two partial
 * states combine (`comb_`), what the row's final value is (`fin_`) and how one output is written
 * (`put_`). The forward state is (max, Σ exp(x − max)); the backward state is (Σ, unused).
 */
function rowFunctions(mode: Mode, pass: Pass): string {
  if (pass === 'fwd') {
    const fin = mode === 'softmax' ? 'vec2<f32>(a.x, 1.0 / a.y)' : 'vec2<f32>(a.x + log(a.y), 0.0)';
    const put = mode === 'softmax' ? 'Y[idx] = exp(X[idx] - f.x) * f.y;' : 'Y[idx] = X[idx] - f.x;';
    return `
const INIT_ = vec2<f32>(-3.402823e38, 0.0);
fn acc_(a: vec2<f32>, idx: u32) -> vec2<f32> {
  let v = X[idx];
  // One exp per element: rescale the running sum only when the maximum grows.
  if (v > a.x) { return vec2<f32>(v, a.y * exp(a.x - v) + 1.0); }
  return vec2<f32>(a.x, a.y + exp(v - a.x));
}
fn comb_(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}
fn fin_(a: vec2<f32>) -> vec2<f32> { return ${fin}; }
fn put_(f: vec2<f32>, idx: u32) { ${put} }`;
  }
  const acc = mode === 'softmax' ? 'G[idx] * Y[idx]' : 'G[idx]';
  const put = mode === 'softmax' ? 'DX[idx] = Y[idx] * (G[idx] - f.x);' : 'DX[idx] = G[idx] - exp(Y[idx]) * f.x;';
  return `
const INIT_ = vec2<f32>(0.0, 0.0);
fn acc_(a: vec2<f32>, idx: u32) -> vec2<f32> { return vec2<f32>(a.x + ${acc}, 0.0); }
fn comb_(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return a + b; }
fn fin_(a: vec2<f32>) -> vec2<f32> { return a; }
fn put_(f: vec2<f32>, idx: u32) { ${put} }`;
}

/** One thread per row: rows may be strided (`inner` > 1). */
function threadPerRowMain(): string {
  const body = `  let o = t / params.inner;
  let st = params.inner;
  let base = o * params.n * st + (t - o * st);
  var a = INIT_;
  for (var k = 0u; k < params.n; k++) { a = acc_(a, base + k * st); }
  let f = fin_(a);
  for (var k = 0u; k < params.n; k++) { put_(f, base + k * st); }`;
  return linearMain(body, WG, 't', 'params.rows');
}

/** One workgroup per contiguous row, with a tree reduction of the per-thread states. */
function workgroupPerRowMain(): string {
  return `
var<workgroup> part: array<vec2<f32>, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.y * nwg.x + wid.x;
  let valid = r < params.rows;
  let base = r * params.n;
  var a = INIT_;
  if (valid) {
    for (var k = lid; k < params.n; k += ${WG}u) { a = acc_(a, base + k); }
  }
  part[lid] = a;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = comb_(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  let f = fin_(part[0]);
  if (valid) {
    for (var k = lid; k < params.n; k += ${WG}u) { put_(f, base + k); }
  }
}`;
}
