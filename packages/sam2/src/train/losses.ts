/**
 * SAM 2's training loss, as the official `training/loss_fns.py` (`MultiStepMultiMasksAndIous`
 * with `sigmoid_focal_loss`, `dice_loss`, `iou_loss`) computes it for one prediction step:
 *
 * - focal loss (α 0.25, γ 2) per mask, averaged over the pixels;
 * - Dice loss per mask on sigmoid outputs, `1 − (Σs + Σt − ‖s − t‖₁ + 1) / (Σs + Σt + 1)`;
 * - IoU loss: L1 (or MSE) between the predicted IoU and the actual IoU of the binarised mask
 *   (logit > 0) with the target (union clamped to ≥ 1);
 * - object-score loss: sigmoid focal loss with α −1 and γ 0, i.e. plain BCE with logits, of the
 *   object-score logit against "the target has a pixel".
 *
 * Every per-object term is divided by the number of objects and summed over the objects (a mean
 * over objects). With several output masks (K = 3), only the mask with the smallest
 * `w_mask·focal + w_dice·dice` counts for the mask terms (argmin without gradient through the
 * choice); the IoU term covers every mask (mean over K) with `supervisedAllIou`, else the chosen
 * one. Mask, Dice and IoU terms are zeroed for objects whose target is empty (with
 * `predObjScores`). The defaults are the official SAM 2.1 training config
 * (`sam2/configs/sam2.1_training/sam2.1_hiera_b+_MOSE_finetune.yaml`): weights mask 20, dice 1,
 * iou 1, class 1; `supervise_all_iou: true`, `iou_use_l1_loss: true`, `pred_obj_scores: true`.
 */
import {
  abs,
  add,
  addScalar,
  affine,
  amax,
  argmax,
  argmaxOneHot,
  bceWithLogits,
  clamp,
  div,
  expand,
  full,
  greater,
  mean,
  mul,
  mulScalar,
  neg,
  noGrad,
  ones,
  pow,
  reshape,
  sigmoid,
  square,
  sub,
  sum,
  tidy,
  type Tensor,
} from '@rpsam2/tensor';

/** Weights of the four loss terms in the total (the official `weight_dict`). */
export interface Sam2LossWeights {
  /** Focal loss on the masks (`loss_mask`). */
  mask: number;
  /** Dice loss on the masks (`loss_dice`). */
  dice: number;
  /** IoU-prediction loss (`loss_iou`). */
  iou: number;
  /** Object-score loss (`loss_class`). */
  objScore: number;
}

/** Options of {@link sam2Loss}; every field defaults to the official SAM 2.1 training config. */
export interface Sam2LossOptions {
  /** Term weights (default mask 20, dice 1, iou 1, objScore 1). */
  weights?: Partial<Sam2LossWeights>;
  /** α of the mask focal loss (default 0.25; negative: no α weighting). */
  focalAlpha?: number;
  /** γ of the mask focal loss (default 2). */
  focalGamma?: number;
  /** IoU loss on every output mask (mean over K) instead of the chosen one only (default true). */
  supervisedAllIou?: boolean;
  /** L1 instead of MSE between predicted and actual IoU (default true, as the official config). */
  iouUseL1Loss?: boolean;
  /**
   * Whether the model predicts object scores (default true): if so the object-score loss is
   * computed and the mask/Dice/IoU terms of objects with an empty target are zeroed; if not the
   * object-score loss is 0 and every object counts.
   */
  predObjScores?: boolean;
  /** α of the object-score focal loss (default −1: none, i.e. plain BCE). */
  focalAlphaObjScore?: number;
  /** γ of the object-score focal loss (default 0: plain BCE). */
  focalGammaObjScore?: number;
  /**
   * The divisor of every term (default: the batch size B, the official "number of objects in the
   * batch", clamped to ≥ 1). Set it when a batch is split over several calls.
   */
  numObjects?: number;
}

/** The official SAM 2.1 training loss settings (every option of {@link Sam2LossOptions} but `numObjects`). */
export const SAM2_TRAINING_LOSS: Readonly<Required<Omit<Sam2LossOptions, 'numObjects' | 'weights'>> & { weights: Readonly<Sam2LossWeights> }> = Object.freeze({
  weights: Object.freeze({ mask: 20, dice: 1, iou: 1, objScore: 1 }),
  focalAlpha: 0.25,
  focalGamma: 2,
  supervisedAllIou: true,
  iouUseL1Loss: true,
  predObjScores: true,
  focalAlphaObjScore: -1,
  focalGammaObjScore: 0,
});

