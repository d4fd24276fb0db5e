/**
 * gatherRows (index_select on dim 0). Forward: one thread per 4 elements of an output row.
 * Backward: a scatter-add written as a gather so it needs no float atomics: one thread per
 * (source row, 4 columns) walks the index list and sums the rows of the output gradient that
 * came from it, so duplicate indices add up. That costs rows × indices × columns, fine for the
 * short index lists this is used with.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params, bindings, grid } from '../kernels/wgsl.js';
import { assertBindable, assertWordTensor } from '../kernels/indexing.js';

const WG = 64;

/** Rows (outer) × columns, with each thread on 4 columns; `n` threads in all. */
function rowKernel(names: [string[], string[]], types: Record<string, string>, body: string, p: Params): string {
  return `${bindings(names[0], names[1], types)}\n${p.wgsl(names[0].length + names[1].length)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (t >= params.n) { return; }
  let chunks = (params.cols + 3u) / 4u;
  let row = t / chunks;
  let c0 = (t - row * chunks) * 4u;
  let c1 = min(c0 + 4u, params.cols);
${body}
}`;
}

function run(key: string, wgsl: () => string, inputs: Tensor[], out: Tensor, p: Params, n: number): void {
  const backend = getBackend();
  backend.run({
    kernel: { key, wgsl },
    inputs: inputs.map((t) => t.range),
    outputs: [out.range],
    params: p.bytes(),
    workgroups: grid(n, WG, backend.info.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Output row i = x[indices[i]]; out-of-range indices give a row of zeros. */
function gatherKernel(x: Tensor, indices: Tensor, outShape: number[], cols: number): Tensor {
  const out = Tensor.empty(outShape, x.dtype);
  if (out.size === 0) return out;
  const rows = indices.size;
  const n = rows * Math.ceil(cols / 4);
  const p = new Params().u32('n', n).u32('cols', cols).u32('nsrc', x.shape[0]);
  const body = `  let r = IDX[row];
  let valid = r >= 0 && u32(r) < params.nsrc;
  for (var c = c0; c < c1; c++) {
    var v = 0u;
    if (valid) { v = X[u32(r) * params.cols + c]; }
    Y[row * params.cols + c] = v;
  }`;
  const wgsl = () => rowKernel([['X', 'IDX'], ['Y']], { X: 'u32', IDX: 'i32', Y: 'u32' }, body, p);
  run('gather_rows', wgsl, [x, indices], out, p, n);
  return out;
}

/** dx[s] = Σ over i with indices[i] == s of g[i]. */
function scatterAddKernel(g: Tensor, indices: Tensor, shape: readonly number[], cols: number): Tensor {
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const n = shape[0] * Math.ceil(cols / 4);
  const p = new Params().u32('n', n).u32('cols', cols).u32('m', indices.size);
  const body = `  var acc = vec4<f32>(0.0);
  let w = c1 - c0;
  for (var i = 0u; i < params.m; i++) {
    if (IDX[i] != i32(row)) { continue; }
    let b = i * params.cols + c0;
    acc.x += G[b];
    if (w > 1u) { acc.y += G[b + 1u]; }
    if (w > 2u) { acc.z += G[b + 2u]; }
    if (w > 3u) { acc.w += G[b + 3u]; }
  }
  for (var c = c0; c < c1; c++) { DX[row * params.cols + c] = acc[c - c0]; }`;
  const wgsl = () => rowKernel([['G', 'IDX'], ['DX']], { IDX: 'i32' }, body, p);
  run('gather_rows_grad', wgsl, [g, indices], out, p, n);
  return out;
}

/**
 * Rows of `x` (dim 0) at `indices` (a 1-D i32 tensor): the result has shape
 * `[indices.size, ...x.shape.slice(1)]`, like `torch.index_select(x, 0, indices)`. Indices are
 * not checked on the CPU (they live on the GPU); an index outside `[0, x.shape[0])` gives a row
 * of zeros. The gradient adds up over duplicate indices.
 */
export function gatherRows(x: Tensor, indices: Tensor): Tensor {
  assertWordTensor(x, 'gatherRows', 'x');
  assertTensor(indices, 'gatherRows', 'indices');
  assertDType(indices, ['i32'], 'gatherRows', 'indices');
  if (x.rank === 0) throw new RangeError(`gatherRows: x (${x.describe()}) must have at least one dim`);
  if (indices.rank !== 1) throw new RangeError(`gatherRows: indices (${indices.describe()}) must be 1-D, got shape ${fmtShape(indices.shape)}`);
  assertBindable(x, 'gatherRows', 'x');
  const cols = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const y = gatherKernel(x, indices, [indices.size, ...x.shape.slice(1)], cols);
  return record('gatherRows', [x, indices], y, (g, [idx]) => [scatterAddKernel(g, idx, x.shape, cols), null], [indices]);
}
