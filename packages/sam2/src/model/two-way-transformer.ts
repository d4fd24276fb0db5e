/**
 * The mask decoder's two-way transformer: tokens attend to the image and the image attends back
 * to the tokens. Post-norm (LayerNorm eps 1e-5); the first layer's token self-attention adds no
 * positional term and no residual; cross-attention runs at half width.
 */
import { add, expand, imageTokens, isGradEnabled, LayerNorm, layerNormPlus, linear, Linear, matmulT, Module, mulScalar, permute, reshape, scaledDotProductAttention, softmax, transpose, type Tensor } from '@rpsam2/tensor';
import { MLP } from '../nn/layers.js';

/** Multi-head attention with separate q/k/v projections, optionally downsampled inside. */
export class Attention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  readonly internalDim: number;
  constructor(
    embeddingDim: number,
    readonly numHeads: number,
    downsampleRate = 1,
  ) {
    super();
    this.internalDim = embeddingDim / downsampleRate;
    if (this.internalDim % numHeads !== 0) throw new Error(`attention: ${numHeads} heads must divide internal dim ${this.internalDim}`);
    this.qProj = this.child('q_proj', new Linear(embeddingDim, this.internalDim));
    this.kProj = this.child('k_proj', new Linear(embeddingDim, this.internalDim));
    this.vProj = this.child('v_proj', new Linear(embeddingDim, this.internalDim));
    this.outProj = this.child('out_proj', new Linear(this.internalDim, embeddingDim));
  }

  private heads(x: Tensor): Tensor {
    const [b, n, c] = x.shape;
    return transpose(reshape(x, [b, n, this.numHeads, c / this.numHeads]), 1, 2);
  }

  /**
   * q [B, Nq, C], k and v [B, Nk, C] → [B, Nq, C], plus `residual` ([B, Nq, C]) when given. With
   * few tokens on one side, the attention is folded into the other side's projections (same
   * result, fewer multiply-adds).
   */
  forward(q: Tensor, k: Tensor, v: Tensor, residual?: Tensor): Tensor {
    // With few tokens on one side (the decoder's cross-attentions: ~8 tokens against 4096 image
    // tokens), the attention is folded into the projections of the long side, which halves its
    // multiply-adds (see the two methods). Same maths, another summation order.
    const [nq, nk] = [q.shape[1], k.shape[1]];
    if (this.numHeads * nk < Math.min(this.internalDim, q.shape[2]) && nq > 4 * nk) return this.fewKeys(q, k, v, residual);
    const out = this.numHeads * nq < Math.min(this.internalDim, k.shape[2]) && nk > 4 * nq ? this.fewQueries(q, k, v) : this.plain(q, k, v);
    return residual ? add(residual, out) : out;
  }

  /** The textbook form: project q, k and v, attend per head, project the output. */
  plain(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const o = scaledDotProductAttention(this.heads(this.qProj.forward(q)), this.heads(this.kProj.forward(k)), this.heads(this.vProj.forward(v)));
    const [b, , n] = o.shape;
    return this.outProj.forward(reshape(transpose(o, 1, 2), [b, n, this.internalDim]));
  }

  /** A weight [H·dh, C] (a projection into the heads) as [H, dh, C]; `fn` gets it and the bias as [H, dh, 1]. */
  private withHeads<T>(proj: Linear, fn: (w: Tensor, bias: Tensor | null) => T): T {
    return proj.weight.withF32((w) => {
      const c = w.shape[1];
      const bias = proj.bias?.get() ?? null;
      const dh = this.internalDim / this.numHeads;
      return fn(reshape(w, [this.numHeads, dh, c]), bias ? reshape(bias, [this.numHeads, dh, 1]) : null);
    });
  }

  /**
   * Many queries, few keys (nk): per head h the scores are x·(Wq_hᵀ k_h) + bq_h·k_h, so the query
   * projection becomes one [C, H·nk] matrix, and the output Σ_h P_h v_h Wo_hᵀ one [H·nk, C]
   * matrix; the long side costs 2·C·H·nk instead of 2·C·internalDim multiply-adds per row. A
   * residual is added by the last product as it stores (an image-sized pass fewer).
   */
  private fewKeys(q: Tensor, k: Tensor, v: Tensor, residual?: Tensor): Tensor {
    const [b, nq, c] = q.shape;
    const nk = k.shape[1];
    const h = this.numHeads;
    const dh = this.internalDim / h;
    const kh = this.heads(this.kProj.forward(k)); // [B, H, nk, dh]
    const vh = this.heads(this.vProj.forward(v));
    // m [B, H, nk, C] = k_h · Wq_h; bias term [B, H, nk, 1] = k_h · bq_h
    const scale = 1 / Math.sqrt(dh);
    const [m, mb] = this.withHeads(this.qProj, (wq, bq) => [matmulT(kh, wq, { alpha: scale }), bq ? matmulT(kh, bq, { alpha: scale }) : null] as const);
    // One sample: a linear layer adds the bias in the product's kernel (a broadcast add over the
    // long side would cost about as much as the product).
    const s =
      b === 1
        ? linear(q, reshape(m, [h * nk, c]), mb ? reshape(mb, [h * nk]) : null) // [1, nq, H·nk]
        : mb
          ? add(matmulT(q, reshape(m, [b, h * nk, c]), { transB: true }), reshape(mb, [b, 1, h * nk]))
          : matmulT(q, reshape(m, [b, h * nk, c]), { transB: true });
    const p = reshape(softmax(reshape(s, [b, nq, h, nk]), -1), [b, nq, h * nk]);
    // n [B, H, nk, C] = v_h · Wo_hᵀ, Wo_h = Wo[:, h·dh : (h+1)·dh]. Each head's probabilities sum
    // to 1, so adding bo/H to every row of n adds bo to the output.
    return this.outProj.weight.withF32((wo) => {
      const woh = permute(reshape(wo, [c, h, dh]), [1, 2, 0]); // [H, dh, C]
      let n = reshape(matmulT(vh, woh), [b, h * nk, c]);
      const bo = this.outProj.bias?.get();
      if (bo) n = add(n, mulScalar(bo, 1 / h));
      return matmulT(p, n, residual ? { add: residual } : {});
    });
  }

  /**
   * Few queries (nq), many keys: per head h the scores are (q_h·Wk_h)·k + q_h·bk_h and the output
   * (Σ_i P_h,i v_i)·Wv_hᵀ + bv_h, so the key and value projections of the long side become two
   * products with [H·nq, C] matrices.
   */
  private fewQueries(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const [b, nq] = q.shape;
    const [, nk, c] = k.shape;
    const h = this.numHeads;
    const dh = this.internalDim / h;
    const qh = this.heads(this.qProj.forward(q)); // [B, H, nq, dh]
    // m [B, H, nq, C] = q_h · Wk_h. The key bias adds q_h·bk_h to a whole row of scores, which
    // the softmax cancels: it is left out, except when it is trained, where adding it keeps its
    // (zero) gradient as the textbook form has one.
    const scale = 1 / Math.sqrt(dh);
    const [m, mb] = this.withHeads(this.kProj, (wk, bk) => [matmulT(qh, wk), bk && isGradEnabled() && bk.requiresGrad ? matmulT(qh, bk) : null] as const);
    let s = matmulT(reshape(m, [b, h * nq, c]), k, { transB: true, alpha: scale }); // [B, H·nq, nk]
    if (mb) s = add(s, mulScalar(reshape(mb, [b, h * nq, 1]), scale));
    const p = softmax(s, -1);
    const r = reshape(matmulT(p, v), [b, h, nq, c]); // Σ_i P v_i, [B, H, nq, C]
    // o_h = r_h · Wv_hᵀ + bv_h  → [B, H, nq, dh]
    const o = this.withHeads(this.vProj, (wv, bv) => {
      const y = matmulT(r, wv, { transB: true });
      return bv ? add(y, reshape(bv, [h, 1, dh])) : y;
    });
    return this.outProj.forward(reshape(transpose(o, 1, 2), [b, nq, this.internalDim]));
  }
}

