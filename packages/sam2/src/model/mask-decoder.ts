/**
 * The mask decoder: output tokens [object score, IoU, 4 mask tokens] + prompt tokens run through
 * the two-way transformer with the image embedding (+ dense prompt embedding); the image tokens
 * are upscaled ×4 with the high-resolution features, and each mask token's hypernetwork MLP
 * gives the weights of its mask. The IoU head (sigmoid) scores the masks and the object-score
 * head says whether an object is there.
 */
import {
  argmaxOneHot,
  cat,
  div,
  expand,
  full,
  greater,
  greaterEqual,
  matmul,
  mul,
  reshape,
  slice,
  stack,
  sub,
  sum,
  where,
  Module,
  type Tensor,
} from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Conv2d, ConvTranspose2d, Embedding, LayerNorm2d, MLP } from '../nn/layers.js';
import { TwoWayTransformer } from './two-way-transformer.js';

/** Raw decoder outputs for every mask token. */
export interface DecoderOutput {
  /**
   * [B, T, 4g, 4g] mask logits: token 0 = single-mask output, 1..3 = multimask; with the HQ
   * decoder (T = 5) token 4 is the HQ mask.
   */
  masks: Tensor;
  /** [B, 4] predicted IoU. */
  iou: Tensor;
  /** [B, 1] object-score logits. */
  objectScore: Tensor;
}

/** How {@link MaskDecoder.selectMasks} picks the returned masks beyond multimask or not. */
export interface SelectOptions {
  /**
   * HQ-SAM2 only: return the HQ mask alone instead of HQ mask + SAM 2's mask(s) (upstream's
   * `hq_token_only`). Default false.
   */
  hqTokenOnly?: boolean;
}

/**
 * SAM 2's mask decoder (`sam_mask_decoder` in the official state dict). Subclasses add output
 * tokens after SAM 2's and masks after its four (see `MaskDecoderHQ`).
 */
export class MaskDecoder extends Module {
  readonly transformer: TwoWayTransformer;
  readonly iouToken: Embedding;
  readonly maskTokens: Embedding;
  readonly objScoreToken: Embedding | null;
  readonly upConv0: ConvTranspose2d;
  readonly upNorm1: LayerNorm2d;
  readonly upConv3: ConvTranspose2d;
  readonly convS0: Conv2d | null;
  readonly convS1: Conv2d | null;
  readonly hypernetworks: MLP[];
  readonly iouHead: MLP;
  readonly objScoreHead: MLP | null;
  readonly numMaskTokens = 4;

  constructor(
    readonly dim: number,
    readonly cfg: Sam2Config,
  ) {
    super();
    this.transformer = this.child('transformer', new TwoWayTransformer(2, dim, 8, 2048));
    this.iouToken = this.child('iou_token', new Embedding(1, dim));
    this.maskTokens = this.child('mask_tokens', new Embedding(this.numMaskTokens, dim));
    this.objScoreToken = cfg.predObjScores ? this.child('obj_score_token', new Embedding(1, dim)) : null;
    this.upConv0 = this.child('output_upscaling.0', new ConvTranspose2d(dim, dim / 4, 2, 2));
    this.upNorm1 = this.child('output_upscaling.1', new LayerNorm2d(dim / 4));
    this.upConv3 = this.child('output_upscaling.3', new ConvTranspose2d(dim / 4, dim / 8, 2, 2));
    this.convS0 = cfg.useHighResFeaturesInSam ? this.child('conv_s0', new Conv2d(dim, dim / 8, 1)) : null;
    this.convS1 = cfg.useHighResFeaturesInSam ? this.child('conv_s1', new Conv2d(dim, dim / 4, 1)) : null;
    this.hypernetworks = this.list(
      'output_hypernetworks_mlps',
      Array.from({ length: this.numMaskTokens }, () => new MLP(dim, dim, dim / 8, 3)),
    );
    this.iouHead = this.child('iou_prediction_head', new MLP(dim, 256, this.numMaskTokens, 3, 'relu', cfg.iouPredictionUseSigmoid));
    if (cfg.predObjScores && !cfg.predObjScoresMlp) throw new Error('mask decoder: a linear object-score head (pred_obj_scores_mlp false) is not supported');
    this.objScoreHead = cfg.predObjScores ? this.child('pred_obj_score_head', new MLP(dim, dim, 1, 3)) : null;
  }

