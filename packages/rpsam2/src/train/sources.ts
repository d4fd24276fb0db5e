/**
 * Where a training step's objects come from: a feature cache (features and candidates stored,
 * kept on the GPU in a small LRU) or a dataset encoded on the fly (SAM 2's encoder per step on
 * an augmented image — random horizontal/vertical flips and brightness — and the candidates
 * recomputed on that image, since SAM 2 is not flip-invariant).
 */
import { noGrad, reshape, tidy, type SeededRandom } from '@rpsam2/tensor';
import { preprocess, Sam2ImagePredictor, type ImageFeatures, type RgbImage, type Sam2Model } from '@rpsam2/sam2';
import type { FeatureCache } from '../cache/feature-cache.js';
import { candidatesFromDice, normaliseGrid } from '../candidates/candidates.js';
import { candidatesOf } from '../cache/feature-cache.js';
import type { Mirror } from '../cache/mirror.js';
import type { Dataset } from './dataset.js';
import type { TrainConfig } from './config.js';
import { maskArea } from './dataset.js';
import { disposeTargets, makeTargets, type ObjectTargets } from './step.js';

/** An object of a source: image index (in the source) and object index (in the image). */
export interface ObjectRef {
  image: number;
  object: number;
}

/** The candidate grid of an object (for the in-candidate rate). */
export interface CandidateInfo {
  gridPx: Float32Array;
  isCandidate: Uint8Array;
  gridStep: number;
}

/** One object of a prepared batch: its training targets on the GPU, its candidate grid and its class. */
export interface PreparedObject {
  target: ObjectTargets;
  candidates: CandidateInfo;
  className: string;
}

/** A batch's objects on the GPU; call `release` after the step. */
export interface PreparedBatch {
  objects: PreparedObject[];
  /** Frees what the batch loaded for this step only (augmented images); cached images stay. */
  release(): void;
}

/**
 * Where the trainer's objects come from ({@link CachedSource}, {@link OnTheFlySource},
 * {@link ConcatSource}): the objects to sample and their targets per step. Owns its GPU data: call
 * `dispose()` at the end.
 */
export interface TrainingSource {
  readonly name: string;
  /** Every object (with a non-empty mask). */
  readonly objects: readonly ObjectRef[];
  /** Number of images. */
  readonly imageCount: number;
  /** Targets of `refs`; `rng` drives augmentation (on-the-fly mode; null = none). */
  prepare(refs: readonly ObjectRef[], rng: SeededRandom | null): Promise<PreparedBatch>;
  /** Frees every image and target the source keeps on the GPU. */
  dispose(): void;
}

interface Loaded {
  features: ImageFeatures;
  objects: PreparedObject[];
}

function disposeLoaded(l: Loaded): void {
  // On-the-fly loads leave the objects a step did not ask for empty.
  for (const o of l.objects) if (o) disposeTargets(o.target);
  l.features.imageEmbed.dispose();
  l.features.highRes[0].dispose();
  l.features.highRes[1].dispose();
}

/** Least-recently-used GPU residency of loaded images. */
class Lru {
  private readonly map = new Map<number, Loaded>();
  constructor(private readonly capacity: number) {}
  get(i: number): Loaded | undefined {
    const v = this.map.get(i);
    if (v) {
      this.map.delete(i);
      this.map.set(i, v);
    }
    return v;
  }
  set(i: number, v: Loaded, pinned: ReadonlySet<number>): void {
    this.map.set(i, v);
    for (const [k, l] of this.map) {
      if (this.map.size <= this.capacity) break;
      if (pinned.has(k)) continue;
      this.map.delete(k);
      disposeLoaded(l);
    }
  }
  clear(): void {
    for (const l of this.map.values()) disposeLoaded(l);
    this.map.clear();
  }
}

/** Objects of a feature cache's images (`images`: entry indices; default all). */
export class CachedSource implements TrainingSource {
  readonly objects: ObjectRef[] = [];
  private readonly lru: Lru;
  private readonly images: number[];

