/** Op-vector adapters: softmax family, layer norms, fused attention. */
import { affine, layerNorm, layerNorm2d, logSoftmax, scaledDotProductAttention, softmax } from '../../ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OpAdapter } from './types.js';

/** The vectors scale the input by `prescale` before the softmax (to get peaked distributions). */
const prescaled = (x: Tensor, a: Record<string, any>): Tensor => (a.prescale === undefined ? x : affine(x, Number(a.prescale), 0));

export const nnAdapters: Record<string, OpAdapter> = {
  softmax: ([x], a) => softmax(prescaled(x, a), a.dim ?? -1),
  log_softmax: ([x], a) => logSoftmax(prescaled(x, a), a.dim ?? -1),
  layer_norm: ([x, w, b], a) => {
    const ns: number[] = a.normalized_shape ?? [x.shape[x.rank - 1]];
    if (ns.length !== 1) throw new Error(`layer_norm: only a last-dim normalized_shape is supported, got [${ns}]`);
    return layerNorm(x, w ?? null, b ?? null, a.eps ?? 1e-5);
  },
  layer_norm_2d: ([x, w, b], a) => layerNorm2d(x, w ?? null, b ?? null, a.eps ?? 1e-6),
  scaled_dot_product_attention: ([q, k, v], a) => {
    const s = a.scale;
    const scale = typeof s === 'number' ? s : undefined; // "1/sqrt(d)" is the default
    return scaledDotProductAttention(q, k, v, scale === undefined ? {} : { scale });
  },
};
