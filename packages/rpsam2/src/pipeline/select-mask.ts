/**
 * Choosing one of SAM 2's multimask outputs per click by its predicted IoU, as RP-SAM2's Dice
 * term does: the choice (argmax, first on ties) is made without gradient, the chosen logits keep
 * theirs.
 */
import { argmaxOneHot, mul, reshape, sum, type Tensor } from '@rpsam2/tensor';

/** The selected masks and the choice. */
export interface Selection {
  /** [B, 1, h, w] the chosen logits (gradient flows to the chosen mask only). */
  logits: Tensor;
  /** [B, K] one-hot of the choice (no gradient). */
  oneHot: Tensor;
}

/**
 * masks [B, K, h, w] (e.g. SAM 2's three multimask outputs), iou [B, K] → per click the mask
 * with the highest predicted IoU. Runs on the GPU without readback.
 */
export function selectByIou(masks: Tensor, iou: Tensor): Selection {
  if (masks.rank !== 4 || iou.rank !== 2 || iou.shape[0] !== masks.shape[0] || iou.shape[1] !== masks.shape[1]) {
    throw new RangeError(`selectByIou: masks [${masks.shape}] and iou [${iou.shape}] must be [B, K, h, w] and [B, K]`);
  }
  const oneHot = argmaxOneHot(iou);
  const logits = sum(mul(masks, reshape(oneHot, [...oneHot.shape, 1, 1])), 1, true);
  return { logits, oneHot };
}

/** Reads a one-hot [B, K] back as indices. */
export async function oneHotToIndices(oneHot: Tensor): Promise<Int32Array> {
  const [b, k] = oneHot.shape;
  const d = await oneHot.data();
  const out = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    let best = 0;
    for (let j = 0; j < k; j++) if (d[i * k + j] > 0.5) best = j;
    out[i] = best;
  }
  return out;
}
