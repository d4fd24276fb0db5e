/**
 * RP-SAM2's compound loss on the refined clicks P' [B, 2] (normalised x/W, y/H):
 *
 *   L = α·L_dice + β·L_dist + γ·L_out          (paper: α = 1, β = 0.1, γ = 1, θ = 15)
 *
 * - L_dice: per click, the soft Dice loss 1 − (2·Σσ(l)·t + 1)/(Σσ(l) + Σt + 1) of the selected
 *   low-res logits l (SAM 2's multimask output with the highest predicted IoU, chosen without
 *   gradient) against the ground truth t resized bilinearly to the low-res grid; mean over clicks.
 * - L_dist: per click, min over the candidate points g of
 *   0.5·(exp(θ·|x' − x_g|) + exp(θ·|y' − y_g|) − 2); mean over clicks.
 * - L_out: m = the ground truth sampled bilinearly at P' (grid_sample, align_corners false,
 *   zeros outside); per click −log(max(m, 1e-6)) where m < 0.5, else 0; mean over clicks.
 *
 * Each term can be switched off (ablations); a switched-off term is neither computed nor part of
 * the gradient.
 */
import {
  add,
  affine,
  cat,
  clamp,
  expand,
  greaterEqual,
  log,
  mean,
  mul,
  mulScalar,
  noGrad,
  reshape,
  rpsam2DistanceLoss,
  samplePoints,
  slice,
  softDiceLoss,
  type Tensor,
} from '@rpsam2/tensor';

/**
 * The weights and constants of {@link compoundLoss} (defaults: {@link PAPER_LOSS}) and the switches
 * that turn terms off for ablations.
 */
export interface CompoundLossConfig {
  /** Weight of the Dice term (default 1). */
  alpha: number;
  /** Weight of the distance term (default 0.1). */
  beta: number;
  /** Weight of the outside-the-mask term (default 1). */
  gamma: number;
  /** Sharpness of the exponential distance (default 15). */
  theta: number;
  /** Smoothing of the soft Dice (default 1). */
  smooth: number;
  /** Floor of m inside the log (default 1e-6). */
  outEps: number;
  /** The out term applies where m is below this (default 0.5). */
  outThreshold: number;
  /** Ablation switches (all true by default). */
  useDice: boolean;
  useDist: boolean;
  useOut: boolean;
}

/** The paper's constants with every term on. */
export const PAPER_LOSS: Readonly<CompoundLossConfig> = Object.freeze({
  alpha: 1,
  beta: 0.1,
  gamma: 1,
  theta: 15,
  smooth: 1,
  outEps: 1e-6,
  outThreshold: 0.5,
  useDice: true,
  useDist: true,
  useOut: true,
});

/** The loss config from the `loss` section of an RP-SAM2 spec.json (missing keys: paper values). */
export function lossConfigFromSpec(s: Record<string, unknown>): CompoundLossConfig {
  const pick = (k: string, d: number) => (typeof s[k] === 'number' ? (s[k] as number) : d);
  return { ...PAPER_LOSS, alpha: pick('alpha', 1), beta: pick('beta', 0.1), gamma: pick('gamma', 1), theta: pick('theta', 15) };
}

/**
 * Mean over clicks of the per-click soft Dice loss: logits [B, 1, h, w] (selected low-res
 * logits), target [B or 1, 1, h, w] (ground truth on the low-res grid; batch 1 is shared).
 */
export function diceTerm(logits: Tensor, target: Tensor, smooth = 1): Tensor {
  if (logits.rank !== 4 || target.rank !== 4 || (target.shape[0] !== 1 && target.shape[0] !== logits.shape[0])) {
    throw new RangeError(`diceTerm: logits [${logits.shape}] and target [${target.shape}] must be [B, 1, h, w] and [B or 1, 1, h, w]`);
  }
  const t = target.shape[0] === logits.shape[0] ? target : expand(target, logits.shape);
  return softDiceLoss(logits, t, { smooth, perSample: true });
}

/**
 * Mean over clicks of the exponential distance to the nearest candidate: refined [B, 2],
 * candidates [G, 2] shared by the clicks, or one [G_i, 2] per click (reachable candidates).
 */
export function distTerm(refined: Tensor, candidates: Tensor | readonly Tensor[], theta = 15): Tensor {
  if (!Array.isArray(candidates)) return mean(rpsam2DistanceLoss(refined, candidates as Tensor, theta));
  const b = refined.shape[0];
  if (candidates.length !== b) throw new RangeError(`distTerm: ${candidates.length} candidate sets for ${b} clicks`);
  const perClick = candidates.map((c, i) => rpsam2DistanceLoss(slice(refined, [{ start: i, end: i + 1 }]), c, theta));
  return mean(cat(perClick, 0));
}

