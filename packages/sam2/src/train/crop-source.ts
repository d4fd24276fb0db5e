/**
 * Zoomed training crops: a source that hands out, for a share of its samples, a window of the
 * inner source's frame around a randomly chosen instrument instead of the whole frame.
 *
 * Why: a recipe that trains most steps at a small input (256 px, 4× cheaper than 512 px) sees
 * thin instruments at half the thickness the shipped model sees them — one pixel or less, which
 * no mask decoder can learn. A window of half the frame's width and height, resized to the same
 * 256 px input, shows them at the shipped size's scale (and a frame's objects at new positions
 * and cut at the border, as SAM's own scale augmentation does). The rest of the samples stay
 * whole frames, so the model also sees the full-frame layout it is evaluated on.
 *
 * Deterministic per index (seeded by (seed, index)), so resumed runs continue exactly.
 */
import { SeededRandom, mixSeed } from '@rpsam2/tensor';
import type { TrainObject, TrainSample, TrainSource } from './data.js';

/** Settings of {@link CropTrainSource}. */
export interface CropOptions {
  /** Share of samples that are crops (0…1). */
  probability: number;
  /** Window side as a fraction of the frame's width and height (0 < f ≤ 1). */
  fraction: number;
  /** Seed of the crop draws. */
  seed?: number;
}

/** A {@link TrainSource} that zooms into a share of its inner source's frames. */
export class CropTrainSource implements TrainSource {
  readonly description: string;

  constructor(
    readonly inner: TrainSource,
    readonly options: CropOptions,
  ) {
    const { probability: p, fraction: f } = options;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`CropTrainSource: probability must be in [0, 1], got ${p}`);
    if (!(f > 0 && f <= 1)) throw new RangeError(`CropTrainSource: fraction must be in (0, 1], got ${f}`);
    this.description = `${inner.description}; ${Math.round(p * 100)}% zoomed to a window of ${f} of the frame's sides around an instrument (crop seed ${options.seed ?? 0})`;
  }

  /**
   * The inner source's sample `index`, or (with the configured probability, drawn from (seed, index))
   * a window of it around a random instrument pixel; the same result for the same index.
   */
  async sample(index: number): Promise<TrainSample> {
    const sample = await this.inner.sample(index);
    const rng = new SeededRandom(mixSeed(this.options.seed ?? 0, index));
    if (rng.next() >= this.options.probability) return sample;
    const { width, height } = sample.image;
    const cw = Math.max(1, Math.round(width * this.options.fraction));
    const ch = Math.max(1, Math.round(height * this.options.fraction));
    // Centre the window near a pixel of a random instrument (any object if there is none), so the
    // crop always has something to prompt; the offset inside the window is uniform.
    const candidates = sample.objects.filter((o) => o.kind === 'instrument' && o.mask.some((v) => v !== 0));
    const pool = candidates.length > 0 ? candidates : sample.objects.filter((o) => o.mask.some((v) => v !== 0));
    if (pool.length === 0) return sample;
    const anchor = pixelOf(pool[rng.int(pool.length)].mask, rng);
    const ax = anchor % width;
    const ay = Math.floor(anchor / width);
    const x0 = clamp(ax - rng.int(cw), 0, width - cw);
    const y0 = clamp(ay - rng.int(ch), 0, height - ch);
    return cropSample(sample, x0, y0, cw, ch);
  }
}

/** The window [x0, x0+w) × [y0, y0+h) of a sample; objects left empty by the window are dropped. */
export function cropSample(sample: TrainSample, x0: number, y0: number, w: number, h: number): TrainSample {
  const { width, height, channels, data } = sample.image;
  if (!(Number.isInteger(x0) && Number.isInteger(y0) && x0 >= 0 && y0 >= 0 && w >= 1 && h >= 1 && x0 + w <= width && y0 + h <= height)) {
    throw new RangeError(`cropSample: window ${w}×${h} at (${x0}, ${y0}) is not inside the ${width}×${height} frame`);
  }
  const pixels = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) pixels.set(data.subarray(((y0 + y) * width + x0) * channels, ((y0 + y) * width + x0 + w) * channels), y * w * channels);
  const objects: TrainObject[] = [];
  for (const o of sample.objects) {
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) mask.set(o.mask.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
    if (mask.some((v) => v !== 0)) objects.push({ ...o, mask });
  }
  return { image: { width: w, height: h, channels, data: pixels }, objects };
}

/** Index of a uniformly drawn nonzero pixel of a mask with at least one. */
function pixelOf(mask: Uint8Array, rng: SeededRandom): number {
  let count = 0;
  for (const v of mask) if (v !== 0) count++;
  let k = rng.int(count);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0 && k-- === 0) return i;
  throw new Error('pixelOf: empty mask');
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
