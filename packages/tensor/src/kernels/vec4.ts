/**
 * Scaffolding for vectorised contiguous elementwise kernels: storage bound as
 * `array<vec4<f32>>`, each thread handling {@link VEC_ITEMS} consecutive vec4s. On lavapipe the
 * per-invocation cost (index math, bounds checks) dominates simple elementwise kernels: 16 floats
 * per thread run several times faster than one (measured: a 1M-element add 14 ms → 1.8 ms; 2 or 8
 * vec4s per thread, or block-strided vec4s, were 25–100% slower).
 *
 * Tail: bindings cover ceil(n / 4) whole vec4s. Pool buffers are multiples of 16 bytes, so the
 * last partial vec4 lies inside the buffer; its lanes past `n` hold no data and kernels must mask
 * them (`lanes_(i)`): reads ignored, outputs written as 0.
 */
import type { Backend, BufferRange } from '../backend/backend.js';
import { Params, bindings, grid } from './wgsl.js';

/** Threads per workgroup of the vec4 kernels. */
export const VEC_WG = 64;
/** vec4s per thread. */
export const VEC_ITEMS = 4;

/**
 * The ranges widened to ceil(n / 4) vec4s, or null when one cannot be bound that way (offset not
 * 16-byte aligned, buffer too short, binding over maxStorageBufferBindingSize): use the scalar kernel.
 */
export function vec4Ranges(backend: Backend, ranges: readonly BufferRange[], n: number): BufferRange[] | null {
  const size = Math.ceil(n / 4) * 16;
  if (size > backend.maxBinding) return null;
  const out: BufferRange[] = [];
  for (const r of ranges) {
    const offset = r.offset ?? 0;
    // Written negated so that a buffer without a known size falls back too.
    if (offset % 16 !== 0 || !(offset + size <= r.buffer.size)) return null;
    out.push({ ...r, size });
  }
  return out;
}

/** Workgroup counts of a {@link vec4Main} kernel over `n` elements. */
export function vec4Grid(backend: Backend, n: number): [number, number] {
  return grid(Math.ceil(n / 4), VEC_WG * VEC_ITEMS, backend.info.limits.maxComputeWorkgroupsPerDimension);
}

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

/** An entry point (plus `lanes_`) running `body` for every vec4 index `i`; dispatch with {@link vec4Grid}. */
export function vec4Main(body: string): string {
  return `${LANES_WGSL}
@compute @workgroup_size(${VEC_WG})
fn main(${VEC_MAIN_ARGS}) {
${vec4Loop(body)}
}`;
}

/** A vectorised map: `OUT = map_(inputs…)` elementwise, over inputs and output of `n` elements. */
export interface Vec4Map {
  /** Kernel cache key; must determine `fn` and the input count. */
  key: string;
  /**
   * WGSL declaring the scalar function `map_(…) -> f32` (one f32 argument per input, in order)
   * and whatever it calls. It may read the uniform `params`.
   */
  fn: string;
  /** The kernel's uniforms; `n` (the element count) must be among them. */
  params: Params;
  inputs: readonly BufferRange[];
  output: BufferRange;
  n: number;
}

/**
 * Runs a {@link Vec4Map}: loads and stores are vec4, `map_` is applied lane by lane (so any scalar
 * expression works) and lanes past `n` are written as 0. Returns false, running nothing, when the
 * bindings cannot be vectorised (see {@link vec4Ranges}).
 */
export function runVec4Map(backend: Backend, m: Vec4Map): boolean {
  const ranges = vec4Ranges(backend, [...m.inputs, m.output], m.n);
  if (!ranges) return false;
  const names = m.inputs.map((_, k) => `IN${k}`);
  const vec4 = Object.fromEntries([...names, 'OUT'].map((n) => [n, 'vec4<f32>']));
  const loads = names.map((n, k) => `let v${k} = ${n}[i];`).join(' ');
  const lane = (c: string) => `map_(${names.map((_, k) => `v${k}.${c}`).join(', ')})`;
  const wgsl = () => `${bindings(names, ['OUT'], vec4)}
${m.params.wgsl(names.length + 1)}
${m.fn}
${vec4Main(`      ${loads}
      OUT[i] = select(vec4<f32>(0.0), vec4<f32>(${['x', 'y', 'z', 'w'].map(lane).join(', ')}), lanes_(i));`)}`;
  backend.run({
    kernel: { key: m.key, wgsl },
    inputs: ranges.slice(0, -1),
    outputs: ranges.slice(-1),
    params: m.params.bytes(),
    workgroups: vec4Grid(backend, m.n),
  });
  return true;
}
