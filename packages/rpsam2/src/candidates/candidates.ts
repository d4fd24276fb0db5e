/**
 * RP-SAM2's candidate points: where a single click gives frozen SAM 2 (almost) its best mask.
 *
 * 1. A grid of step g: pixel indices k·g + ⌊g/2⌋ on both axes (row-major: y outer, x inner), kept
 *    where the ground truth is 1.
 * 2. For each grid point, SAM 2 with that single positive click (multimask output, the mask with
 *    the highest predicted IoU, its logits upsampled bilinearly to H0×W0, > 0) and the Dice of
 *    that mask against the ground truth.
 * 3. Candidates: the grid points whose Dice is ≥ max − ε.
 *
 * Clicks are decoded in batches (one prompt-encoder + mask-decoder pass per batch) and the Dice
 * is reduced on the GPU; only B numbers per batch are read back.
 */
import { matmul, noGrad, reshape, sum, tensor, tidy } from '@rpsam2/tensor';
import { clickPrompt, fullSizeMask, type Sam2ImagePredictor } from '@rpsam2/sam2';
import { normalizeClicks } from './clicks.js';

/**
 * Options of {@link computeCandidates}: the grid step, the Dice tolerance ε, the decode batch size and
 * the predictor image.
 */
export interface CandidateOptions {
  /** Grid step g in pixels (default 8). */
  gridStep?: number;
  /** Tolerance below the best Dice (default 0.005). */
  epsilon?: number;
  /**
   * Clicks per decode call (default 32; lowered automatically so that the upsampled masks of a
   * batch stay below 32M elements).
   */
  batchSize?: number;
  /** Which of the predictor's images (default 0). */
  imageIndex?: number;
}

/** The candidate set of one ground-truth mask. */
export interface CandidateSet {
  /** [G, 2] grid points inside the mask, (x, y) pixel indices. */
  gridPx: Float32Array;
  /** [G] Dice of SAM 2's mask for a click at each grid point. */
  dice: Float32Array;
  /** [G] 1 where the grid point is a candidate. */
  isCandidate: Uint8Array;
  /** [C, 2] the candidates, normalised (x/W0, y/H0). */
  norm: Float32Array;
  /** Number of grid points G. */
  gridCount: number;
  /** Number of candidates C. */
  count: number;
}

/** Grid points (k·g + ⌊g/2⌋ on both axes) where mask (H×W, row-major, nonzero = inside) is set: [G·2] as (x, y). */
export function gridPoints(mask: ArrayLike<number>, height: number, width: number, step = 8): Float32Array {
  if (mask.length !== height * width) throw new RangeError(`gridPoints: mask has ${mask.length} values, expected ${height}×${width}`);
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`gridPoints: step ${step} must be a positive integer`);
  const pts: number[] = [];
  const off = Math.floor(step / 2);
  for (let y = off; y < height; y += step) {
    for (let x = off; x < width; x += step) if (mask[y * width + x]) pts.push(x, y);
  }
  return Float32Array.from(pts);
}

/** Indices-free selection: 1 where dice ≥ max(dice) − epsilon. */
export function selectCandidates(dice: ArrayLike<number>, epsilon = 0.005): Uint8Array {
  let best = -Infinity;
  for (let i = 0; i < dice.length; i++) best = Math.max(best, dice[i]);
  return Uint8Array.from({ length: dice.length }, (_, i) => (dice[i] >= best - epsilon ? 1 : 0));
}

/**
 * Dice (hard, > 0 logits at the original size) of SAM 2's best-IoU multimask output for a single
 * positive click at each point of `pointsPx` ([G·2], (x, y) pixels) against `mask` (H0×W0).
 * Dice is 2|A∩B|/(|A| + |B|), 1 when both masks are empty.
 */
export async function clickDice(
  predictor: Sam2ImagePredictor,
  pointsPx: Float32Array,
  mask: ArrayLike<number>,
  options: { batchSize?: number; imageIndex?: number } = {},
): Promise<Float32Array> {
  const imageIndex = options.imageIndex ?? 0;
  const [h, w] = predictor.originalSizes[imageIndex] ?? [0, 0];
  if (mask.length !== h * w) throw new RangeError(`clickDice: mask has ${mask.length} values, the image is ${h}×${w}`);
  const g = pointsPx.length / 2;
  const batch = Math.max(1, Math.min(options.batchSize ?? 32, Math.floor(32 * 1024 * 1024 / (h * w))));
  let gtSum = 0;
  const gtData = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    gtData[i] = mask[i] ? 1 : 0;
    gtSum += gtData[i];
  }
  const gt = tensor(gtData, [h * w, 1]);
  const dice = new Float32Array(g);
  try {
    for (let s = 0; s < g; s += batch) {
      const b = Math.min(batch, g - s);
      const norm = normalizeClicks(pointsPx.subarray(2 * s, 2 * (s + b)), h, w);
      const { inter, area } = noGrad(() =>
        tidy(() => {
          const r = predictor.decodeBest(clickPrompt(tensor(norm, [b, 2])), imageIndex);
          const pred = reshape(fullSizeMask(r.selected, [h, w]), [b, h * w]);
          // |A ∩ B| as a product with the ground-truth column: one tiled matmul instead of a
          // broadcast multiply and a reduction over b·H·W elements.
          return { inter: matmul(pred, gt), area: sum(pred, 1) };
        }),
      );
      try {
        const [iv, av] = await Promise.all([inter.data(), area.data()]);
        for (let i = 0; i < b; i++) {
          const den = av[i] + gtSum;
          dice[s + i] = den === 0 ? 1 : (2 * iv[i]) / den;
        }
      } finally {
        inter.dispose();
        area.dispose();
      }
    }
  } finally {
    gt.dispose();
  }
  return dice;
}

