/**
 * Scaffolding for vectorised contiguous elementwise kernels: storage bound as
 * `array<vec4<f32>>`, each thread handling {@link VEC_ITEMS} consecutive vec4s. On lavapipe the
 * per-invocation cost (index math, bounds checks) dominates simple elementwise kernels: 16 floats
 * per thread run several times faster than one (measured: a 1M-element add 14 ms → 1.8 ms; 2 or 8
 * vec4s per thread, or block-strided vec4s, were 25–100% slower).
 *
 * Tail: bindings cover ceil(n / 4) whole vec4s. Pool buffers are multiples of 16 bytes, so the
 * last partial vec4 lies inside the buffer; its lanes past `n` hold no data and kernels must mask
 * them (`lanes_(i)`): reads ignored, outputs written as 0. Binding and dispatch (`vec4Ranges`,
 * `vec4Grid`, `runVec4Map`) are in ops/run.ts.
 */
import { Params, bindings } from './wgsl.js';

/** Threads per workgroup of the vec4 kernels. */
export const VEC_WG = 64;
/** vec4s per thread. */
export const VEC_ITEMS = 4;

/** WGSL helper `lanes_(i)`: which lanes of vec4 `i` are elements (< `params.n`). */
export const LANES_WGSL = `
fn lanes_(i: u32) -> vec4<bool> {
  return vec4<u32>(i * 4u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.n);
}`;

/**
 * WGSL statements running `body` for every vec4 index `i` < ceil(params.n / 4) that this thread
 * owns; they read the builtins `wid`, `nwg` and `lid` (as declared by {@link vec4Main}).
 */
export function vec4Loop(body: string, wg = VEC_WG, items = VEC_ITEMS): string {
  return `  let n4 = (params.n + 3u) / 4u;
  let base = ((wid.y * nwg.x + wid.x) * ${wg}u + lid) * ${items}u;
  for (var k = 0u; k < ${items}u; k++) {
    let i = base + k;
    if (i < n4) {
${body}
    }
  }`;
}

/** The builtin parameters of an entry point that uses {@link vec4Loop}. */
export const VEC_MAIN_ARGS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>`;

/** An entry point (plus `lanes_`) running `body` for every vec4 index `i`; dispatch with `vec4Grid` (ops/run.ts). */
export function vec4Main(body: string): string {
  return `${LANES_WGSL}
@compute @workgroup_size(${VEC_WG})
fn main(${VEC_MAIN_ARGS}) {
${vec4Loop(body)}
}`;
}

/**
 * A vectorised map over `inputs` inputs: `OUT = map_(inputs…)` elementwise, loads and stores as
 * vec4, `map_` applied lane by lane (so any scalar expression works), lanes past `params.n`
 * written as 0. `fn` declares the scalar `map_(…) -> f32` (one f32 argument per input) and what
 * it calls; it may read the uniform `params`, declared by `params` (which must define `n`).
 */
export function vec4MapWgsl(inputs: number, fn: string, params: Params): string {
  const names = Array.from({ length: inputs }, (_, k) => `IN${k}`);
  const vec4 = Object.fromEntries([...names, 'OUT'].map((n) => [n, 'vec4<f32>']));
  const loads = names.map((n, k) => `let v${k} = ${n}[i];`).join(' ');
  const lane = (c: string) => `map_(${names.map((_, k) => `v${k}.${c}`).join(', ')})`;
  return `${bindings(names, ['OUT'], vec4)}
${params.wgsl(names.length + 1)}
${fn}
${vec4Main(`      ${loads}
      OUT[i] = select(vec4<f32>(0.0), vec4<f32>(${['x', 'y', 'z', 'w'].map(lane).join(', ')}), lanes_(i));`)}`;
}
