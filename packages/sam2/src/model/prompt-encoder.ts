/**
 * The prompt encoder: clicks and box corners → sparse tokens (Fourier features + a learned
 * embedding per label), an optional mask → dense embedding (or the learned no-mask embedding),
 * and the dense positional encoding of the embedding grid.
 *
 * Coordinate convention (as the official code): points are in model-frame pixels (0…S); +0.5 to
 * the pixel centre, then /S. Label −1 is the padding point (its Fourier part is zeroed and
 * `not_a_point_embed` used), 0/1 negative/positive clicks, 2/3 box corners.
 */
import { add, affine, cat, expand, gelu, matmul, Module, mul, reshape, tensor, type ParamSlot, type Tensor } from '@rpsam2/tensor';
import { Conv2d, Embedding, LayerNorm2d } from '../nn/layers.js';
import { denseFourierEncoding, fourierEncode } from './position-encoding.js';

export class PromptEncoder extends Module {
  readonly gaussian: ParamSlot;
  readonly pointEmbeddings: Embedding[];
  readonly notAPointEmbed: Embedding;
  readonly noMaskEmbed: Embedding;
  readonly maskConv0: Conv2d;
  readonly maskNorm1: LayerNorm2d;
  readonly maskConv3: Conv2d;
  readonly maskNorm4: LayerNorm2d;
  readonly maskConv6: Conv2d;
  private densePe: Tensor | null = null;
  /** `densePe` in the image tokens' layout [1, g·g, C] (the two-way transformer's key PE). */
  private densePeTokens: Tensor | null = null;
  /** The Gaussian matrix `densePe` was built from (loading weights puts a new tensor in the slot). */
  private densePeFrom: Tensor | null = null;

  constructor(
    readonly embedDim: number,
    /** Side of the image embedding grid (S/16). */
    readonly gridSize: number,
    /** Model input size S. */
    readonly imageSize: number,
    readonly maskInChans = 16,
  ) {
    super();
    this.gaussian = this.param('pe_layer.positional_encoding_gaussian_matrix', [2, embedDim / 2]);
    this.pointEmbeddings = this.list(
      'point_embeddings',
      [0, 1, 2, 3].map(() => new Embedding(1, embedDim)),
    );
    this.notAPointEmbed = this.child('not_a_point_embed', new Embedding(1, embedDim));
    const q = maskInChans / 4;
    this.maskConv0 = this.child('mask_downscaling.0', new Conv2d(1, q, 2, { stride: 2 }));
    this.maskNorm1 = this.child('mask_downscaling.1', new LayerNorm2d(q));
    this.maskConv3 = this.child('mask_downscaling.3', new Conv2d(q, maskInChans, 2, { stride: 2 }));
    this.maskNorm4 = this.child('mask_downscaling.4', new LayerNorm2d(maskInChans));
    this.maskConv6 = this.child('mask_downscaling.6', new Conv2d(maskInChans, embedDim, 1));
    this.noMaskEmbed = this.child('no_mask_embed', new Embedding(1, embedDim));
  }

  /** Mask input size (4× the embedding grid). */
  get maskInputSize(): number {
    return this.gridSize * 4;
  }

  /**
   * Sparse embeddings of points [B, N, 2] (model-frame pixels) with labels (B×N numbers, −1…3),
   * → [B, N, C]. Differentiable w.r.t. the points.
   */
  embedPoints(points: Tensor, labels: number[][]): Tensor {
    const [b, n] = points.shape;
    if (labels.length !== b || labels.some((l) => l.length !== n)) {
      throw new Error(`prompt encoder: labels must be ${b}×${n} to match points [${points.shape}]`);
    }
    const c = this.embedDim;
    const coords = affine(points, 1 / this.imageSize, 0.5 / this.imageSize);
    const pe = fourierEncode(coords, this.gaussian.get());
    // keep[b, n] = 0 for padding points; offsets[b, n, :] = the label's learned embedding.
    // keep[b, n] = 0 for padding points; the label's learned embedding is a one-hot row pick
    // from the table [not_a_point, point_0..3] (a matmul, so training reaches the embeddings).
    const flat = labels.flat();
    const keep = tensor(flat.map((l) => (l === -1 ? 0 : 1)), [b, n, 1]);
    const oneHot = new Float32Array(b * n * 5);
    flat.forEach((l, i) => {
      if (!Number.isInteger(l) || l < -1 || l > 3) throw new Error(`prompt encoder: point label ${l} is not one of -1, 0, 1, 2, 3`);
      oneHot[i * 5 + l + 1] = 1;
    });
    const table = cat([this.notAPointEmbed, ...this.pointEmbeddings].map((e) => e.weight.get()), 0);
    const offsets = reshape(matmul(tensor(oneHot, [b * n, 5]), table), [b, n, c]);
    return add(mul(pe, keep), offsets);
  }

