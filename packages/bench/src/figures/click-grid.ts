/**
 * Clicks on a regular grid over an object, for the Dice-over-click-position heatmaps (every grid
 * point inside the mask is one simulated click).
 */
import { maskBounds, type MaskBounds } from '@rpsam2/sam2';
import { checkMask, type BinaryMask } from '@rpsam2/data';
import type { Click } from '../protocol/clicks.js';

/** Below this many points the grid is refined (spacing halved). */
export const MIN_GRID_POINTS = 8;

/** A grid and the spacing it ended up with. */
export interface ClickGridResult {
  clicks: Click[];
  /** The spacing used: the requested one, or a halving of it (never below 1 px). */
  spacing: number;
}

/**
 * Grid clicks inside a mask, with the spacing actually used.
 *
 * Along each axis of the mask's bounding box [x0, x1] (pixel indices), the grid has
 * n = ⌊(x1 − x0)/s⌋ + 1 columns at x0 + o + k·s, where the offset o = ((x1 − x0) − (n − 1)·s)/2
 * centres the grid on the box; each position is rounded to the nearest pixel (halves up). The
 * grid points whose pixel is foreground are the clicks, row-major (y, then x).
 *
 * When fewer than `minPoints` (default {@link MIN_GRID_POINTS}) points fall inside, the spacing
 * is halved, down to 1 px (where every foreground pixel is a click): a thin or small object still
 * gets a readable heatmap, and fewer points are returned only when the mask has fewer pixels.
 * Throws on an empty mask or a spacing that is not a finite number ≥ 1.
 */
export function clickGridWithSpacing(mask: BinaryMask, spacing: number, minPoints = MIN_GRID_POINTS): ClickGridResult {
  checkMask(mask, 'clickGrid: mask');
  if (!Number.isFinite(spacing) || spacing < 1) throw new Error(`clickGrid: spacing must be a finite number ≥ 1 px, got ${spacing}`);
  if (!Number.isInteger(minPoints) || minPoints < 1) throw new Error(`clickGrid: minPoints must be a positive integer, got ${minPoints}`);
  const box = maskBounds(mask);
  if (!box) throw new Error(`clickGrid: the ${mask.width}×${mask.height} mask is empty`);
  let s = spacing;
  for (;;) {
    const clicks = gridInside(mask, box, s);
    if (clicks.length >= minPoints || s === 1) return { clicks, spacing: s };
    s = Math.max(1, s / 2);
  }
}

/**
 * Grid clicks inside a mask (see {@link clickGridWithSpacing}, which also returns the spacing
 * used after halving): `spacing` px apart, centred on the mask's bounding box, halved until at
 * least 8 points fall inside (or down to 1 px).
 */
export function clickGrid(mask: BinaryMask, spacing: number): Click[] {
  return clickGridWithSpacing(mask, spacing).clicks;
}

/** Grid positions along [a, b] with spacing s, centred, rounded to pixels (distinct for s ≥ 1). */
export function gridPositions(a: number, b: number, s: number): number[] {
  const span = b - a;
  const n = Math.floor(span / s + 1e-9) + 1;
  const offset = (span - (n - 1) * s) / 2;
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.round(a + offset + k * s));
  return out;
}

function gridInside(mask: BinaryMask, box: MaskBounds, s: number): Click[] {
  const xs = gridPositions(box.x0, box.x1, s);
  const ys = gridPositions(box.y0, box.y1, s);
  const out: Click[] = [];
  for (const y of ys) for (const x of xs) if (mask.data[y * mask.width + x] !== 0) out.push({ x, y });
  return out;
}
