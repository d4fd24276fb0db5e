/**
 * torch.nn.MultiheadAttention (batch_first, no dropout, no masks) with PyTorch's parameter names:
 * `in_proj_weight` [3d, d] and `in_proj_bias` [3d] pack the q, k and v projections (in that
 * order), `out_proj` is a Linear. Used by the shift block's decoder layers for self-attention over
 * the prompt tokens and cross-attention from the tokens to the image tokens.
 */
import { linear, Linear, Module, reshape, scaledDotProductAttention, slice, split, transpose, type ParamSlot, type Tensor } from '@rpsam2/tensor';

/**
 * torch.nn.MultiheadAttention (batch_first, no dropout, no masks) with PyTorch's parameter names:
 * the q, k and v projections packed in `in_proj_weight`/`in_proj_bias`, then `out_proj`.
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: ParamSlot;
  readonly inProjBias: ParamSlot;
  readonly outProj: Linear;
  readonly headDim: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
  ) {
    super();
    if (!Number.isInteger(embedDim / numHeads) || numHeads < 1) {
      throw new RangeError(`MultiheadAttention: ${numHeads} heads must divide the model width ${embedDim}`);
    }
    this.headDim = embedDim / numHeads;
    this.inProjWeight = this.param('in_proj_weight', [3 * embedDim, embedDim]);
    this.inProjBias = this.param('in_proj_bias', [3 * embedDim]);
    this.outProj = this.child('out_proj', new Linear(embedDim, embedDim));
  }

  /** [b, n, d] → [b, heads, n, d/heads] */
  private heads(x: Tensor): Tensor {
    const [b, n] = x.shape;
    return transpose(reshape(x, [b, n, this.numHeads, this.headDim]), 1, 2);
  }

  /** Rows [from, to) of the packed projection (q = 0, k = 1, v = 2, in units of d). */
  private proj(x: Tensor, from: number, to: number): Tensor {
    const d = this.embedDim;
    const w = this.inProjWeight.get('in_proj_weight');
    const bias = this.inProjBias.get('in_proj_bias');
    if (from === 0 && to === 3) return linear(x, w, bias);
    return linear(x, slice(w, [{ start: from * d, end: to * d }]), slice(bias, [{ start: from * d, end: to * d }]));
  }

  private attend(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const o = scaledDotProductAttention(this.heads(q), this.heads(k), this.heads(v));
    const [b, , n] = o.shape;
    return this.outProj.forward(reshape(transpose(o, 1, 2), [b, n, this.embedDim]));
  }

  /** Self-attention: x [B, L, d] → [B, L, d] (one packed projection for q, k and v). */
  selfAttention(x: Tensor): Tensor {
    this.check(x, 'x');
    const [q, k, v] = split(this.proj(x, 0, 3), this.embedDim, 2);
    return this.attend(q, k, v);
  }

  /**
   * Cross-attention of queries [B, Lq, d] to a memory [Bm, Lk, d] (keys = values = memory).
   * A memory of batch 1 is shared by every query batch: its keys and values are projected once
   * and the B·Lq queries attend to it as one batch (rows of attention are independent, so this
   * is exactly the broadcast result without copying the memory B times).
   */
  crossAttention(x: Tensor, memory: Tensor): Tensor {
    this.check(x, 'queries');
    this.check(memory, 'memory');
    const [b, lq, d] = x.shape;
    const bm = memory.shape[0];
    if (bm !== b && bm !== 1) {
      throw new RangeError(`MultiheadAttention: memory [${memory.shape}] must have batch 1 or the queries' batch ${b} (queries [${x.shape}])`);
    }
    // Separate k and v projections: no split copy of the (large) projected memory.
    const k = this.proj(memory, 1, 2);
    const v = this.proj(memory, 2, 3);
    if (bm === b) return this.attend(this.proj(x, 0, 1), k, v);
    const q = this.proj(reshape(x, [1, b * lq, d]), 0, 1);
    return reshape(this.attend(q, k, v), [b, lq, d]);
  }

  private check(t: Tensor, what: string): void {
    if (t.rank !== 3 || t.shape[2] !== this.embedDim) {
      throw new RangeError(`MultiheadAttention: ${what} [${t.shape}] must be [B, L, ${this.embedDim}]`);
    }
  }
}