  /**
   * image [1 or B, C, g, g], imagePe [1, C, g, g], sparse [B, N, C], dense [B, C, g, g] (or
   * [1, C, 1, 1], broadcast: the no-mask embedding), highRes [feat_s0 [·, C/8, 4g, 4g], feat_s1
   * [·, C/4, 2g, 2g]] (batch 1 is broadcast); `imagePeTokens`: imagePe as [1, g·g, C] when the
   * caller has it (the prompt encoder keeps one), which saves a permute per call.
   */
  predictMasks(image: Tensor, imagePe: Tensor, sparse: Tensor, dense: Tensor, highRes: [Tensor, Tensor] | null, imagePeTokens?: Tensor): DecoderOutput {
    const b = sparse.shape[0];
    const c = this.dim;
    const parts = [this.iouToken.weight.get(), this.maskTokens.weight.get(), ...this.extraTokens()];
    if (this.objScoreToken) parts.unshift(this.objScoreToken.weight.get());
    const s = this.objScoreToken ? 1 : 0;
    const outTokens = cat(parts, 0);
    const tokens = cat([expand(reshape(outTokens, [1, outTokens.shape[0], c]), [b, outTokens.shape[0], c]), sparse], 1);
    // src = image + dense: the transformer adds them as it lays the image out as tokens.
    const [g1, g2] = [image.shape[2], image.shape[3]];
    const [hs, keys] = this.transformer.forward(image, imagePe, tokens, imagePeTokens, dense);
    const iouTokenOut = slice(hs, [null, s]);
    // The image tokens [B, g·g, C] are the first conv's input in channels-last order (no permute).
    const srcGrid = reshape(keys, [b, g1, g2, c]);
    let up: Tensor;
    if (highRes) {
      const [s0, s1] = highRes;
      up = this.upNorm1.forward(this.upConv0.forward(srcGrid, { add: s1, channelsLast: true }), { activation: 'gelu' });
      up = this.upConv3.forward(up, { add: s0, activation: 'gelu' });
    } else {
      up = this.upConv3.forward(this.upNorm1.forward(this.upConv0.forward(srcGrid, { channelsLast: true }), { activation: 'gelu' }), { activation: 'gelu' });
    }
    const hyper = stack(
      this.hypernetworks.map((mlp, i) => mlp.forward(slice(hs, [null, s + 1 + i]))),
      1,
    );
    const [, cu, hu, wu] = up.shape;
    const samMasks = reshape(matmul(hyper, reshape(up, [b, cu, hu * wu])), [b, this.numMaskTokens, hu, wu]);
    const extra = this.extraMasks(hs, up, s + 1 + this.numMaskTokens);
    const masks = extra ? cat([samMasks, extra], 1) : samMasks;
    const iou = this.iouHead.forward(iouTokenOut);
    // Without an object-score head the official code returns a constant logit of 10.
    const objectScore = this.objScoreHead ? this.objScoreHead.forward(slice(hs, [null, 0])) : full([b, 1], 10);
    return { masks, iou, objectScore };
  }

  /** Output tokens after the mask tokens (none for SAM 2). */
  protected extraTokens(): Tensor[] {
    return [];
  }

  /**
   * Masks after SAM 2's four, from the transformer's token outputs `hs` (the first extra token at
   * index `first`) and the upscaled embedding; null for SAM 2.
   */
  protected extraMasks(_hs: Tensor, _upscaled: Tensor, _first: number): Tensor | null {
    return null;
  }

  /**
   * Chooses the returned masks: tokens 1..3 for multimask output; otherwise token 0, replaced by
   * the best multimask output when its stability score is below the threshold (when enabled).
   * Runs on the GPU (no readback).
   */
  selectMasks(out: DecoderOutput, multimask: boolean, options: SelectOptions = {}): { masks: Tensor; iou: Tensor } {
    if (options.hqTokenOnly) throw new Error('hqTokenOnly needs an HQ-SAM2 model (this mask decoder has no HQ token)');
    if (multimask) return { masks: slice(out.masks, [null, { start: 1 }]), iou: slice(out.iou, [null, { start: 1 }]) };
    const single = slice(out.masks, [null, { start: 0, end: 1 }]);
    const singleIou = slice(out.iou, [null, { start: 0, end: 1 }]);
    if (!this.cfg.dynamicMultimaskViaStability) return { masks: single, iou: singleIou };
    const multi = slice(out.masks, [null, { start: 1 }]);
    const multiIou = slice(out.iou, [null, { start: 1 }]);
    // One-hot of the best multimask IoU (first on ties, as argmax).
    const best = argmaxOneHot(multiIou);
    const bestMask = sum(mul(multi, reshape(best, [...best.shape, 1, 1])), 1, true);
    const bestIou = sum(mul(multiIou, best), 1, true);
    const delta = this.cfg.dynamicMultimaskStabilityDelta;
    const areaI = sum(greater(single, delta), [2, 3]);
    const areaU = sum(greater(single, -delta), [2, 3]);
    // stability = areaI / areaU, 1 when areaU is 0 (then areaI is 0 too).
    const stability = where(greater(areaU, 0), div(areaI, areaU), full(areaU.shape, 1));
    const stable = greaterEqual(stability, this.cfg.dynamicMultimaskStabilityThresh);
    return {
      masks: where(reshape(stable, [stable.shape[0], 1, 1, 1]), single, bestMask),
      iou: where(stable, singleIou, bestIou),
    };
  }
}