/** One prediction step of the decoder, at the targets' resolution. */
export interface Sam2StepOutputs {
  /** [B, K, H, W] mask logits (K = 1 or 3), upsampled to the targets' size by the caller. */
  masks: Tensor;
  /** [B, K] predicted IoU, one per mask. */
  iou: Tensor;
  /** [B, 1] object-score logits. */
  objectScore: Tensor;
}

/** The loss of one step (or the sum over steps). Dispose every tensor. */
export interface Sam2LossResult {
  /** Weighted sum of the terms: the scalar to back-propagate. */
  total: Tensor;
  /** Focal term (unweighted, scalar, detached). */
  focal: Tensor;
  /** Dice term (unweighted, scalar, detached). */
  dice: Tensor;
  /** IoU-prediction term (unweighted, scalar, detached). */
  iou: Tensor;
  /** Object-score term (unweighted, scalar, detached; 0 without `predObjScores`). */
  objScore: Tensor;
}

/** {@link sam2Loss}'s result: the terms plus the mask each object's mask terms used. */
export interface Sam2StepLossResult extends Sam2LossResult {
  /** [B] i32: index of the mask chosen by the best-of-K rule (all 0 when K = 1). */
  chosen: Tensor;
}

/** {@link sam2MultiStepLoss}'s result: the terms summed over the steps, and each step's choice. */
export interface Sam2MultiStepLossResult extends Sam2LossResult {
  /** One [B] i32 tensor per step (see {@link Sam2StepLossResult.chosen}). */
  chosen: Tensor[];
}

interface ResolvedOptions {
  w: Sam2LossWeights;
  focalAlpha: number;
  focalGamma: number;
  supervisedAllIou: boolean;
  iouUseL1Loss: boolean;
  predObjScores: boolean;
  focalAlphaObjScore: number;
  focalGammaObjScore: number;
}

function resolveOptions(o: Sam2LossOptions): ResolvedOptions {
  const d = SAM2_TRAINING_LOSS;
  const w: Sam2LossWeights = { ...d.weights, ...(o.weights ?? {}) };
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isFinite(v)) throw new RangeError(`sam2Loss: weights.${k} must be a finite number, got ${v}`);
  }
  if (w.mask === 0 && w.dice === 0 && w.iou === 0 && w.objScore === 0) throw new RangeError('sam2Loss: every loss weight is 0, nothing to train');
  const r: ResolvedOptions = {
    w,
    focalAlpha: o.focalAlpha ?? d.focalAlpha,
    focalGamma: o.focalGamma ?? d.focalGamma,
    supervisedAllIou: o.supervisedAllIou ?? d.supervisedAllIou,
    iouUseL1Loss: o.iouUseL1Loss ?? d.iouUseL1Loss,
    predObjScores: o.predObjScores ?? d.predObjScores,
    focalAlphaObjScore: o.focalAlphaObjScore ?? d.focalAlphaObjScore,
    focalGammaObjScore: o.focalGammaObjScore ?? d.focalGammaObjScore,
  };
  for (const k of ['focalAlpha', 'focalAlphaObjScore'] as const) {
    if (!Number.isFinite(r[k]) || r[k] > 1) throw new RangeError(`sam2Loss: ${k} must be ≤ 1 (negative: no α weighting), got ${r[k]}`);
  }
  for (const k of ['focalGamma', 'focalGammaObjScore'] as const) {
    if (!Number.isFinite(r[k]) || r[k] < 0) throw new RangeError(`sam2Loss: ${k} must be ≥ 0, got ${r[k]}`);
  }
  return r;
}

