/** Op-vector adapters: loss ops. */
import { softDiceLoss, bceWithLogits, rpsam2DistanceLoss } from '../../ops/index.js';
import type { OpAdapter } from './types.js';

export const lossAdapters: Record<string, OpAdapter> = {
  soft_dice_loss: ([logits, target], a) => softDiceLoss(logits, target, { smooth: a.smooth ?? 1 }),
  binary_cross_entropy_with_logits: ([logits, target, weight], a) =>
    bceWithLogits(logits, target, { reduction: a.reduction ?? 'mean', weight }),
  rpsam2_distance_loss: ([points, candidates], a) => rpsam2DistanceLoss(points, candidates, a.theta ?? 15),
};