  constructor(
    private readonly model: Sam2Model,
    private readonly cache: FeatureCache,
    images?: readonly number[],
    capacity = 64,
    readonly name = `cache ${cache.dir}`,
    /**
     * Candidate tolerance ε to re-select the candidates with from each object's cached per-grid Dice
     * (no decoding); undefined or 0: the cache's own candidates.
     */
    private readonly epsilon = 0,
    /**
     * Axes along which each requested object's image may come mirrored (each with probability
     * 1/2, drawn from the `rng` given to `prepare`; see `cache/mirror.ts`). Default: none.
     */
    private readonly flips: Mirror = { h: false, v: false },
  ) {
    const s = cache.settings.sam2;
    if (s.imageSize !== model.cfg.imageSize || s.dim !== model.dim) {
      throw new Error(`feature cache ${cache.dir} holds features of SAM 2 '${s.config}' (${s.imageSize}px, width ${s.dim}); the model is '${model.cfg.name}' (${model.cfg.imageSize}px, width ${model.dim})`);
    }
    this.images = images ? [...images] : cache.entries.map((_, i) => i);
    this.images.forEach((e, i) => cache.entry(e).objects.forEach((_, k) => this.objects.push({ image: i, object: k })));
    this.lru = new Lru(capacity);
  }

  get imageCount(): number {
    return this.images.length;
  }

  async prepare(refs: readonly ObjectRef[], rng: SeededRandom | null = null): Promise<PreparedBatch> {
    // A mirrored image is its own LRU entry: key = image · 4 + (v ? 2 : 0) + (h ? 1 : 0).
    const mirrors = refs.map((): Mirror => {
      if (!rng || !(this.flips.h || this.flips.v)) return { h: false, v: false };
      const h = rng.next();
      const v = rng.next();
      return { h: this.flips.h && h < 0.5, v: this.flips.v && v < 0.5 };
    });
    const keys = refs.map((r, i) => r.image * 4 + (mirrors[i].v ? 2 : 0) + (mirrors[i].h ? 1 : 0));
    const pinned = new Set(keys);
    const out: PreparedObject[] = [];
    for (const [i, r] of refs.entries()) {
      let l = this.lru.get(keys[i]);
      if (!l) {
        const img = await this.cache.load(this.images[r.image], mirrors[i]);
        l = {
          features: img.features,
          objects: img.objects.map((o) => {
            const c = this.epsilon > 0 ? candidatesFromDice(o, img.origHW, this.epsilon) : o;
            return {
              target: makeTargets(this.model, img.features, img.origHW, o.mask, c.candidates, { norm: normaliseGrid(o.gridPx, img.origHW), dice: o.dice }),
              candidates: { gridPx: o.gridPx, isCandidate: c.isCandidate, gridStep: o.gridStep },
              className: o.className,
            };
          }),
        };
        this.lru.set(keys[i], l, pinned);
      }
      const o = l.objects[r.object];
      if (!o) throw new RangeError(`${this.name}: image ${r.image} has no object ${r.object}`);
      out.push(o);
    }
    return { objects: out, release: () => {} };
  }

  /** Frees the images kept on the GPU (features and targets). */
  dispose(): void {
    this.lru.clear();
  }
}

/**
 * A {@link CachedSource} with a training config's settings: its GPU residency (`gpuCacheImages`),
 * candidate tolerance (`candidateEpsilon`) and feature flips (`augment.featureHflip` / `featureVflip`).
 */
export function cachedSourceFor(
  model: Sam2Model,
  cache: FeatureCache,
  c: Pick<TrainConfig, 'gpuCacheImages' | 'candidateEpsilon' | 'augment'>,
  images?: readonly number[],
  name?: string,
): CachedSource {
  return new CachedSource(model, cache, images, c.gpuCacheImages, name, c.candidateEpsilon, { h: c.augment.featureHflip, v: c.augment.featureVflip });
}

/**
 * Several sources as one: objects in order, image indices offset so that they stay distinct
 * (several feature caches of the same SAM 2 train one block). Disposes its parts.
 */
export class ConcatSource implements TrainingSource {
  readonly objects: ObjectRef[] = [];
  readonly name: string;
  /** First image index of each part in this source's numbering. */
  private readonly offsets: number[] = [];

