/**
 * The gatherRows kernels (index_select on dim 0, run by ops/gather.ts). Forward: one thread per
 * 4 elements of an output row. Backward: a scatter-add written as a gather so it needs no float
 * atomics: one thread per (source row, 4 columns) walks the index list and sums the rows of the
 * output gradient that came from it, so duplicate indices add up. That costs rows × indices ×
 * columns, fine for the short index lists this is used with. Pure generators.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

export const GATHER_WG = 64;
const WG = GATHER_WG;

/** Rows (outer) × columns, with each thread on 4 columns; `n` threads in all. */
function rowKernel(names: [string[], string[]], types: Record<string, string>, body: string, p: Params): string {
  const rowCols = `  let chunks = (params.cols + 3u) / 4u;
  let row = t / chunks;
  let c0 = (t - row * chunks) * 4u;
  let c1 = min(c0 + 4u, params.cols);`;
  return `${bindings(names[0], names[1], types)}\n${p.wgsl(names[0].length + names[1].length)}${linearMain(`${rowCols}\n${body}`, WG, 't')}`;
}

/** Output row i = X[IDX[i]] (32-bit words); out-of-range indices give zeros. `params`: n, cols, nsrc. */
export function gatherRowsKernel(p: Params): Kernel {
  const body = `  let r = IDX[row];
  let valid = r >= 0 && u32(r) < params.nsrc;
  for (var c = c0; c < c1; c++) {
    var v = 0u;
    if (valid) { v = X[u32(r) * params.cols + c]; }
    Y[row * params.cols + c] = v;
  }`;
  return { key: 'gather_rows', wgsl: () => rowKernel([['X', 'IDX'], ['Y']], { X: 'u32', IDX: 'i32', Y: 'u32' }, body, p) };
}

/** DX[s] = Σ over i with IDX[i] == s of G[i]. `params`: n, cols, m. */
export function gatherRowsGradKernel(p: Params): Kernel {
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
  return { key: 'gather_rows_grad', wgsl: () => rowKernel([['G', 'IDX'], ['DX']], { IDX: 'i32' }, body, p) };
}
