/**
 * The fused elementwise update kernel of the optimizers and gradient clipping (run by
 * optim/fused-update.ts): `body` runs for every element index `i` of the chunk, reading the
 * input bindings and updating the output bindings in place; as vec4s (`vec`, see vec4.ts) or
 * {@link FUSED_ITEMS} block-strided scalars per thread. Pure generator: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings } from './wgsl.js';
import { vec4Main } from './vec4.js';

/** Threads per workgroup of the update kernels. */
export const WG_UPDATE = 64;
/** Elements per thread (block-strided, so a workgroup's loads stay contiguous). */
export const FUSED_ITEMS = 4;
const ITEMS = FUSED_ITEMS;

export interface FusedUpdateConfig {
  /** Names the update (`body`, binding names); the kernel key is made of it. */
  key: string;
  inputs: string[];
  outputs: string[];
  body: string;
  vec: boolean;
  /** Inputs bound whole (stay f32 in a vec4 kernel). */
  wholeInputs: boolean;
  params: Params;
}

export function fusedUpdateKernel(c: FusedUpdateConfig): Kernel {
  return { key: `optim:${c.key}${c.vec ? ':v4' : ''}`, wgsl: () => fusedUpdateWgsl(c) };
}

function fusedUpdateWgsl({ inputs: inNames, outputs: outNames, body, vec, wholeInputs, params: p }: FusedUpdateConfig): string {
  const types = Object.fromEntries([...(wholeInputs ? [] : inNames), ...outNames].map((name) => [name, vec ? 'vec4<f32>' : 'f32']));
  const main = vec
    ? vec4Main(body)
    : `
@compute @workgroup_size(${WG_UPDATE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = (wid.y * nwg.x + wid.x) * ${WG_UPDATE * ITEMS}u + lid;
  for (var k = 0u; k < ${ITEMS}u; k++) {
    let i = base + k * ${WG_UPDATE}u;
    if (i < params.n) {
${body}
    }
  }
}`;
  return `${bindings(inNames, outNames, types)}\n${p.wgsl(inNames.length + outNames.length)}${main}`;
}