  constructor(private readonly parts: readonly TrainingSource[]) {
    if (parts.length === 0) throw new RangeError('ConcatSource: no sources to concatenate');
    this.name = parts.map((p) => p.name).join(' + ');
    let offset = 0;
    for (const p of parts) {
      this.offsets.push(offset);
      for (const r of p.objects) this.objects.push({ image: r.image + offset, object: r.object });
      offset += p.imageCount;
    }
  }

  get imageCount(): number {
    return this.parts.reduce((n, p) => n + p.imageCount, 0);
  }

  async prepare(refs: readonly ObjectRef[], rng: SeededRandom | null): Promise<PreparedBatch> {
    // One prepare per part, in part order; the objects go back in the order asked for.
    const byPart = new Map<number, { at: number; ref: ObjectRef }[]>();
    refs.forEach((r, at) => {
      let k = this.offsets.length - 1;
      while (k > 0 && r.image < this.offsets[k]) k--;
      if (r.image < 0 || r.image >= this.offsets[k] + this.parts[k].imageCount) throw new RangeError(`${this.name}: no image ${r.image}`);
      const list = byPart.get(k) ?? [];
      list.push({ at, ref: { image: r.image - this.offsets[k], object: r.object } });
      byPart.set(k, list);
    });
    const out: PreparedObject[] = new Array(refs.length);
    const releases: (() => void)[] = [];
    for (const k of [...byPart.keys()].sort((a, b) => a - b)) {
      const list = byPart.get(k)!;
      const batch = await this.parts[k].prepare(list.map((e) => e.ref), rng);
      releases.push(() => batch.release());
      list.forEach((e, j) => (out[e.at] = batch.objects[j]));
    }
    return { objects: out, release: () => releases.forEach((r) => r()) };
  }

  /** Disposes every part. */
  dispose(): void {
    for (const p of this.parts) p.dispose();
  }
}

/**
 * Settings of an {@link OnTheFlySource}: the augmentation (flips, brightness ±fraction), the candidate
 * grid step and tolerance ε, and how many un-augmented images stay on the GPU (default 16).
 */
export interface OnTheFlyOptions {
  augment: { hflip: boolean; vflip: boolean; brightness: number };
  gridStep: number;
  epsilon: number;
  /** Un-augmented images kept on the GPU for repeated use (validation). */
  capacity?: number;
}

/** An augmentation draw: flips and a brightness factor. */
export interface Augmentation {
  hflip: boolean;
  vflip: boolean;
  brightness: number;
}

/** Draws an augmentation (always three numbers from `rng`, whatever is enabled). */
export function drawAugmentation(rng: SeededRandom, a: OnTheFlyOptions['augment']): Augmentation {
  const h = rng.next();
  const v = rng.next();
  const b = rng.uniform(-1, 1);
  return { hflip: a.hflip && h < 0.5, vflip: a.vflip && v < 0.5, brightness: 1 + a.brightness * b };
}

/** Applies flips and brightness to an image and the same flips to its masks. */
export function augment(image: RgbImage, masks: Uint8Array[], aug: Augmentation): { image: RgbImage; masks: Uint8Array[] } {
  const { width: w, height: h, channels: c } = image;
  const src = (x: number, y: number) => (aug.vflip ? h - 1 - y : y) * w + (aug.hflip ? w - 1 - x : x);
  const data = new Uint8Array(w * h * 3);
  const outMasks = masks.map(() => new Uint8Array(w * h));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const j = src(x, y);
      for (let ch = 0; ch < 3; ch++) {
        const v = image.data[j * c + ch] * aug.brightness;
        data[i * 3 + ch] = v > 255 ? 255 : Math.round(v);
      }
      masks.forEach((m, k) => (outMasks[k][i] = m[j] ? 1 : 0));
    }
  }
  return { image: { width: w, height: h, channels: 3, data }, masks: outMasks };
}

/** Objects of a dataset, encoded per step (see the module comment). */
export class OnTheFlySource implements TrainingSource {
  readonly objects: ObjectRef[] = [];
  private readonly predictor: Sam2ImagePredictor;
  private readonly lru: Lru;

