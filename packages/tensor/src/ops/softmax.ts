/**
 * softmax and log_softmax over one axis, numerically stable (the row maximum is subtracted).
 *
 * The tensor is seen as [outer, n, inner] with the axis in the middle. Every row (one (outer,
 * inner) position) is reduced and then written by the same thread in one kernel: the forward
 * keeps a running (max, sum of exp) pair, so the row is read twice and written once. When the axis
 * is not the last one, neighbouring threads own neighbouring `inner` positions, so their loads are
 * contiguous. Long rows on the last axis get a workgroup each with a tree reduction instead.
 *
 * Backward: softmax dx = y·(g − Σ g·y); log_softmax dx = g − exp(y)·Σ g — again one reduction
 * and one write per row, in one kernel.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { normAxis } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, bindings, grid } from '../kernels/wgsl.js';

type Mode = 'softmax' | 'log_softmax';
type Pass = 'fwd' | 'bwd';

const WG = 64;
/** Rows on the last axis at least this long get a workgroup each instead of one thread. */
const LONG_ROW = 256;

interface RowLayout {
  outer: number;
  n: number;
  inner: number;
}

function rowLayout(shape: readonly number[], axis: number): RowLayout {
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return { outer: prod(shape.slice(0, axis)), n: shape.length ? shape[axis] : 1, inner: prod(shape.slice(axis + 1)) };
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

function rowParams(l: RowLayout): Params {
  return new Params().u32('rows', l.outer * l.inner).u32('n', l.n).u32('inner', l.inner);
}

/** One thread per row: rows may be strided (`inner` > 1). */
function threadPerRowMain(): string {
  return `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (t >= params.rows) { return; }
  let o = t / params.inner;
  let st = params.inner;
  let base = o * params.n * st + (t - o * st);
  var a = INIT_;
  for (var k = 0u; k < params.n; k++) { a = acc_(a, base + k * st); }
  let f = fin_(a);
  for (var k = 0u; k < params.n; k++) { put_(f, base + k * st); }
}`;
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

/** Runs the forward (inputs [x]) or backward (inputs [g, y]) row kernel. */
function rowKernel(mode: Mode, pass: Pass, inputs: Tensor[], l: RowLayout): Tensor {
  const out = Tensor.empty(inputs[0].shape);
  const rows = l.outer * l.inner;
  if (out.size === 0) return out;
  const wide = l.inner === 1 && l.n >= LONG_ROW;
  const names = pass === 'fwd' ? ['X'] : ['G', 'Y'];
  const outName = pass === 'fwd' ? 'Y' : 'DX';
  const p = rowParams(l);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  backend.run({
    kernel: {
      key: `${mode}:${pass}:${wide ? 'wg' : 'th'}`,
      wgsl: () =>
        `${bindings(names, [outName])}\n${p.wgsl(names.length + 1)}\n${rowFunctions(mode, pass)}\n${wide ? workgroupPerRowMain() : threadPerRowMain()}`,
    },
    inputs: inputs.map((t) => t.range),
    outputs: [out.range],
    params: p.bytes(),
    workgroups: wide ? grid(rows, 1, maxWg) : grid(rows, WG, maxWg),
  });
  return out;
}

function softmaxOp(mode: Mode, x: Tensor, axis: number): Tensor {
  assertTensor(x, mode, 'x');
  assertDType(x, ['f32'], mode, 'x');
  const ax = normAxis(axis, x.rank, mode);
  const l = rowLayout(x.shape, ax);
  const y = rowKernel(mode, 'fwd', [x], l);
  return record(mode, [x], y, (g, [sy]) => [rowKernel(mode, 'bwd', [g, sy], l)], [y]);
}

/** softmax(x) along `axis` (default the last): exp(x − max) / Σ exp(x − max). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('softmax', x, axis);
}

/** log(softmax(x)) along `axis` (default the last), computed as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('log_softmax', x, axis);
}