  /** Builds the dense positional encoding (once after load; the Gaussian matrix is a fixed buffer). */
  async prepare(): Promise<void> {
    const gaussian = this.gaussian.get();
    // Swap only after the await: predictors sharing the model keep decoding meanwhile (setImage
    // calls this), and must never see a disposed encoding.
    const { grid: pe, tokens } = denseFourierEncoding(await gaussian.data(), this.embedDim / 2, this.gridSize, this.gridSize);
    this.densePe?.dispose();
    this.densePeTokens?.dispose();
    this.densePe = pe;
    this.densePeTokens = tokens;
    this.densePeFrom = gaussian;
  }

  /**
   * {@link prepare}, unless the dense encoding is already built from the Gaussian matrix now in
   * the slot: saves a GPU read-back per `setImage`. Every weight load puts a new tensor in the
   * slot, so reloaded weights are picked up; code that writes the matrix in place calls `prepare()`.
   */
  async ensurePrepared(): Promise<void> {
    if (this.densePe && this.densePeFrom === this.gaussian.value) return;
    await this.prepare();
  }

  /** The dense positional encoding [1, C, g, g]. */
  denseEncoding(): Tensor {
    if (!this.densePe) throw new Error('prompt encoder: call prepare() after loading weights');
    return this.densePe;
  }

  /**
   * {@link denseEncoding} as image tokens [1, g·g, C] (built with it): the mask decoder's key
   * positional encoding, without a permute per decode.
   */
  denseEncodingTokens(): Tensor {
    if (!this.densePeTokens) throw new Error('prompt encoder: call prepare() after loading weights');
    return this.densePeTokens;
  }

  /** Dense embedding of mask logits [B, 1, 4g, 4g] → [B, C, g, g]. */
  embedMask(mask: Tensor): Tensor {
    const s = this.maskInputSize;
    if (mask.rank !== 4 || mask.shape[1] !== 1 || mask.shape[2] !== s || mask.shape[3] !== s) {
      throw new Error(`prompt encoder: mask input must be [B, 1, ${s}, ${s}], got [${mask.shape}]`);
    }
    let h = gelu(this.maskNorm1.forward(this.maskConv0.forward(mask)));
    h = gelu(this.maskNorm4.forward(this.maskConv3.forward(h)));
    return this.maskConv6.forward(h);
  }

  /** The no-mask dense embedding broadcast to [B, C, g, g]. */
  noMaskDense(batch: number): Tensor {
    const g = this.gridSize;
    return expand(this.noMaskEmbedding(), [batch, this.embedDim, g, g]);
  }

  /**
   * The no-mask dense embedding as [1, C, 1, 1] (a view of the weight), for ops that broadcast it
   * over the grid: the mask decoder's add takes it as it is, saving a copy of the full grid.
   */
  noMaskEmbedding(): Tensor {
    return reshape(this.noMaskEmbed.weight.get(), [1, this.embedDim, 1, 1]);
  }

  override dispose(): void {
    super.dispose();
    this.densePe?.dispose();
    this.densePeTokens?.dispose();
    this.densePe = null;
    this.densePeTokens = null;
    this.densePeFrom = null;
  }
}

