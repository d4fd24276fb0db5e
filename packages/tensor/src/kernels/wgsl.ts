/**
 * Helpers shared by kernel generators: binding declarations, the linear thread index over a 2-D
 * grid of workgroups (one dimension is capped at 65535 workgroups), and N-d index math. Pure: no
 * tensors, no dispatch (the ops run kernels; see `ops/run.ts`).
 */
import { Params } from './params.js';

/** Threads per workgroup of the simple (one element per thread) kernels. */
export const WG = 64;

/** Workgroup counts for `threads` threads in groups of `wg`, folded into 2-D when needed. */
export function grid(threads: number, wg = WG, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(threads / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/** WGSL for the storage bindings: inputs read-only, outputs read_write, in binding order. */
export function bindings(inputs: readonly string[], outputs: readonly string[], types: Record<string, string> = {}): string {
  const lines: string[] = [];
  let b = 0;
  for (const n of inputs) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<${types[n] ?? 'f32'}>;`);
  for (const n of outputs) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: array<${types[n] ?? 'f32'}>;`);
  return lines.join('\n');
}

/**
 * A compute entry point with a linear index `i` over a folded 2-D grid. `body` runs for every
 * `i < n` (`n` read from `params.n`, which the kernel's Params must define). Kernels whose thread
 * owns something else (a row, a candidate) name the index and the count: `index`, `count`.
 */
export function linearMain(body: string, wg = WG, index = 'i', count = 'params.n'): string {
  return `
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let ${index} = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
  if (${index} >= ${count}) { return; }
${body}
}`;
}

/**
 * WGSL statements that turn the linear output index `linear` into the flat indices `names[k]` of
 * inputs read with broadcast strides `<stridesArrs[k]>_at(d)` over an output of shape
 * `<shapeArr>_at(d)`: the output index is decoded once (one division per dim) for all inputs.
 */
export function broadcastIndices(names: readonly string[], rank: number, shapeArr: string, stridesArrs: readonly string[], linear = 'i'): string {
  if (rank === 0) return names.map((n) => `  let ${n} = 0u;`).join('\n');
  return `${names.map((n) => `  var ${n} = 0u;`).join('\n')}
  {
    var rem = ${linear};
    for (var d = ${rank - 1}i; d >= 0; d--) {
      let dim = ${shapeArr}_at(u32(d));
      let q = rem / dim;
      let x = rem - q * dim;
${names.map((n, k) => `      ${n} += x * ${stridesArrs[k]}_at(u32(d));`).join('\n')}
      rem = q;
    }
  }`;
}

export { Params };
