/**
 * Synthetic training frames for SAM 2, rendered on demand: frame g of a (virtual) synthetic
 * dataset with the given seed, exactly as `bench generate` would write it, handed to the trainer
 * in memory (no files). Training and evaluation use different dataset seeds, so evaluation
 * frames are never seen in training.
 */
import type { ClassFocusOptions, TrainSample, TrainSource } from '@rpsam2/sam2';
import { Rng } from '@rpsam2/data';
import { SYNTHETIC_CLASSES, SyntheticRenderer, objectMask, syntheticFrameOptions, type SyntheticDatasetOptions, type SyntheticFrame } from '../synthetic/index.js';

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
 * Synthetic frames with a share of the steps on frames that show one class: a rare or hard class
 * gets more of the training. Focused steps take a frame showing the class from far beyond the
 * stream's other frames (block `FOCUS_BLOCK_OFFSET + index` of the dataset's class cycle, in which
 * every class is a frame's first instrument once), so they are frames no other step saw.
 * Deterministic per index, so resumed runs continue exactly.
 */
export class ClassFocusTrainSource implements TrainSource {
  readonly description: string;

  constructor(
    readonly inner: SyntheticTrainSource,
    readonly focus: ClassFocusOptions,
  ) {
    if (!SYNTHETIC_CLASSES.includes(focus.classKey)) throw new Error(`ClassFocusTrainSource: unknown class '${focus.classKey}' (classes: ${SYNTHETIC_CLASSES.join(', ')})`);
    if (!(focus.probability >= 0 && focus.probability <= 1)) throw new RangeError(`ClassFocusTrainSource: probability must be in [0, 1], got ${focus.probability}`);
    this.description = `${inner.description}; ${Math.round(focus.probability * 100)}% of steps on a frame showing ${focus.classKey} (focus seed ${focus.seed})`;
  }

  /** The frame index that sample `index` shows. */
  frameIndex(index: number): number {
    if (!Rng.derive(this.focus.seed, 'focus', index).chance(this.focus.probability)) return index;
    const n = SYNTHETIC_CLASSES.length;
    const first = (FOCUS_BLOCK_OFFSET + index) * n;
    // The frame whose first instrument is the class: the renderer always places the first one.
    for (let g = first; g < first + n; g++) if (syntheticFrameOptions(this.inner.options, g).classes[0] === this.focus.classKey) return g;
    throw new Error(`ClassFocusTrainSource: no frame shows ${this.focus.classKey} in frames ${first}–${first + n - 1}`);
  }

  sample(index: number): TrainSample {
    return this.inner.sample(this.frameIndex(index));
  }
}

/** Where focused steps take their frames from, in blocks of the class cycle. */
const FOCUS_BLOCK_OFFSET = 100_000;
