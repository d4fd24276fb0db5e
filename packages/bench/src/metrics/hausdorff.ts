/**
 * Surface distances and the 95th-percentile Hausdorff distance (HD95) between two non-empty
 * masks, in pixels, exactly (exact EDT, numpy percentile). The empty-mask policy lives in
 * `mask-metrics.ts`.
 */
import { maskBounds, squaredDistanceTransform, unionBounds, type MaskBounds } from '@rpsam2/sam2';
import { checkSameSize, type BinaryMask } from '@rpsam2/data';
import { maskBoundary } from './boundary.js';
import { percentileOfSorted } from './percentile.js';

/** Both directed sets of boundary-to-boundary distances, each sorted ascending. */
export interface SurfaceDistances {
  /** For each boundary pixel of pred: distance to the nearest boundary pixel of gt. */
  predToGt: Float64Array;
  /** For each boundary pixel of gt: distance to the nearest boundary pixel of pred. */
  gtToPred: Float64Array;
}

/**
 * Directed boundary distances (MONAI convention): boundaries from {@link maskBoundary},
 * Euclidean distance between pixel centres from each boundary pixel of one mask to the nearest
 * boundary pixel of the other. Both masks must be non-empty (throws otherwise).
 */
export function surfaceDistances(pred: BinaryMask, gt: BinaryMask): SurfaceDistances {
  checkSameSize(pred, gt, 'surfaceDistances');
  // Boundaries on the full image (the image border matters), then the EDTs on the bounding box
  // of both boundaries only: every site and every query pixel lies inside it, so distances are
  // unchanged, and small objects in large frames cost little.
  const bp = maskBoundary(pred);
  const bg = maskBoundary(gt);
  const { width, height } = pred;
  const bounds = unionBounds(maskBounds({ width, height, data: bp }), maskBounds({ width, height, data: bg }));
  if (!bounds) throw new Error('surfaceDistances: both masks are empty (apply the empty-mask policy first)');
  const box = cropBox(bounds);
  const cp = crop(bp, pred.width, box);
  const cg = crop(bg, pred.width, box);
  const predToGt = directed(cp, cg, box.w, box.h);
  const gtToPred = directed(cg, cp, box.w, box.h);
  if (predToGt.length === 0 || gtToPred.length === 0) {
    throw new Error(`surfaceDistances: ${predToGt.length === 0 ? 'pred' : 'gt'} mask is empty (apply the empty-mask policy first)`);
  }
  return { predToGt, gtToPred };
}

interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/** The crop rectangle of inclusive bounds: columns x0 … x0 + w − 1, rows y0 … y0 + h − 1. */
function cropBox(b: MaskBounds): Box {
  return { x0: b.x0, y0: b.y0, w: b.x1 - b.x0 + 1, h: b.y1 - b.y0 + 1 };
}

function crop(src: Uint8Array, width: number, box: Box): Uint8Array {
  const out = new Uint8Array(box.w * box.h);
  for (let y = 0; y < box.h; y++) {
    const from = (box.y0 + y) * width + box.x0;
    out.set(src.subarray(from, from + box.w), y * box.w);
  }
  return out;
}

/** Distances from each `from` pixel to the nearest `to` pixel, sorted ascending. */
function directed(from: Uint8Array, to: Uint8Array, width: number, height: number): Float64Array {
  let n = 0;
  for (let i = 0; i < from.length; i++) if (from[i]) n++;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const sq = squaredDistanceTransform(to, width, height);
  let k = 0;
  for (let i = 0; i < from.length; i++) if (from[i]) out[k++] = Math.sqrt(sq[i]);
  return out.sort();
}

/** HD95 in both conventions, from surface distances. */
export interface Hd95 {
  /** MONAI: max of the two directed 95th percentiles. */
  hd95: number;
  /** medpy: 95th percentile of both directed sets pooled together. */
  hd95Pooled: number;
}

/** HD95 (MONAI) and pooled HD95 (medpy) from {@link surfaceDistances}. */
export function hd95FromDistances(d: SurfaceDistances): Hd95 {
  const hd95 = Math.max(percentileOfSorted(d.predToGt, 95), percentileOfSorted(d.gtToPred, 95));
  const pooled = new Float64Array(d.predToGt.length + d.gtToPred.length);
  pooled.set(d.predToGt, 0);
  pooled.set(d.gtToPred, d.predToGt.length);
  pooled.sort();
  return { hd95, hd95Pooled: percentileOfSorted(pooled, 95) };
}
