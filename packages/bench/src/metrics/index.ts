/**
 * Segmentation metrics, pure TypeScript on the CPU and exact.
 *
 * - **Dice** = 2|P ∩ G| / (|P| + |G|).
 * - **HD95** (MONAI convention, in pixels at the image's resolution): the boundary of a mask is
 *   `mask XOR erosion(mask)` with a 4-connected (3×3 cross) structuring element, pixels outside
 *   the image counting as background; for each boundary pixel of one mask, the Euclidean distance
 *   (between pixel centres) to the nearest boundary pixel of the other; HD95 is the larger of the
 *   two directed 95th percentiles, computed like `numpy.percentile` (linear interpolation).
 *   Distances come from an exact Euclidean distance transform (Felzenszwalb–Huttenlocher, O(HW),
 *   on the bounding box of the two boundaries), so a 1024×768 pair takes milliseconds.
 * - **Pooled HD95** (medpy convention): the 95th percentile of both directed sets together.
 *
 * **Empty masks** (MONAI returns NaN/∞ and medpy raises; a benchmark needs a number):
 * both empty → Dice 1, HD95 0; exactly one empty → Dice 0, HD95 = the image diagonal
 * √(W² + H²), a distance no non-empty pair can reach, so an empty prediction is the worst
 * possible outcome in both metrics. These values enter every mean like any other pair (nothing
 * is dropped, which would flatter a method that returns nothing on hard objects); aggregation
 * counts such pairs (`emptyPred`) so that reports can show them. In the protocol the ground truth
 * is never empty, so only the "prediction empty" row applies there.
 *
 * **Aggregation** (`aggregateScores`): per seed, the mean over a class's samples; then mean and
 * sample standard deviation (ddof = 1) over seeds, per class; "Avg." is the per-seed mean of the
 * class means (macro), then mean ± std over seeds.
 */
export { type BinaryMask, emptyMask, checkMask, checkSameSize, countForeground, masksEqual } from '@rpsam2/data';
// The exact EDT lives in @rpsam2/sam2 (shared with its prompt sampler); re-exported unchanged.
export { squaredDistanceTransform } from '@rpsam2/sam2';
export { maskBoundary } from './boundary.js';
export { percentile, percentileOfSorted } from './percentile.js';
export { dice, diceFromCounts, overlapCounts, type OverlapCounts } from './dice.js';
export { surfaceDistances, hd95FromDistances, type SurfaceDistances, type Hd95 } from './hausdorff.js';
export { maskMetrics, emptyMaskHd95, emptyMaskDice, type MaskMetrics, type EmptyCase } from './mask-metrics.js';
export {
  aggregateScores,
  mean,
  sampleStd,
  meanStd,
  type SampleScore,
  type MeanStd,
  type SeedMeans,
  type RowSummary,
  type AggregateResult,
} from './aggregate.js';
