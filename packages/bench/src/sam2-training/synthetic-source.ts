/**
 * Synthetic training frames for SAM 2, rendered on demand: frame g of a (virtual) synthetic
 * dataset with the given seed, exactly as `bench generate` would write it, handed to the trainer
 * in memory (no files). Training and evaluation use different dataset seeds, so evaluation
 * frames are never seen in training.
 */
import type { TrainSample, TrainSource } from '@rpsam2/sam2';
import { SyntheticRenderer, objectMask, syntheticFrameOptions, type SyntheticDatasetOptions, type SyntheticFrame } from '../synthetic/index.js';

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
