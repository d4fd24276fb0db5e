/**
 * The weight-packing kernel (run by ops/conv-pack.ts): repacks a conv weight `W [A, B, kH, kW]`
 * (see conv-geometry.ts) so that the channels a thread accumulates together sit next to each
 * other and load as one vec4:
 * - `direct`: [groups][B][kH][kW][aPad] — the direct kernel reduces over (b, ky, kx) and holds a
 *   block of G channels a (within the group) per thread;
 * - `gather`: [groups][kH][kW][aG][bPad] — the gather kernel reduces over (ky, kx, a) and holds a
 *   block of S channels b per thread.
 * The padded tail of the last axis is zero. One thread per element; `params` holds n, inner,
 * inner_pad, k, b, a_g.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';
import { WEIGHT_INDEX_WGSL } from './conv-geometry.js';

export type PackLayout = 'direct' | 'gather';

export function convPackKernel(layout: PackLayout, p: Params): Kernel {
  // Source index of W [A, B, k] from (group, ai, bi, kk).
  const body =
    layout === 'direct'
      ? `  let ai = i % params.inner_pad; var r = i / params.inner_pad;
  let kk = r % params.k; r = r / params.k;
  let bi = r % params.b; let grp = r / params.b;`
      : `  let bi = i % params.inner_pad; var r = i / params.inner_pad;
  let ai = r % params.a_g; r = r / params.a_g;
  let kk = r % params.k; let grp = r / params.k;`;
  const inside = layout === 'direct' ? 'ai < params.a_g' : 'bi < params.b';
  return {
    key: `conv_pack:${layout}`,
    wgsl: () => `${bindings(['W'], ['P'])}\n${p.wgsl(2)}${WEIGHT_INDEX_WGSL}
${linearMain(`${body}
  var v = 0.0;
  if (${inside}) { v = W[w_index(grp, ai, bi, kk)]; }
  P[i] = v;`)}`,
  };
}
