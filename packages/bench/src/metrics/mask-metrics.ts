/**
 * Dice and HD95 of a predicted mask against a ground-truth mask, with the project's empty-mask
 * policy (documented in `metrics/index.ts` and the README):
 *
 * | pred  | gt    | Dice | HD95, pooled HD95            |
 * | ----- | ----- | ---- | ---------------------------- |
 * | empty | empty | 1    | 0                            |
 * | empty | —     | 0    | image diagonal √(W² + H²)    |
 * | —     | empty | 0    | image diagonal √(W² + H²)    |
 *
 * Every pair enters the means with these values (nothing is dropped), and aggregation counts the
 * pairs that used the policy so that reports can say how many there were.
 */
import type { BinaryMask } from '@rpsam2/data';
import { overlapCounts, diceFromCounts } from './dice.js';
import { hd95FromDistances, surfaceDistances } from './hausdorff.js';

/** Which of the two masks were empty. */
export type EmptyCase = 'none' | 'pred' | 'gt' | 'both';

/** Dice and HD95 of one pair. */
export interface MaskMetrics {
  dice: number;
  /** MONAI HD95 in pixels (max of the two directed 95th percentiles). */
  hd95: number;
  /** medpy HD95 in pixels (95th percentile of both directed sets pooled). */
  hd95Pooled: number;
  /** 'none' when both masks had foreground; otherwise the empty-mask policy gave the values. */
  empty: EmptyCase;
}

/** The HD95 the policy assigns when a mask is empty (0 when both are, else the image diagonal). */
export function emptyMaskHd95(width: number, height: number, empty: Exclude<EmptyCase, 'none'>): number {
  return empty === 'both' ? 0 : Math.hypot(width, height);
}

/** The Dice the policy assigns when a mask is empty (1 when both are, else 0). */
export function emptyMaskDice(empty: Exclude<EmptyCase, 'none'>): number {
  return empty === 'both' ? 1 : 0;
}

/** Dice, HD95 (MONAI) and pooled HD95 (medpy) of pred against gt, with the empty-mask policy. */
export function maskMetrics(pred: BinaryMask, gt: BinaryMask): MaskMetrics {
  const counts = overlapCounts(pred, gt);
  const empty: EmptyCase = counts.pred === 0 ? (counts.gt === 0 ? 'both' : 'pred') : counts.gt === 0 ? 'gt' : 'none';
  if (empty !== 'none') {
    const hd = emptyMaskHd95(pred.width, pred.height, empty);
    return { dice: emptyMaskDice(empty), hd95: hd, hd95Pooled: hd, empty };
  }
  const { hd95, hd95Pooled } = hd95FromDistances(surfaceDistances(pred, gt));
  return { dice: diceFromCounts(counts), hd95, hd95Pooled, empty };
}