/**
 * Steps 1–3 above for the ground truth `mask` (H0×W0) of the predictor's image. A mask that no
 * grid point falls in gives no candidates (count 0): the distance term has nothing to measure
 * against then, so train such a sample with `useDist: false` (or a finer grid).
 */
export async function computeCandidates(predictor: Sam2ImagePredictor, mask: ArrayLike<number>, options: CandidateOptions = {}): Promise<CandidateSet> {
  const imageIndex = options.imageIndex ?? 0;
  const [h, w] = predictor.originalSizes[imageIndex] ?? [0, 0];
  const gridPx = gridPoints(mask, h, w, options.gridStep ?? 8);
  const gridCount = gridPx.length / 2;
  if (gridCount === 0) {
    return { gridPx, dice: new Float32Array(0), isCandidate: new Uint8Array(0), norm: new Float32Array(0), gridCount: 0, count: 0 };
  }
  const dice = await clickDice(predictor, gridPx, mask, { batchSize: options.batchSize, imageIndex });
  const { isCandidate, candidates } = candidatesFromDice({ gridPx, dice }, [h, w], options.epsilon ?? 0.005);
  return { gridPx, dice, isCandidate, norm: candidates, gridCount, count: candidates.length / 2 };
}

/**
 * The candidates among grid points `gridPx` ([G·2] pixels) with click Dice `dice` ([G]): those
 * within `epsilon` of the best, flagged and normalised (x/W, y/H) for an image of `origHW` [H, W].
 * Also re-selects a feature cache's candidates with another ε from its stored per-grid Dice.
 */
export function candidatesFromDice(o: { gridPx: Float32Array; dice: ArrayLike<number> }, origHW: [number, number], epsilon: number): { isCandidate: Uint8Array; candidates: Float32Array } {
  const isCandidate = selectCandidates(o.dice, epsilon);
  const [h, w] = origHW;
  const out: number[] = [];
  isCandidate.forEach((c, i) => {
    if (c) out.push(o.gridPx[2 * i] / w, o.gridPx[2 * i + 1] / h);
  });
  return { isCandidate, candidates: Float32Array.from(out) };
}

/** An object's candidate grid on the host: grid points normalised (x/W, y/H) [G·2] and their click Dice [G]. */
export interface CandidateGrid {
  norm: Float32Array;
  dice: Float32Array;
}

/** The grid points of `gridPx` ([G·2] pixels) normalised by an image of `origHW` [H, W]. */
export function normaliseGrid(gridPx: Float32Array, origHW: [number, number]): Float32Array {
  const [h, w] = origHW;
  return Float32Array.from(gridPx, (v, i) => (i % 2 === 0 ? v / w : v / h));
}

/**
 * Whether grid point `i` of `points` ([G·2], x/y) lies within `rx`, `ry` of (x, y) on each axis:
 * the box a shift bounded per axis can reach. Units are the caller's (pixels or normalised).
 */
export function inReachBox(points: ArrayLike<number>, i: number, x: number, y: number, rx: number, ry: number): boolean {
  return Math.abs(points[2 * i] - x) <= rx && Math.abs(points[2 * i + 1] - y) <= ry;
}

/** The best Dice among the grid points in the reach box of (x, y) ({@link inReachBox}); −∞ when none is. */
export function bestInReach(points: ArrayLike<number>, dice: ArrayLike<number>, x: number, y: number, rx: number, ry: number): number {
  let best = -Infinity;
  for (let i = 0; i < dice.length; i++) if (dice[i] > best && inReachBox(points, i, x, y, rx, ry)) best = dice[i];
  return best;
}

/**
 * The candidates a click can reach: among the grid points within `reach` of the click on both
 * axes (normalised units, the shift block's per-axis bound), those whose Dice is within `epsilon`
 * of the best Dice in reach — normalised [C·2]. The paper's candidates are the object's global
 * best; on long instruments they often lie beyond the bound, and pulling a click towards them
 * leaves it between good spots, off the instrument. When no grid point is in reach, null (the
 * caller falls back to the global candidates).
 */
export function reachableCandidates(grid: CandidateGrid, click: readonly [number, number], reach: number, epsilon: number): Float32Array | null {
  const [x, y] = click;
  const best = bestInReach(grid.norm, grid.dice, x, y, reach, reach);
  if (best === -Infinity) return null;
  const out: number[] = [];
  for (let i = 0; i < grid.dice.length; i++) {
    if (grid.dice[i] >= best - epsilon && inReachBox(grid.norm, i, x, y, reach, reach)) out.push(grid.norm[2 * i], grid.norm[2 * i + 1]);
  }
  return Float32Array.from(out);
}
