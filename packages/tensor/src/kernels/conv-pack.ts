/**
 * Repacks a conv weight `W [A, B, kH, kW]` (see conv-geometry.ts) so that the channels a thread
 * accumulates together sit next to each other and load as one vec4:
 * - `direct`: [groups][B][kH][kW][aPad] — the direct kernel reduces over (b, ky, kx) and holds a
 *   block of G channels a (within the group) per thread;
 * - `gather`: [groups][kH][kW][aG][bPad] — the gather kernel reduces over (ky, kx, a) and holds a
 *   block of S channels b per thread.
 * The padded tail of the last axis is zero. Weights are small, so one thread per element.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, bindings, linearMain, runLinear } from './wgsl.js';
import type { ConvGeometry } from './conv-geometry.js';

export type PackLayout = 'direct' | 'gather';

/** Returns the packed weight (a new 1-D tensor) with its last axis padded to a multiple of `pad`. */
export function packConvWeight(w: Tensor, g: ConvGeometry, layout: PackLayout, pad: number): Tensor {
  const k = g.kh * g.kw;
  const inner = layout === 'direct' ? g.aG : g.b;
  const innerPad = Math.ceil(inner / pad) * pad;
  const total = layout === 'direct' ? g.groups * g.b * k * innerPad : g.groups * k * g.aG * innerPad;
  const out = Tensor.empty([total]);
  if (total === 0) return out;
  const p = new Params().u32('n', total).u32('inner', inner).u32('inner_pad', innerPad).u32('k', k).u32('b', g.b).u32('a_g', g.aG);
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
  runLinear(
    getBackend(),
    {
      key: `conv_pack:${layout}`,
      wgsl: () => `${bindings(['W'], ['P'])}\n${p.wgsl(2)}
${linearMain(`${body}
  var v = 0.0;
  if (${inside}) { v = W[((grp * params.a_g + ai) * params.b + bi) * params.k + kk]; }
  P[i] = v;`)}`,
    },
    [w.range],
    [out.range],
    p,
    total,
  );
  return out;
}