export class TwoWayAttentionBlock extends Module {
  readonly selfAttn: Attention;
  readonly norm1: LayerNorm;
  readonly crossTokenToImage: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: MLP;
  readonly norm3: LayerNorm;
  readonly norm4: LayerNorm;
  readonly crossImageToToken: Attention;
  constructor(
    dim: number,
    heads: number,
    mlpDim: number,
    readonly skipFirstLayerPe: boolean,
  ) {
    super();
    this.selfAttn = this.child('self_attn', new Attention(dim, heads));
    this.norm1 = this.child('norm1', new LayerNorm(dim));
    this.crossTokenToImage = this.child('cross_attn_token_to_image', new Attention(dim, heads, 2));
    this.norm2 = this.child('norm2', new LayerNorm(dim));
    this.mlp = this.child('mlp', new MLP(dim, mlpDim, dim, 2, 'relu'));
    this.norm3 = this.child('norm3', new LayerNorm(dim));
    this.norm4 = this.child('norm4', new LayerNorm(dim));
    this.crossImageToToken = this.child('cross_attn_image_to_token', new Attention(dim, heads, 2));
  }

  /**
   * One layer: token self-attention, tokens → image cross-attention, MLP on the tokens, image → tokens
   * cross-attention (each post-norm). queries [B, N, C], keys [B, hw, C] and their positional
   * encodings (`keysPe`: keys + keyPe when the caller has it) → (queries, keys, keys + keyPe),
   * same shapes; the last comes from the final norm's pass (see `layerNormPlus`).
   */
  forward(queries: Tensor, keys: Tensor, queryPe: Tensor, keyPe: Tensor, keysPe?: Tensor): [Tensor, Tensor, Tensor] {
    if (this.skipFirstLayerPe) {
      queries = this.selfAttn.forward(queries, queries, queries);
    } else {
      const q = add(queries, queryPe);
      queries = add(queries, this.selfAttn.forward(q, q, queries));
    }
    queries = this.norm1.forward(queries);
    let q = add(queries, queryPe);
    const k = keysPe ?? add(keys, keyPe);
    queries = this.norm2.forward(add(queries, this.crossTokenToImage.forward(q, k, keys)));
    queries = this.norm3.forward(add(queries, this.mlp.forward(queries)));
    // keys are unchanged since k was formed: the image → tokens attention reuses it.
    q = add(queries, queryPe);
    const n4 = this.norm4;
    const [out, outPe] = layerNormPlus(this.crossImageToToken.forward(k, q, queries, keys), n4.weight.get(), n4.bias.get(), keyPe, n4.eps);
    return [queries, out, outPe];
  }
}

