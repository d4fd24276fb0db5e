/**
 * RP-SAM2 end to end on one image: the user's clicks → SAM 2's sparse prompt tokens (frozen) →
 * the shift block → refined clicks → SAM 2's prompt encoder and mask decoder (frozen, but
 * differentiable w.r.t. the click) → the multimask output with the highest predicted IoU → the
 * compound loss. Gradients reach the shift block through the mask decoder, the prompt encoder's
 * Fourier features of the refined click, the clamp and the shift block itself.
 *
 * Coordinates: clicks are normalised P = (x/W0, y/H0) in the original image (x = column, y = row
 * pixel index); SAM 2's `promptPoints` (through `clickPrompt`) gives the prompt encoder P·S
 * (S = SAM 2's input size) and the padding point, and the encoder adds the +0.5 itself.
 */
import { interpolate, noGrad, sub, tidy, type Tensor } from '@rpsam2/tensor';
import { clickPrompt, promptTokens, type Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { refineStepsOf, type ShiftBlock, type ShiftBlockOutput } from '../shift-block/shift-block.js';
import { compoundLoss, type CompoundLossConfig, type CompoundLossOutput } from '../loss/compound-loss.js';

/** SAM 2's answer for the refined clicks. */
export interface RefinedDecode {
  /** [B, 3] predicted IoU of the multimask outputs. */
  iou: Tensor;
  /** [B, 3, 4g, 4g] multimask low-res logits. */
  lowRes: Tensor;
  /** [B, 1, 4g, 4g] the logits with the highest predicted IoU (gradient to them only). */
  selected: Tensor;
  /** [B, 3] one-hot of the choice. */
  oneHot: Tensor;
}

/** Everything one forward pass computes (tensors belong to the enclosing tidy). */
export interface RpSam2Output extends ShiftBlockOutput, RefinedDecode {
  /** [B, 2, C] sparse tokens of the original clicks (the shift block's input; no gradient). */
  sparse: Tensor;
  loss: CompoundLossOutput | null;
}

/** Ground truth and candidates for the loss. */
export interface RpSam2Targets {
  /** [1, 1, H0, W0] ground-truth mask (0/1). */
  gt: Tensor;
  /** [1, 1, 4g, 4g] the ground truth resized to the low-res grid (see {@link targetLowRes}). */
  targetLowRes: Tensor;
  /** [G, 2] candidate points, normalised. */
  candidates: Tensor;
}

/** The ground truth [N, 1, H0, W0] resized bilinearly (align_corners false) to size×size. */
export function targetLowRes(gt: Tensor, size: number): Tensor {
  return interpolate(gt, { size: [size, size], mode: 'bilinear', alignCorners: false });
}

/**
 * The prompt encoder's sparse tokens [B, 2, C] of single positive clicks [B, 2] (normalised):
 * the click token and the padding token, the shift block's input. Constant for the shift block
 * (no gradient). The one function for them: `RpSam2.clickTokens`, training and validation use it.
 */
export function clickTokens(model: Sam2Model, clicks: Tensor): Tensor {
  if (clicks.rank !== 2 || clicks.shape[1] !== 2) throw new RangeError(`RpSam2: clicks [${clicks.shape}] must be [B, 2]`);
  return noGrad(() => tidy(() => promptTokens(model, clickPrompt(clicks), [1, 1])));
}

/**
 * RP-SAM2 on one image: a frozen SAM 2 predictor (its image's features set) and the trainable shift
 * block that moves each click before SAM 2 decodes it. Owns neither; methods return tensors to be
 * freed by the caller (or an enclosing tidy).
 */
export class RpSam2 {
  constructor(
    /** SAM 2 with the image's features set (frozen: its weights do not require grad). */
    readonly predictor: Sam2ImagePredictor,
    readonly shiftBlock: ShiftBlock,
  ) {}

  /**
   * The prompt encoder's sparse tokens of single positive clicks [B, 2] (normalised): the click
   * token and the padding token, [B, 2, C] ({@link clickTokens}).
   */
  clickTokens(clicks: Tensor): Tensor {
    return clickTokens(this.predictor.model, clicks);
  }

  /**
   * Clicks [B, 2] → the shift block's output and its input tokens, applied `steps` times (default
   * the block's `refineSteps`): each step encodes the previous step's refined click again. With
   * more than one step, `delta` is the whole move (refined − clicks) and `tokens` the last step's.
   */
  refine(clicks: Tensor, imageIndex = 0, steps = refineStepsOf(this.shiftBlock.config)): ShiftBlockOutput & { sparse: Tensor } {
    const sparse = this.clickTokens(clicks);
    const f = this.predictor.getFeatures(imageIndex);
    let out = this.shiftBlock.forward(sparse, f.imageEmbed, clicks);
    for (let s = 1; s < steps; s++) out = this.shiftBlock.forward(this.clickTokens(out.refined), f.imageEmbed, out.refined);
    return { sparse, ...out, ...(steps > 1 ? { delta: sub(out.refined, clicks) } : {}) };
  }

  /**
   * SAM 2 on refined clicks [B, 2] (multimask), differentiable w.r.t. them; best-IoU selection
   * (`Sam2ImagePredictor.decodeBest` on `clickPrompt` from `@rpsam2/sam2`).
   */
  decodeRefined(refined: Tensor, imageIndex = 0): RefinedDecode {
    const r = this.predictor.decodeBest(clickPrompt(refined), imageIndex);
    return { iou: r.iou, lowRes: r.lowRes, selected: r.selected, oneHot: r.oneHot };
  }

  /**
   * The whole chain for clicks [B, 2]; with targets, the compound loss too. Call inside tidy.
   * The block is applied once (training is on one step, whatever its `refineSteps`).
   */
  forward(clicks: Tensor, targets?: RpSam2Targets, loss: Partial<CompoundLossConfig> = {}, imageIndex = 0): RpSam2Output {
    const refined = this.refine(clicks, imageIndex, 1);
    const dec = this.decodeRefined(refined.refined, imageIndex);
    const out = targets
      ? compoundLoss(
          { refined: refined.refined, selectedLogits: dec.selected, targetLowRes: targets.targetLowRes, candidates: targets.candidates, gt: targets.gt },
          loss,
        )
      : null;
    return { ...refined, ...dec, loss: out };
  }
}
