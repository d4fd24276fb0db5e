/**
 * torch.nn.TransformerDecoderLayer with batch_first, post-norm (norm_first false), ReLU, dropout
 * 0 and no masks — the shift block's layer:
 *
 *   x = norm1(x + self_attn(x, x, x))
 *   x = norm2(x + multihead_attn(x, mem, mem))
 *   x = norm3(x + linear2(relu(linear1(x))))
 *
 * Parameter names as PyTorch's state dict (`self_attn.in_proj_weight`, `linear1.weight`, …).
 */
import { add, LayerNorm, Linear, Module, relu, type Tensor } from '@rpsam2/tensor';
import { MultiheadAttention } from './multihead-attention.js';

/**
 * One decoder layer of the shift block, as torch.nn.TransformerDecoderLayer (batch_first, post-norm,
 * ReLU, no dropout, no masks): self-attention, cross-attention to the image tokens, feed-forward.
 */
export class TransformerDecoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;

  constructor(
    readonly dModel: number,
    readonly heads: number,
    readonly ffn: number,
    eps = 1e-5,
  ) {
    super();
    this.selfAttn = this.child('self_attn', new MultiheadAttention(dModel, heads));
    this.multiheadAttn = this.child('multihead_attn', new MultiheadAttention(dModel, heads));
    this.linear1 = this.child('linear1', new Linear(dModel, ffn));
    this.linear2 = this.child('linear2', new Linear(ffn, dModel));
    this.norm1 = this.child('norm1', new LayerNorm(dModel, eps));
    this.norm2 = this.child('norm2', new LayerNorm(dModel, eps));
    this.norm3 = this.child('norm3', new LayerNorm(dModel, eps));
  }

  /** x [B, L, d], memory [B or 1, M, d] → [B, L, d]. */
  forward(x: Tensor, memory: Tensor): Tensor {
    let h = this.norm1.forward(add(x, this.selfAttn.selfAttention(x)));
    h = this.norm2.forward(add(h, this.multiheadAttn.crossAttention(h, memory)));
    return this.norm3.forward(add(h, this.linear2.forward(relu(this.linear1.forward(h)))));
  }
}
