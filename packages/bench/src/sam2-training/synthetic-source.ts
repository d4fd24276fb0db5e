/**
 * Synthetic training frames for SAM 2, rendered on demand: frame g of a (virtual) synthetic
 * dataset with the given seed, exactly as `bench generate` would write it, handed to the trainer
 * in memory (no files). Training and evaluation use different dataset seeds, so evaluation
 * frames are never seen in training.
 */
import type { TrainSample, TrainSource } from '@rpsam2/sam2';
import { SyntheticRenderer, objectMask, syntheticFrameOptions, type SyntheticDatasetOptions, type SyntheticFrame } from '../synthetic/index.js';
import { Rng } from '../protocol/rng.js';

/** Dataset seed of the default model's training frames. */
export const SAM2_TRAIN_DATA_SEED = 1001;
/** Dataset seed of its held-out evaluation frames. */
export const SAM2_EVAL_DATA_SEED = 2002;
/**
 * Instruments per training frame: 2–4, more than the evaluation's 1–3, so that a mask of "every
 * instrument" never passes for the clicked one and the decoder must follow the click.
 */
export const SAM2_TRAIN_INSTRUMENTS = { minInstruments: 2, maxInstruments: 4 } as const;

/** The frames of a synthetic dataset as a trainer source. */
export class SyntheticTrainSource implements TrainSource {
  private readonly renderer = new SyntheticRenderer();
  readonly description: string;

  constructor(readonly options: SyntheticDatasetOptions) {
    const o = { width: 1024, height: 768, minInstruments: 1, maxInstruments: 3, ...options };
    this.options = o;
    this.description = `synthetic surgical frames (generator v1, dataset seed ${o.seed ?? 0}, ${o.width}×${o.height}, ${o.minInstruments}–${o.maxInstruments} instruments)`;
  }

  /** Renders frame `index` (a fresh copy of the pixels: the renderer reuses its buffer). */
  frame(index: number): SyntheticFrame {
    const f = this.renderer.render(syntheticFrameOptions(this.options, index));
    return { ...f, rgb: f.rgb.slice() };
  }

  sample(index: number): TrainSample {
    const f = this.frame(index);
    return {
      image: { width: f.width, height: f.height, data: f.rgb, channels: 3 },
      objects: f.objects.map((o) => ({ mask: objectMask(f, o).data, kind: o.kind, classKey: o.classKey })),
    };
  }
}

/**
 * Training frames with mosaics mixed in: with probability `mosaic`, sample i is a 2×2 mosaic of
 * four half-size synthetic frames (8–16 instruments, four eyes) instead of one frame. On a single
 * frame a decoder can score well by returning "every instrument" or "the cornea" whatever the
 * click (semantic shortcuts: seen in training runs, where the three mask slots became three
 * classes); in a mosaic those masks are far from any one object, so following the click pays.
 */
export class MosaicTrainSource implements TrainSource {
  private readonly full: SyntheticTrainSource;
  private readonly tiles: SyntheticTrainSource;
  readonly description: string;

  constructor(
    options: SyntheticDatasetOptions,
    /** Probability that a sample is a mosaic (decided per index, deterministically). */
    readonly mosaic = 0.5,
  ) {
    const o = { width: 1024, height: 768, ...options };
    if (o.width % 2 || o.height % 2) throw new Error(`MosaicTrainSource: frame size ${o.width}×${o.height} must be even`);
    this.full = new SyntheticTrainSource(o);
    this.tiles = new SyntheticTrainSource({ ...o, seed: (o.seed ?? 0) + 1, width: o.width / 2, height: o.height / 2 });
    this.description = `${this.full.description}; ${Math.round(mosaic * 100)}% of samples are 2×2 mosaics of half-size frames (dataset seed ${(o.seed ?? 0) + 1})`;
  }

  sample(index: number): TrainSample {
    if (Rng.derive(this.full.options.seed ?? 0, 'mosaic', index).next() >= this.mosaic) return this.full.sample(index);
    const W = this.full.options.width!;
    const H = this.full.options.height!;
    const [w, h] = [W / 2, H / 2];
    const data = new Uint8Array(W * H * 3);
    const objects: TrainSample['objects'] = [];
    for (let t = 0; t < 4; t++) {
      const [ox, oy] = [(t % 2) * w, Math.floor(t / 2) * h];
      const s = this.tiles.sample(4 * index + t);
      for (let y = 0; y < h; y++) data.set(s.image.data.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * W + ox) * 3);
      for (const o of s.objects) {
        const mask = new Uint8Array(W * H);
        for (let y = 0; y < h; y++) mask.set(o.mask.subarray(y * w, (y + 1) * w), (oy + y) * W + ox);
        objects.push({ ...o, mask });
      }
    }
    return { image: { width: W, height: H, data, channels: 3 }, objects };
  }
}
