/**
 * Simulated prompts for SAM 2 training, on the CPU, as the official training code draws them
 * (`sam2/modeling/sam2_utils.py`, called from `training/model/sam2.py`):
 *
 * - {@link firstClick}: one positive click uniform over the object (`get_next_point(gt, None,
 *   "uniform")`, the initial click of `prepare_prompt_inputs`);
 * - {@link correctionClick}: one click from the error between prediction and ground truth
 *   (`sample_random_points_from_errors`, mode `'uniform'`, what training uses; or
 *   `sample_one_point_from_error_center`, mode `'center'`, the RITM rule used at evaluation);
 * - {@link noisyBox}: the object's tight box with each corner coordinate jittered
 *   (`sample_box_points`, noise 0.1 of the box side, at most 20 px).
 *
 * Coordinates follow SAM 2's point convention: a click on pixel (column x, row y) is the point
 * (x, y) with integer x, y, and boxes are [x0, y0, x1, y1] in the same units (inclusive pixel
 * indices of the tight box, then jittered). The prompt encoder adds the +0.5 that moves a point
 * to the pixel centre itself, so these values go to it unchanged (in the frame of the mask).
 */
import { squaredDistanceTransform } from '../image/distance-transform.js';
import { maskBounds } from '../image/mask-bounds.js';

/** A source of uniform numbers in [0, 1) (the trainer passes its own seeded generator). */
export interface PromptRng {
  /** The next number, uniform in [0, 1). */
  next(): number;
}

/** A binary mask, row-major: pixel (x, y) is `data[y * width + x]`; non-zero is foreground. */
export interface PromptMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A simulated click: pixel (x, y) and its label (1 positive, 0 negative). */
export interface SampledClick {
  x: number;
  y: number;
  label: 0 | 1;
}

/**
 * How a correction click is chosen: `'uniform'` draws it uniformly over the error pixels (the
 * official training rule), `'center'` takes the error pixel farthest from its region's boundary
 * (the official evaluation rule, from RITM).
 */
export type CorrectionMode = 'uniform' | 'center';

