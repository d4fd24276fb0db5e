/**
 * HQ-SAM2's mask decoder (`MaskDecoderHQ` of SysCV/sam-hq, folder `sam-hq2/`): SAM 2's decoder
 * plus one more output token, the HQ token (`hf_token`). It runs through the two-way transformer
 * after the four mask tokens; its own hypernetwork MLP (`hf_mlp`) weighs a refined copy of the
 * upscaled embedding (`embedding_maskfeature`: conv 3×3 → LayerNorm2d → GELU → conv 3×3). The
 * returned mask is the HQ mask plus SAM 2's selected mask(s), or the HQ mask alone
 * (`hqTokenOnly`); the IoU predictions stay SAM 2's.
 */
import { add, gelu, matmul, reshape, slice, type Tensor } from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Conv2d, Embedding, LayerNorm2d, MLP } from '../nn/layers.js';
import { MaskDecoder, type DecoderOutput, type SelectOptions } from './mask-decoder.js';

/**
 * HQ-SAM2's mask decoder, with the official state-dict names (`hf_token`, `hf_mlp`,
 * `embedding_maskfeature.{0,1,3}` beside SAM 2's). `predictMasks` returns five masks per
 * prompt: SAM 2's four, then the HQ mask (token 4).
 */
export class MaskDecoderHQ extends MaskDecoder {
  readonly hfToken: Embedding;
  readonly hfMlp: MLP;
  readonly maskFeatureConv0: Conv2d;
  readonly maskFeatureNorm1: LayerNorm2d;
  readonly maskFeatureConv3: Conv2d;

  constructor(dim: number, cfg: Sam2Config) {
    super(dim, cfg);
    this.hfToken = this.child('hf_token', new Embedding(1, dim));
    this.hfMlp = this.child('hf_mlp', new MLP(dim, dim, dim / 8, 3));
    // Index 2 of the upstream Sequential is the GELU (no parameters).
    this.maskFeatureConv0 = this.child('embedding_maskfeature.0', new Conv2d(dim / 8, dim / 4, 3, { padding: 1 }));
    this.maskFeatureNorm1 = this.child('embedding_maskfeature.1', new LayerNorm2d(dim / 4));
    this.maskFeatureConv3 = this.child('embedding_maskfeature.3', new Conv2d(dim / 4, dim / 8, 3, { padding: 1 }));
  }

  /**
   * Parameters HQ-SAM2 adds to SAM 2's decoder: the HQ token, its MLP and the mask-feature convs
   * (177,152 at d = 256, the released checkpoint's 224.6 M minus SAM 2.1 Hiera-L's 224.4 M).
   */
  hqParamCount(): number {
    return [this.hfToken, this.hfMlp, this.maskFeatureConv0, this.maskFeatureNorm1, this.maskFeatureConv3].reduce((n, m) => n + m.paramCount(), 0);
  }

  protected override extraTokens(): Tensor[] {
    return [this.hfToken.weight.get()];
  }

  /** The HQ mask [B, 1, 4g, 4g]: hf_mlp(HQ token) · embedding_maskfeature(upscaled). */
  protected override extraMasks(hs: Tensor, upscaled: Tensor, first: number): Tensor {
    const feature = this.maskFeatureConv3.forward(gelu(this.maskFeatureNorm1.forward(this.maskFeatureConv0.forward(upscaled))));
    const [b, c, h, w] = feature.shape;
    const hyper = reshape(this.hfMlp.forward(slice(hs, [null, first])), [b, 1, c]);
    return reshape(matmul(hyper, reshape(feature, [b, c, h * w])), [b, 1, h, w]);
  }

  /**
   * SAM 2's selection on its four masks (multimask: 1..3; single: token 0 with the stability
   * fallback), then the HQ mask added to each selected mask — or returned alone with
   * `hqTokenOnly` (one mask, while the IoU keeps one entry per SAM 2 mask, as upstream).
   */
  override selectMasks(out: DecoderOutput, multimask: boolean, options: SelectOptions = {}): { masks: Tensor; iou: Tensor } {
    const n = this.numMaskTokens;
    const sam = super.selectMasks({ ...out, masks: slice(out.masks, [null, { start: 0, end: n }]) }, multimask);
    const hq = slice(out.masks, [null, { start: n, end: n + 1 }]);
    return { masks: options.hqTokenOnly ? hq : add(hq, sam.masks), iou: sam.iou };
  }
}