  private constructor(
    private readonly model: Sam2Model,
    private readonly dataset: Dataset,
    private readonly images: number[],
    /** Per image, the dataset indices of its non-empty objects. */
    private readonly kept: number[][],
    private readonly options: OnTheFlyOptions,
    readonly name: string,
  ) {
    kept.forEach((ks, i) => ks.forEach((_, k) => this.objects.push({ image: i, object: k })));
    this.predictor = new Sam2ImagePredictor(model);
    this.lru = new Lru(options.capacity ?? 16);
  }

  /** Reads every item once to list its non-empty objects. */
  static async create(model: Sam2Model, dataset: Dataset, options: OnTheFlyOptions, images?: readonly number[]): Promise<OnTheFlySource> {
    const idx = images ? [...images] : Array.from({ length: dataset.length }, (_, i) => i);
    const kept: number[][] = [];
    for (const i of idx) {
      const item = await dataset.get(i);
      kept.push(item.objects.flatMap((o, k) => (maskArea(o.mask) > 0 ? [k] : [])));
    }
    return new OnTheFlySource(model, dataset, idx, kept, options, `on-the-fly ${dataset.name}`);
  }

  get imageCount(): number {
    return this.images.length;
  }

  private async load(i: number, objectIdx: readonly number[], aug: Augmentation | null): Promise<Loaded> {
    const item = await this.dataset.get(this.images[i]);
    const masks = this.kept[i].map((k) => item.objects[k].mask);
    const { image, masks: m } = aug ? augment(item.image, masks, aug) : { image: item.image, masks: masks.map((x) => Uint8Array.from(x, (v) => (v ? 1 : 0))) };
    const hw: [number, number] = [image.height, image.width];
    const features = noGrad(() => tidy(() => this.model.forwardImage(preprocess(image, this.model.cfg.imageSize))));
    // The predictor gets views (it disposes what it is given on reset; the storage stays ours).
    this.predictor.setFeatures(noGrad(() => ({ imageEmbed: reshape(features.imageEmbed, features.imageEmbed.shape), highRes: [reshape(features.highRes[0], features.highRes[0].shape), reshape(features.highRes[1], features.highRes[1].shape)] })), hw);
    const objects: PreparedObject[] = [];
    try {
      for (let k = 0; k < m.length; k++) {
        if (!objectIdx.includes(k)) {
          objects.push(null as unknown as PreparedObject);
          continue;
        }
        const { set, step } = await candidatesOf(this.predictor, m[k], this.options.gridStep, this.options.epsilon);
        objects.push({
          target: makeTargets(this.model, features, hw, m[k], set.norm, { norm: normaliseGrid(set.gridPx, hw), dice: set.dice }),
          candidates: { gridPx: set.gridPx, isCandidate: set.isCandidate, gridStep: step },
          className: item.objects[this.kept[i][k]].className,
        });
      }
    } finally {
      this.predictor.resetImage();
    }
    return { features, objects };
  }

  async prepare(refs: readonly ObjectRef[], rng: SeededRandom | null): Promise<PreparedBatch> {
    const order: number[] = [];
    for (const r of refs) if (!order.includes(r.image)) order.push(r.image);
    const fresh = new Map<number, Loaded>();
    const out: PreparedObject[] = [];
    try {
      for (const i of order) {
        const wanted = refs.filter((r) => r.image === i).map((r) => r.object);
        if (rng) {
          const aug = drawAugmentation(rng, this.options.augment);
          fresh.set(i, await this.load(i, wanted, aug));
        } else {
          // Un-augmented (validation): all objects, kept for later calls.
          let l = this.lru.get(i);
          if (!l) {
            l = await this.load(i, this.kept[i].map((_, k) => k), null);
            this.lru.set(i, l, new Set(order));
          }
          fresh.set(i, l);
        }
      }
      for (const r of refs) {
        const o = fresh.get(r.image)!.objects[r.object];
        if (!o) throw new RangeError(`${this.name}: image ${r.image} has no object ${r.object}`);
        out.push(o);
      }
    } catch (e) {
      if (rng) for (const l of fresh.values()) disposeLoaded(l);
      throw e;
    }
    return {
      objects: out,
      release: () => {
        if (rng) for (const l of fresh.values()) disposeLoaded(l);
      },
    };
  }

  /** Frees the images kept on the GPU and the source's predictor (not the model). */
  dispose(): void {
    this.lru.clear();
    this.predictor.dispose();
  }
}
