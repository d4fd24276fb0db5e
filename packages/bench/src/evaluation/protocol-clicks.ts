/**
 * The protocol's clicks: for each seed, one click drawn uniformly from the object's ground-truth
 * mask. Each (seed, image, object) has its own random stream (`Rng.derive`), so the click of an
 * object does not depend on which other images or objects are evaluated, and every method — and
 * every run, resumed or not — sees the same clicks.
 */
import { type BinaryMask, Rng } from '@rpsam2/data';
import { sampleClicks, type Click } from '../protocol/clicks.js';

/** The name of the click stream (part of the derivation key; recorded in config.json). */
export const CLICK_STREAM = 'table1-click';

/** The click of `seed` on object `objectIndex` of image `imageId`. */
export function protocolClick(mask: BinaryMask, seed: number, imageId: string, objectIndex: number): Click {
  return sampleClicks(mask, 1, Rng.derive(CLICK_STREAM, seed, imageId, objectIndex))[0];
}

/**
 * The point handed to the model for a click on pixel (x, y): (x + offset, y + offset). Offset 0
 * (the default) uses the pixel index, as RP-SAM2's training and SAM 2's own tools do; 0.5 would
 * use the pixel centre.
 */
export function clickPoint(c: Click, offset: number): [number, number] {
  return [c.x + offset, c.y + offset];
}
