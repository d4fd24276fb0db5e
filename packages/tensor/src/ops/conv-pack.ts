/**
 * Repacks a conv weight for the direct or gather kernels (layouts: kernels/conv-pack.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import type { ConvGeometry } from '../kernels/conv-geometry.js';
import { convPackKernel, type PackLayout } from '../kernels/conv-pack.js';
import { runLinear } from './run.js';

export type { PackLayout } from '../kernels/conv-pack.js';

/** Returns the packed weight (a new 1-D tensor) with its last axis padded to a multiple of `pad`. */
export function packConvWeight(w: Tensor, g: ConvGeometry, layout: PackLayout, pad: number): Tensor {
  const k = g.kh * g.kw;
  const inner = layout === 'direct' ? g.aG : g.b;
  const innerPad = Math.ceil(inner / pad) * pad;
  const total = layout === 'direct' ? g.groups * g.b * k * innerPad : g.groups * k * g.aG * innerPad;
  const out = Tensor.empty([total]);
  if (total === 0) return out;
  const p = new Params().u32('n', total).u32('inner', inner).u32('inner_pad', innerPad).u32('k', k).u32('b', g.b).u32('a_g', g.aG);
  runLinear(getBackend(), convPackKernel(layout, p), [w.range], [out.range], p, total);
  return out;
}
