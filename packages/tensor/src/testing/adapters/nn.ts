/** Op-vector adapters: nn ops (softmax, log_softmax, layer norms, attention). */
import { softmax, logSoftmax, layerNorm, layerNorm2d, scaledDotProductAttention, mulScalar, reshape } from '../../ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OpAdapter } from './types.js';

/** The vectors scale the input by `prescale` before the softmax (to get peaked distributions). */
const prescaled = (x: Tensor, a: Record<string, any>) => (a.prescale === undefined ? x : mulScalar(x, Number(a.prescale)));

/** layer_norm over `normalized_shape` (trailing dims), flattened into one dim for the library call. */
const layerNormAdapter: OpAdapter = ([x, w, b], a) => {
  const ns: number[] = a.normalized_shape ?? [x.shape[x.rank - 1]];
  const n = ns.reduce((p, d) => p * d, 1);
  if (!ns.every((d, i) => x.shape[x.rank - ns.length + i] === d)) {
    throw new Error(`layer_norm: normalized_shape [${ns}] does not match the trailing dims of input [${x.shape}]`);
  }
  const eps = Number(a.eps ?? 1e-5);
  if (ns.length === 1) return layerNorm(x, w ?? null, b ?? null, eps);
  const flat = (t: Tensor | undefined) => (t ? reshape(t, [n]) : null);
  const y = layerNorm(reshape(x, [...x.shape.slice(0, x.rank - ns.length), n]), flat(w), flat(b), eps);
  return reshape(y, x.shape);
};

/** The vectors' scale is the string "1/sqrt(d)" (the default) or a number. */
function attentionScale(spec: unknown): number | undefined {
  if (spec === undefined || spec === null || spec === '1/sqrt(d)') return undefined;
  const s = Number(spec);
  if (!Number.isFinite(s)) throw new Error(`scaled_dot_product_attention: unsupported scale ${JSON.stringify(spec)}`);
  return s;
}

export const nnAdapters: Record<string, OpAdapter> = {
  softmax: ([x], a) => softmax(prescaled(x, a), Number(a.dim ?? -1)),
  log_softmax: ([x], a) => logSoftmax(prescaled(x, a), Number(a.dim ?? -1)),
  layer_norm: layerNormAdapter,
  layer_norm_2d: ([x, w, b], a) => layerNorm2d(x, w ?? null, b ?? null, Number(a.eps ?? 1e-6)),
  scaled_dot_product_attention: ([q, k, v], a) => {
    if (a.attn_mask !== undefined || a.is_causal) throw new Error('scaled_dot_product_attention: masks are not supported');
    return scaledDotProductAttention(q, k, v, { scale: attentionScale(a.scale) });
  },
};
