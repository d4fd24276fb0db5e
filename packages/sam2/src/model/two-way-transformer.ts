/**
 * The mask decoder's two-way transformer: tokens attend to the image and the image attends back
 * to the tokens. Post-norm (LayerNorm eps 1e-5); the first layer's token self-attention adds no
 * positional term and no residual; cross-attention runs at half width.
 */
import { add, permute, reshape, scaledDotProductAttention, transpose, type Tensor } from '@rpsam2/tensor';
import { Module } from '../nn/module.js';
import { LayerNorm, Linear, MLP } from '../nn/layers.js';

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

  forward(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const o = scaledDotProductAttention(this.heads(this.qProj.forward(q)), this.heads(this.kProj.forward(k)), this.heads(this.vProj.forward(v)));
    const [b, , n] = o.shape;
    return this.outProj.forward(reshape(transpose(o, 1, 2), [b, n, this.internalDim]));
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

  forward(queries: Tensor, keys: Tensor, queryPe: Tensor, keyPe: Tensor): [Tensor, Tensor] {
    if (this.skipFirstLayerPe) {
      queries = this.selfAttn.forward(queries, queries, queries);
    } else {
      const q = add(queries, queryPe);
      queries = add(queries, this.selfAttn.forward(q, q, queries));
    }
    queries = this.norm1.forward(queries);
    let q = add(queries, queryPe);
    let k = add(keys, keyPe);
    queries = this.norm2.forward(add(queries, this.crossTokenToImage.forward(q, k, keys)));
    queries = this.norm3.forward(add(queries, this.mlp.forward(queries)));
    q = add(queries, queryPe);
    k = add(keys, keyPe);
    keys = this.norm4.forward(add(keys, this.crossImageToToken.forward(k, q, queries)));
    return [queries, keys];
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

  /** image [B, C, h, w], imagePe [B, C, h, w], tokens [B, N, C] → (tokens [B, N, C], image tokens [B, hw, C]). */
  forward(image: Tensor, imagePe: Tensor, tokens: Tensor): [Tensor, Tensor] {
    const [b, c, h, w] = image.shape;
    const flat = (t: Tensor) => permute(reshape(t, [b, c, h * w]), [0, 2, 1]);
    let keys = flat(image);
    const keyPe = flat(imagePe);
    let queries = tokens;
    for (const layer of this.layers) [queries, keys] = layer.forward(queries, keys, tokens, keyPe);
    const q = add(queries, tokens);
    const k = add(keys, keyPe);
    queries = this.normFinal.forward(add(queries, this.finalAttn.forward(q, k, keys)));
    return [queries, keys];
  }
}
