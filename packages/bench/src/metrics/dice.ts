/** The Dice similarity coefficient of two binary masks. */
import { checkSameSize, type BinaryMask } from '@rpsam2/data';

/** Counts for Dice: |pred ∩ gt|, |pred|, |gt|. */
export interface OverlapCounts {
  intersection: number;
  pred: number;
  gt: number;
}

/** |pred ∩ gt|, |pred| and |gt| in one pass. */
export function overlapCounts(pred: BinaryMask, gt: BinaryMask): OverlapCounts {
  checkSameSize(pred, gt, 'overlapCounts');
  const p = pred.data;
  const g = gt.data;
  let inter = 0;
  let np = 0;
  let ng = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] !== 0;
    const b = g[i] !== 0;
    if (a) np++;
    if (b) ng++;
    if (a && b) inter++;
  }
  return { intersection: inter, pred: np, gt: ng };
}

/**
 * Dice = 2|pred ∩ gt| / (|pred| + |gt|). Both masks empty: 1 (perfect agreement on "nothing";
 * see `metrics/index.ts` for the project's empty-mask policy); one empty: 0.
 */
export function dice(pred: BinaryMask, gt: BinaryMask): number {
  return diceFromCounts(overlapCounts(pred, gt));
}

/** Dice from precomputed counts, same empty-mask rule as {@link dice}. */
export function diceFromCounts(c: OverlapCounts): number {
  const denom = c.pred + c.gt;
  return denom === 0 ? 1 : (2 * c.intersection) / denom;
}