export class TwoWayTransformer extends Module {
  readonly layers: TwoWayAttentionBlock[];
  readonly finalAttn: Attention;
  readonly normFinal: LayerNorm;
  constructor(depth: number, dim: number, heads: number, mlpDim: number) {
    super();
    this.layers = this.list(
      'layers',
      Array.from({ length: depth }, (_, i) => new TwoWayAttentionBlock(dim, heads, mlpDim, i === 0)),
    );
    this.finalAttn = this.child('final_attn_token_to_image', new Attention(dim, heads, 2));
    this.normFinal = this.child('norm_final_attn', new LayerNorm(dim));
  }

  /**
   * image [B, C, h, w], imagePe [1 or B, C, h, w], tokens [B, N, C] → (tokens [B, N, C], image
   * tokens [B, hw, C]). `imagePeTokens`: imagePe already as [1, hw, C] (then imagePe is unused).
   * With `dense` ([1 or B, C, 1, 1] or [1 or B, C, h, w]) the image is `image + dense` (SAM's
   * `src`), and `image` may be a batch of 1 for B prompts: the sum is laid out as tokens in the
   * same pass (`imageTokens`).
   */
  forward(image: Tensor, imagePe: Tensor, tokens: Tensor, imagePeTokens?: Tensor, dense?: Tensor): [Tensor, Tensor] {
    const [, c, h, w] = image.shape;
    const b = dense ? tokens.shape[0] : image.shape[0];
    const flat = (t: Tensor) => permute(reshape(t, [t.shape[0], c, h * w]), [0, 2, 1]);
    let keys = dense ? imageTokens(image, dense, b) : flat(image);
    // The positional encoding is expanded per prompt: broadcasting a batch-1 copy in the
    // transformer's adds made the paper-size training step ~13 % slower on lavapipe (2026-12-07).
    const pe1 = imagePeTokens ?? flat(imagePe);
    const keyPe = pe1.shape[0] === b ? pe1 : expand(pe1, [b, h * w, c]);
    let queries = tokens;
    let keysPe: Tensor | undefined;
    for (const layer of this.layers) [queries, keys, keysPe] = layer.forward(queries, keys, tokens, keyPe, keysPe);
    const q = add(queries, tokens);
    const k = keysPe ?? add(keys, keyPe);
    queries = this.normFinal.forward(add(queries, this.finalAttn.forward(q, k, keys)));
    return [queries, keys];
  }
}