/**
 * The ground truth sampled at the refined clicks: gt [1 or B, 1, H, W] (0/1), refined [B, 2]
 * → m̂ [B]. A single ground truth is sampled at all B points in one pass.
 */
export function sampleMask(gt: Tensor, refined: Tensor): Tensor {
  if (gt.rank !== 4 || gt.shape[1] !== 1 || refined.rank !== 2 || refined.shape[1] !== 2) {
    throw new RangeError(`sampleMask: gt [${gt.shape}] and refined clicks [${refined.shape}] must be [B or 1, 1, H, W] and [B, 2]`);
  }
  const b = refined.shape[0];
  if (gt.shape[0] === 1) return reshape(samplePoints(gt, reshape(refined, [1, b, 2])), [b]);
  if (gt.shape[0] !== b) throw new RangeError(`sampleMask: gt batch ${gt.shape[0]} must be 1 or the click batch ${b}`);
  return reshape(samplePoints(gt, reshape(refined, [b, 1, 2])), [b]);
}

/** Mean over clicks of −log(max(m̂, eps)) where m̂ < threshold (else 0); returns the term and m̂. */
export function outTerm(gt: Tensor, refined: Tensor, eps = 1e-6, threshold = 0.5): { loss: Tensor; mHat: Tensor } {
  const mHat = sampleMask(gt, refined);
  // 1 where m̂ < threshold: a constant mask (the comparison has no gradient).
  const inside = noGrad(() => affine(greaterEqual(mHat, threshold), -1, 1));
  const perClick = mul(affine(log(clamp(mHat, eps)), -1, 0), inside);
  return { loss: mean(perClick), mHat };
}

/** The loss's inputs for a batch of B clicks. */
export interface CompoundLossInputs {
  /** [B, 2] refined clicks (normalised), differentiable. */
  refined: Tensor;
  /** [B, 1, h, w] selected low-res logits (needed when the Dice term is on). */
  selectedLogits?: Tensor;
  /** [B or 1, 1, h, w] ground truth on the low-res grid (Dice term). */
  targetLowRes?: Tensor;
  /** [G, 2] candidate points, normalised, or one [G_i, 2] set per click (distance term). */
  candidates?: Tensor | readonly Tensor[];
  /** [B or 1, 1, H, W] full-resolution ground truth, 0/1 (out term). */
  gt?: Tensor;
}

/** The total and each enabled term (scalars), plus m̂ when the out term ran. */
export interface CompoundLossOutput {
  total: Tensor;
  dice: Tensor | null;
  dist: Tensor | null;
  out: Tensor | null;
  mHat: Tensor | null;
}

/** L = α·L_dice + β·L_dist + γ·L_out over the enabled terms (see the module comment). */
export function compoundLoss(inputs: CompoundLossInputs, config: Partial<CompoundLossConfig> = {}): CompoundLossOutput {
  const c = { ...PAPER_LOSS, ...config };
  const need = <T>(v: T | undefined, what: string, term: string): T => {
    if (!v) throw new Error(`compoundLoss: the ${term} term needs ${what} (or switch it off)`);
    return v;
  };
  let dice: Tensor | null = null;
  let dist: Tensor | null = null;
  let out: Tensor | null = null;
  let mHat: Tensor | null = null;
  const parts: Tensor[] = [];
  if (c.useDice) {
    dice = diceTerm(need(inputs.selectedLogits, 'selectedLogits', 'Dice'), need(inputs.targetLowRes, 'targetLowRes', 'Dice'), c.smooth);
    parts.push(mulScalar(dice, c.alpha));
  }
  if (c.useDist) {
    dist = distTerm(inputs.refined, need(inputs.candidates, 'candidates', 'distance'), c.theta);
    parts.push(mulScalar(dist, c.beta));
  }
  if (c.useOut) {
    const o = outTerm(need(inputs.gt, 'gt', 'out'), inputs.refined, c.outEps, c.outThreshold);
    out = o.loss;
    mHat = o.mHat;
    parts.push(mulScalar(out, c.gamma));
  }
  if (parts.length === 0) throw new Error('compoundLoss: every term is switched off');
  const total = parts.slice(1).reduce((acc, p) => add(acc, p), parts[0]);
  return { total, dice, dist, out, mHat };
}