function checkShapes(step: Sam2StepOutputs, targets: Tensor): { b: number; k: number } {
  const { masks, iou, objectScore } = step;
  for (const [name, t] of [['masks', masks], ['iou', iou], ['objectScore', objectScore], ['targets', targets]] as const) {
    if (!t || t.isTensor !== true) throw new TypeError(`sam2Loss: ${name} must be a Tensor`);
    if (t.dtype !== 'f32') throw new TypeError(`sam2Loss: ${name} ${t.describe()} must be f32`);
  }
  if (masks.rank !== 4) throw new RangeError(`sam2Loss: masks ${masks.describe()} must be [B, K, H, W]`);
  const [b, k, h, w] = masks.shape;
  if (b === 0 || k === 0 || h === 0 || w === 0) throw new RangeError(`sam2Loss: masks ${masks.describe()} has an empty dimension`);
  const want = (name: string, t: Tensor, shape: number[]) => {
    if (t.rank !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new RangeError(`sam2Loss: ${name} ${t.describe()} must be [${shape.join(', ')}] to match masks ${masks.describe()}`);
    }
  };
  want('targets', targets, [b, 1, h, w]);
  want('iou', iou, [b, k]);
  want('objectScore', objectScore, [b, 1]);
  return { b, k };
}

/**
 * Elementwise sigmoid focal loss (RetinaNet): `α_t · BCE(x, t) · (1 − p_t)^γ`, with
 * `1 − p_t = t·σ(−x) + (1 − t)·σ(x)` (written with σ(−x) rather than 1 − σ(x) so that confident
 * logits keep their precision). α < 0: no α_t factor; γ = 0: no modulating factor.
 */
function focalElementwise(x: Tensor, t: Tensor, alpha: number, gamma: number): Tensor {
  let loss = bceWithLogits(x, t, { reduction: 'none' });
  if (gamma !== 0) {
    const q = add(mul(t, sigmoid(neg(x))), mul(affine(t, -1, 1), sigmoid(x)));
    const mod = gamma === 1 ? q : gamma === 2 ? square(q) : pow(clamp(q, 0), gamma);
    loss = mul(loss, mod);
  }
  if (alpha >= 0) loss = mul(loss, affine(t, 2 * alpha - 1, 1 - alpha));
  return loss;
}

/** A detached copy (for reporting a term without holding the graph). */
const detached = (t: Tensor): Tensor => noGrad(() => mulScalar(t, 1));

/** The four unweighted terms of one step, in the graph, and the choice. */
function stepTerms(step: Sam2StepOutputs, targets: Tensor, o: ResolvedOptions, numObjects: number | undefined) {
  const { b, k } = checkShapes(step, targets);
  const n = Math.max(numObjects ?? b, 1);
  if (!Number.isFinite(n)) throw new RangeError(`sam2Loss: numObjects must be a finite number, got ${numObjects}`);
  const x = step.masks;
  const [, , h, w] = x.shape;
  const inv = 1 / n;

  // [B, K] per-mask terms, each already divided by the number of objects (as loss_on_multimask).
  const tK = expand(targets, [b, k, h, w]);
  const focalBK = mulScalar(mean(focalElementwise(x, tK, o.focalAlpha, o.focalGamma), [2, 3]), inv);
  const s = sigmoid(x);
  const denom = add(sum(s, [2, 3]), sum(targets, [2, 3]));
  // Σs + Σt − ‖s − t‖₁ (= 2·Σ s·t for 0/1 targets), the official form that also serves soft targets.
  const numer = sub(denom, sum(abs(sub(s, targets)), [2, 3]));
  const diceBK = mulScalar(affine(div(addScalar(numer, 1), addScalar(denom, 1)), -1, 1), inv);
  const actualIou = noGrad(() => {
    const p = greater(x, 0);
    // Soft targets (coverage fractions) count as inside from one half, as their binary mask would.
    const g = greater(targets, 0.5);
    const inter = sum(mul(p, g), [2, 3]);
    const union = sub(add(sum(p, [2, 3]), sum(g, [2, 3])), inter);
    return div(inter, clamp(union, 1));
  });
  const err = sub(step.iou, actualIou);
  const iouBK = mulScalar(o.iouUseL1Loss ? abs(err) : square(err), inv);

  // [B, 1] per-object terms: best of K for the mask terms (no gradient through the choice).
  let focalB: Tensor;
  let diceB: Tensor;
  let iouB: Tensor;
  let chosen: Tensor;
  if (k > 1) {
    const negCombo = noGrad(() => neg(add(mulScalar(focalBK, o.w.mask), mulScalar(diceBK, o.w.dice))));
    // argmax of −combo = argmin of combo, the first one on ties (as torch.argmin).
    const pick = argmaxOneHot(negCombo);
    chosen = argmax(negCombo);
    focalB = sum(mul(focalBK, pick), 1, true);
    diceB = sum(mul(diceBK, pick), 1, true);
    iouB = o.supervisedAllIou ? mean(iouBK, 1, true) : sum(mul(iouBK, pick), 1, true);
  } else {
    chosen = full([b], 0, 'i32');
    focalB = focalBK;
    diceB = diceBK;
    iouB = iouBK;
  }

  let objScore: Tensor;
  let targetObj: Tensor;
  if (o.predObjScores) {
    targetObj = noGrad(() => greater(reshape(amax(targets, [1, 2, 3]), [b, 1]), 0));
    // sigmoid_focal_loss without loss_on_multimask: mean over dim 1, sum over objects, / n.
    objScore = mulScalar(sum(mean(focalElementwise(step.objectScore, targetObj, o.focalAlphaObjScore, o.focalGammaObjScore), 1)), inv);
  } else {
    targetObj = ones([b, 1]);
    objScore = full([], 0);
  }
  // Mask, Dice and IoU terms only for objects that are present.
  return {
    focal: sum(mul(focalB, targetObj)),
    dice: sum(mul(diceB, targetObj)),
    iou: sum(mul(iouB, targetObj)),
    objScore,
    chosen,
  };
}

