/**
 * How much better a single click could do for an object, from its candidate grid (the Dice SAM 2
 * gives for a click at each grid point inside the mask, as cached for training): the expected
 * Dice of a uniform click, the best click anywhere, the best click within a shift block's reach
 * (what a perfect block with that bound could get), and a fixed rule — move the click towards
 * the mask's centroid, at most `reach` per axis — that needs no training. These bound what
 * training a shift block can gain on a dataset, and say whether the gain is in reach at all.
 */
import { bestInReach } from './candidates.js';
import { maskCentroid } from './clicks.js';

/** An object's candidate grid: grid points inside its mask (pixels, [G·2]) and their click Dice [G]. */
export interface HeadroomInput {
  gridPx: Float32Array;
  dice: ArrayLike<number>;
  /** The object's mask (H×W, row-major, nonzero = inside): for the centroid rule. */
  mask: ArrayLike<number>;
}

/** Means over an object's grid points (each standing for a click there). */
export interface ObjectHeadroom {
  /** Grid points (clicks) measured. */
  clicks: number;
  /** Mean Dice: a uniform click's expected Dice. */
  mean: number;
  /** Standard deviation of the Dice over the grid (click spread). */
  spread: number;
  /** The best click's Dice. */
  best: number;
  /** Mean over clicks of the best Dice within the reach box: a perfect block with this bound. */
  reachBest: number;
  /** Mean over clicks of the Dice after moving towards the mask centroid (≤ reach per axis). */
  towardCentroid: number;
}

/**
 * The headroom of one object (see the module comment). `reach` is per axis in normalised units
 * (0.1 = the paper's shift bound: 0.1·W in x, 0.1·H in y); a moved click takes the Dice of the
 * grid point nearest to it. Null for an object without grid points.
 */
export function objectHeadroom(o: HeadroomInput, origHW: [number, number], reach: number): ObjectHeadroom | null {
  const [h, w] = origHW;
  const g = o.dice.length;
  if (o.gridPx.length !== 2 * g) throw new RangeError(`objectHeadroom: ${o.gridPx.length / 2} grid points for ${g} Dice values`);
  if (o.mask.length !== h * w) throw new RangeError(`objectHeadroom: mask has ${o.mask.length} values for ${h}×${w}`);
  if (!(reach >= 0)) throw new RangeError(`objectHeadroom: reach ${reach} must be ≥ 0`);
  if (g === 0) return null;
  const rx = reach * w;
  const ry = reach * h;
  const [ncx, ncy] = maskCentroid(o.mask, h, w);
  const cx = ncx * w;
  const cy = ncy * h;
  const nearest = (x: number, y: number): number => {
    let best = 0;
    let bd = Infinity;
    for (let j = 0; j < g; j++) {
      const d = (o.gridPx[2 * j] - x) ** 2 + (o.gridPx[2 * j + 1] - y) ** 2;
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    return o.dice[best];
  };
  const clampTo = (v: number, r: number) => Math.max(-r, Math.min(r, v));
  let sum = 0;
  let sq = 0;
  let best = -Infinity;
  let reachSum = 0;
  let centroidSum = 0;
  for (let i = 0; i < g; i++) {
    const x = o.gridPx[2 * i];
    const y = o.gridPx[2 * i + 1];
    const d = o.dice[i];
    sum += d;
    sq += d * d;
    best = Math.max(best, d);
    reachSum += bestInReach(o.gridPx, o.dice, x, y, rx, ry);
    centroidSum += nearest(x + clampTo(cx - x, rx), y + clampTo(cy - y, ry));
  }
  const mean = sum / g;
  return { clicks: g, mean, spread: Math.sqrt(Math.max(0, sq / g - mean * mean)), best, reachBest: reachSum / g, towardCentroid: centroidSum / g };
}

/** Means over objects of each headroom figure (objects weigh equally, as in the bench's mDSC). */
export function meanHeadroom(rows: readonly ObjectHeadroom[]): Omit<ObjectHeadroom, 'clicks'> & { objects: number; clicks: number } {
  const n = rows.length;
  const avg = (k: keyof ObjectHeadroom) => (n ? rows.reduce((a, r) => a + r[k], 0) / n : NaN);
  return { objects: n, clicks: rows.reduce((a, r) => a + r.clicks, 0), mean: avg('mean'), spread: avg('spread'), best: avg('best'), reachBest: avg('reachBest'), towardCentroid: avg('towardCentroid') };
}
