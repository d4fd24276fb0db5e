/**
 * The reduction kernels (run by ops/reduce.ts): sum or max over the reduced runs of a tensor
 * whose dims were merged into `kr` kept and `rr` reduced runs (`params.kshape`/`kstride`,
 * `rshape`/`rstride`; `params.n` outputs of `params.r` terms each). Small reductions use one
 * thread per output (`long` false); long ones one workgroup per output with a tree reduction in
 * workgroup memory. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

export type ReduceKind = 'sum' | 'max';

/** Threads per workgroup (and outputs per workgroup of the one-thread-per-output kernel). */
export const REDUCE_WG = 64;

export interface ReductionConfig {
  kind: ReduceKind;
  long: boolean;
  /** Kept and reduced runs (the uniform arrays hold capacity for them). */
  kr: number;
  rr: number;
  params: Params;
}

const cap = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** Bindings X → Y. */
export function reductionKernel(c: ReductionConfig): Kernel {
  const { kind, long, kr, rr } = c;
  return { key: `reduce:${kind}:${long ? 'wg' : 'th'}:k${cap(kr)}:r${cap(rr)}:${kr}:${rr}`, wgsl: () => reductionWgsl(c) };
}

function reductionWgsl({ kind, long, kr, rr, params: p }: ReductionConfig): string {
  const init = kind === 'sum' ? '0.0' : '-3.402823e38';
  const combine = (a: string, b: string) => (kind === 'sum' ? `${a} + ${b}` : `max(${a}, ${b})`);
  // Offset of the first element of output `o`, and of reduced element `j` relative to it.
  const base = `fn base_of(o: u32) -> u32 {
  var rem = o; var off = 0u;
  for (var d = ${kr - 1}i; d >= 0; d--) { let s = kshape_at(u32(d)); off += (rem % s) * kstride_at(u32(d)); rem /= s; }
  return off;
}
fn red_off(j: u32) -> u32 {
  ${rr === 1 ? 'return j * rstride_at(0u);' : `var rem = j; var off = 0u;
  for (var d = ${rr - 1}i; d >= 0; d--) { let s = rshape_at(u32(d)); off += (rem % s) * rstride_at(u32(d)); rem /= s; }
  return off;`}
}`;
  if (long) {
    return `${bindings(['X'], ['Y'])}\n${p.wgsl(2)}\n${base}
var<workgroup> acc: array<f32, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.y * nwg.x + wid.x;
  let valid = o < params.n;
  var v = ${init};
  if (valid) {
    let b = base_of(o);
    for (var j = lid; j < params.r; j += ${REDUCE_WG}u) { v = ${combine('v', 'X[b + red_off(j)]')}; }
  }
  acc[lid] = v;
  workgroupBarrier();
  for (var s = ${REDUCE_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { acc[lid] = ${combine('acc[lid]', 'acc[lid + s]')}; }
    workgroupBarrier();
  }
  if (valid && lid == 0u) { Y[o] = acc[0]; }
}`;
  }
  return `${bindings(['X'], ['Y'])}\n${p.wgsl(2)}\n${base}${linearMain(
    `  let b = base_of(o);
  var v = ${init};
  for (var j = 0u; j < params.r; j++) { v = ${combine('v', 'X[b + red_off(j)]')}; }
  Y[o] = v;`,
    REDUCE_WG,
    'o',
  )}`;
}
