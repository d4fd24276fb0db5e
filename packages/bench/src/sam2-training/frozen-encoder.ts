/**
 * Serves cached image features to the SAM 2 trainer in place of the encoder (decoder-only
 * training): the trainer's step calls `model.forwardImage` on the frame the source handed out
 * last, so the source tells this which frame that is — by index into an in-memory cache
 * (`select`), or by handing over features it loaded itself, e.g. from a feature cache on disk
 * (`hold`). Without a cache and without `external` it changes nothing.
 */
import { affine, type Tensor } from '@rpsam2/tensor';
import { Sam2Model, type ImageFeatures, type TrainSample } from '@rpsam2/sam2';

export class FrozenEncoder {
  private current = 0;
  private held: ImageFeatures | null = null;
  private readonly serving: boolean;

  /**
   * @param cache features by frame index (`select` picks one)
   * @param options.external serve the features given to `hold` (the cache may then be empty)
   */
  constructor(
    private readonly model: Sam2Model,
    private readonly cache: readonly ImageFeatures[],
    options: { external?: boolean } = {},
  ) {
    this.serving = cache.length > 0 || options.external === true;
    if (this.serving) {
      // The trainer disposes the features it gets, so each call hands out copies.
      const copy = (t: Tensor) => affine(t, 1, 0);
      model.forwardImage = () => {
        const f = this.held ?? this.cache[this.current];
        if (!f) throw new Error('FrozenEncoder: no features for the current frame (hold() them first)');
        return { imageEmbed: copy(f.imageEmbed), highRes: [copy(f.highRes[0]), copy(f.highRes[1])] };
      };
    }
  }

  /** Notes that frame `index` is the one being trained on. */
  select(index: number, sample: TrainSample): TrainSample {
    this.current = index;
    return sample;
  }

  /**
   * Serves `features` for the next encoder calls, disposing the ones held before (they belong to
   * this from now on; `hold(null)` frees them).
   */
  hold(features: ImageFeatures | null): void {
    if (this.held && this.held !== features) [this.held.imageEmbed, ...this.held.highRes].forEach((t) => t.dispose());
    this.held = features;
  }

  /** Frees the held features and gives the model its own encoder back. */
  release(): void {
    this.hold(null);
    // The override is an own property of the model: deleting it uncovers Sam2Model's method.
    if (this.serving) delete (this.model as { forwardImage?: unknown }).forwardImage;
  }

  /** Runs `fn` with the real encoder (evaluation on frames that are not cached). */
  async live<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.serving) return fn();
    const cached = this.model.forwardImage;
    this.model.forwardImage = Sam2Model.prototype.forwardImage.bind(this.model);
    try {
      return await fn();
    } finally {
      this.model.forwardImage = cached;
    }
  }
}