function weighted(terms: { focal: Tensor; dice: Tensor; iou: Tensor; objScore: Tensor }, w: Sam2LossWeights): Tensor {
  // As the official reduce_loss: terms with weight 0 are left out (their NaNs cannot leak in).
  const parts: Tensor[] = [];
  if (w.mask !== 0) parts.push(mulScalar(terms.focal, w.mask));
  if (w.dice !== 0) parts.push(mulScalar(terms.dice, w.dice));
  if (w.iou !== 0) parts.push(mulScalar(terms.iou, w.iou));
  if (w.objScore !== 0) parts.push(mulScalar(terms.objScore, w.objScore));
  return parts.reduce((a, p) => add(a, p));
}

/**
 * SAM 2's training loss of one prediction step (the official `_update_losses` followed by
 * `reduce_loss`): `total = w_mask·focal + w_dice·dice + w_iou·iou + w_objScore·objScore`.
 *
 * `step.masks` [B, K, H, W] are mask logits at the targets' resolution (upsample the decoder's
 * low-resolution logits first, as the official trainer does), `targets` [B, 1, H, W] the 0/1
 * ground truth, `step.iou` [B, K], `step.objectScore` [B, 1]. `total` is differentiable w.r.t.
 * the three predictions; the four terms are returned unweighted and detached, `chosen` [B] i32
 * says which mask the best-of-K rule picked per object. The caller disposes every tensor.
 */
export function sam2Loss(step: Sam2StepOutputs, targets: Tensor, options: Sam2LossOptions = {}): Sam2StepLossResult {
  const o = resolveOptions(options);
  return tidy(() => {
    const t = stepTerms(step, targets, o, options.numObjects);
    return { ...lossResult(t, o.w), chosen: t.chosen };
  });
}

/** The weighted total (differentiable) and the four terms (detached) of summed terms. */
function lossResult(t: { focal: Tensor; dice: Tensor; iou: Tensor; objScore: Tensor }, w: Sam2LossWeights): Sam2LossResult {
  return { total: weighted(t, w), focal: detached(t.focal), dice: detached(t.dice), iou: detached(t.iou), objScore: detached(t.objScore) };
}

/**
 * The loss of an interactive sequence of prediction steps on the same targets (the first prompt,
 * then each correction click): the official `_forward` sums every term over the steps (no mean).
 * Each step is as in {@link sam2Loss}; `chosen` has one entry per step.
 */
export function sam2MultiStepLoss(steps: readonly Sam2StepOutputs[], targets: Tensor, options: Sam2LossOptions = {}): Sam2MultiStepLossResult {
  if (!Array.isArray(steps) || steps.length === 0) throw new RangeError('sam2MultiStepLoss: steps must be a non-empty array of step outputs');
  const o = resolveOptions(options);
  return tidy(() => {
    const per = steps.map((s) => stepTerms(s, targets, o, options.numObjects));
    const total = (key: 'focal' | 'dice' | 'iou' | 'objScore') => per.map((p) => p[key]).reduce((a, v) => add(a, v));
    const t = { focal: total('focal'), dice: total('dice'), iou: total('iou'), objScore: total('objScore') };
    return { ...lossResult(t, o.w), chosen: per.map((p) => p.chosen) };
  });
}