function checkMask(m: PromptMask, op: string, what: string): void {
  if (!m || typeof m !== 'object') throw new TypeError(`${op}: ${what} must be a { width, height, data } mask`);
  const { width, height, data } = m;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${op}: ${what} has size ${width}×${height}; width and height must be positive integers`);
  }
  if (!(data instanceof Uint8Array)) throw new TypeError(`${op}: ${what}.data must be a Uint8Array`);
  if (data.length !== width * height) {
    throw new RangeError(`${op}: ${what} has ${data.length} values for ${width}×${height} (expected ${width * height})`);
  }
}

function draw(rng: PromptRng, op: string): number {
  const u = rng.next();
  if (!(u >= 0 && u < 1)) throw new RangeError(`${op}: rng.next() returned ${u}, expected a number in [0, 1)`);
  return u;
}

/** The k-th (0-based, row-major) pixel where `inside(i)` holds, k uniform over their `count`. */
function pickUniform(n: number, count: number, inside: (i: number) => boolean, rng: PromptRng, op: string): number {
  const k = Math.min(Math.floor(draw(rng, op) * count), count - 1);
  for (let i = 0, seen = 0; i < n; i++) {
    if (inside(i) && seen++ === k) return i;
  }
  throw new Error(`${op}: internal error, pixel ${k} of ${count} not found`);
}

function count(n: number, inside: (i: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (inside(i)) c++;
  return c;
}

/**
 * A positive click drawn uniformly over the object's pixels (each foreground pixel with
 * probability 1/area; one `rng.next()`). Throws on an empty mask.
 */
export function firstClick(mask: PromptMask, rng: PromptRng): SampledClick {
  const op = 'firstClick';
  checkMask(mask, op, 'mask');
  const { width, data } = mask;
  const inside = (i: number) => data[i] !== 0;
  const area = count(data.length, inside);
  if (area === 0) throw new RangeError(`${op}: the ${mask.width}×${mask.height} mask is empty, there is no object to click`);
  const i = pickUniform(data.length, area, inside, rng, op);
  return { x: i % width, y: Math.floor(i / width), label: 1 };
}

/**
 * Squared distance (pixels²) from each pixel of an error region to the nearest pixel outside it,
 * the image border counting as outside (the official code pads the error map with a 1-pixel ring
 * of zeros before `cv2.distanceTransform(…, DIST_L2, 0)`); 0 outside the region. `outside(i)`
 * holds for the pixels outside the region (the features of the transform).
 */
function depthInRegion(n: number, width: number, height: number, outside: (i: number) => boolean): Float64Array {
  const features = new Uint8Array(n);
  for (let i = 0; i < n; i++) features[i] = outside(i) ? 1 : 0;
  return squaredDistanceTransform(features, width, height, { outsideIsFeature: true });
}

/** Index of the largest value (the first one on ties, as np.argmax) and that value. */
function argmaxFirst(a: Float64Array): { index: number; value: number } {
  let index = 0;
  let value = a[0];
  for (let i = 1; i < a.length; i++) if (a[i] > value) { value = a[i]; index = i; }
  return { index, value };
}

/**
 * One correction click from the error between `gt` and `pred` (`pred` null = an empty
 * prediction, the official way to sample from the ground truth instead of the error):
 * false negatives (gt ∧ ¬pred) give positive clicks (label 1), false positives (¬gt ∧ pred)
 * negative ones (label 0).
 *
 * - `'uniform'` (default; `sample_random_points_from_errors`, the training rule): a pixel drawn
 *   uniformly over FN ∪ FP, so the error type is picked in proportion to its area; one
 *   `rng.next()`.
 * - `'center'` (`sample_one_point_from_error_center`, the evaluation rule): the pixel with the
 *   largest distance to its error region's boundary (image border included), over FN and over
 *   FP; positive when the FN maximum is strictly larger, the first pixel in row-major order on
 *   ties; no randomness.
 *
 * When the prediction is exactly right, the official uniform rule clicks a negative uniformly
 * over the background, and so does `'uniform'` here; `'center'` then takes the background pixel
 * farthest from the object (the official center rule would return pixel (0, 0) as a negative even
 * inside the object). Throws when there is neither an error nor a background pixel (a mask
 * covering the whole image, predicted exactly), and on masks of different sizes.
 */
export function correctionClick(gt: PromptMask, pred: PromptMask | null, rng: PromptRng, mode: CorrectionMode = 'uniform'): SampledClick {
  const op = 'correctionClick';
  checkMask(gt, op, 'gt');
  if (pred !== null) {
    checkMask(pred, op, 'pred');
    if (pred.width !== gt.width || pred.height !== gt.height) {
      throw new RangeError(`${op}: pred is ${pred.width}×${pred.height} but gt is ${gt.width}×${gt.height}`);
    }
  }
  if (mode !== 'uniform' && mode !== 'center') throw new TypeError(`${op}: mode must be 'uniform' or 'center', got '${String(mode)}'`);
  const { width, height } = gt;
  const n = width * height;
  const g = gt.data;
  const p = pred?.data ?? null;
  const fn = (i: number) => g[i] !== 0 && (p === null || p[i] === 0);
  const fp = (i: number) => g[i] === 0 && p !== null && p[i] !== 0;
  const error = (i: number) => fn(i) || fp(i);
  const at = (i: number, label: 0 | 1): SampledClick => ({ x: i % width, y: Math.floor(i / width), label });

  const errors = count(n, error);
  if (errors === 0) {
    const background = (i: number) => g[i] === 0;
    const bg = count(n, background);
    if (bg === 0) throw new RangeError(`${op}: the prediction matches a ${width}×${height} gt that covers the whole image: no error and no background to click`);
    if (mode === 'uniform') return at(pickUniform(n, bg, background, rng, op), 0);
    // The background region: its outside is the object.
    return at(argmaxFirst(depthInRegion(n, width, height, (i) => g[i] !== 0)).index, 0);
  }
  if (mode === 'uniform') {
    const i = pickUniform(n, errors, error, rng, op);
    return at(i, fn(i) ? 1 : 0);
  }
  // Squared distances are monotone in the distances, so the comparison is the official one.
  const bestFn = argmaxFirst(depthInRegion(n, width, height, (i) => !fn(i)));
  const bestFp = argmaxFirst(depthInRegion(n, width, height, (i) => !fp(i)));
  return bestFn.value > bestFp.value ? at(bestFn.index, 1) : at(bestFp.index, 0);
}

/**
 * The tight box of the mask's foreground, [x0, y0, x1, y1] as inclusive pixel indices (the
 * official `mask_to_box`; {@link maskBounds} in SAM 2's tuple form). Throws on an empty mask.
 */
export function tightBox(mask: PromptMask): [number, number, number, number] {
  checkMask(mask, 'tightBox', 'mask');
  const b = maskBounds(mask);
  if (!b) throw new RangeError(`tightBox: the ${mask.width}×${mask.height} mask is empty, it has no box`);
  return [b.x0, b.y0, b.x1, b.y1];
}

/**
 * A box prompt as the official `sample_box_points` draws it: the tight box [x0, y0, x1, y1]
 * ({@link tightBox}), each coordinate moved by `(2u − 1)·min(noise·side, maxNoise)` with u from
 * `rng.next()` (drawn in the order x0, y0, x1, y1; side = x1 − x0 for x, y1 − y0 for y), then
 * clamped to [0, width − 1] × [0, height − 1]. `noise` 0 returns the tight box and draws nothing.
 * The official defaults are noise 0.1 and at most 20 px (at 1024-pixel images). Throws on an
 * empty mask.
 */
export function noisyBox(mask: PromptMask, rng: PromptRng, noise = 0.1, maxNoise = 20): [number, number, number, number] {
  const op = 'noisyBox';
  if (!Number.isFinite(noise) || noise < 0) throw new RangeError(`${op}: noise must be a finite number ≥ 0, got ${noise}`);
  if (!(maxNoise >= 0)) throw new RangeError(`${op}: maxNoise must be ≥ 0 pixels, got ${maxNoise}`);
  checkMask(mask, op, 'mask');
  const box = tightBox(mask);
  if (noise === 0) return box;
  const dx = Math.min((box[2] - box[0]) * noise, maxNoise);
  const dy = Math.min((box[3] - box[1]) * noise, maxNoise);
  const limit = [mask.width - 1, mask.height - 1];
  return box.map((c, j) => {
    const moved = c + (2 * draw(rng, op) - 1) * (j % 2 === 0 ? dx : dy);
    return Math.min(Math.max(moved, 0), limit[j % 2]);
  }) as [number, number, number, number];
}
