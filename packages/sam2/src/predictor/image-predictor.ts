/**
 * The image predictor, in the spirit of the official `SAM2ImagePredictor`: `setImage` runs the
 * encoder once and caches the features; `predict` decodes prompts (clicks, boxes, a mask) into
 * masks. `decode` is the tensor-level path, usable under autodiff from the prompt onwards (the
 * encoder always runs under noGrad).
 */
import { clamp, getBackend, greater, init, noGrad, tensorsLost, tidy, type Tensor } from '@rpsam2/tensor';
import type { Sam2Model, ImageFeatures } from '../model/sam2-model.js';
import type { DecoderOutput } from '../model/mask-decoder.js';
import { postprocessMasks, preprocess, type RgbImage } from './transforms.js';
import { decodePrompt } from './prompt.js';
import { decodeBest, fullSizeMask, readBestMasks, type BestDecode, type BestMask } from './best-mask.js';
import { bestMask, MaskView } from './mask-view.js';
import { loadSam2, type LoadSam2Options } from '../weights/load.js';
import { loadDefaultSam2 } from '../weights/default-model.js';

/** Prompts for one or several objects (batched: the outer arrays index objects). */
export interface Prompt {
  /** Clicks as [x, y]: N×2 for one object or B×N×2 for B objects, or a [B, N, 2] tensor. */
  points?: number[][] | number[][][] | Tensor;
  /** 1 = positive, 0 = negative click: N or B×N. */
  labels?: number[] | number[][];
  /** Boxes as [x0, y0, x1, y1]: one box or B boxes. */
  box?: number[] | number[][];
  /** Low-res mask logits from a previous prediction, [B, 1, 4g, 4g] or [1, 4g, 4g]. */
  maskInput?: Tensor;
  /** Three masks (true, default) or one (with the stability fallback). */
  multimaskOutput?: boolean;
  /** Coordinates are original-image pixels (true, default) or normalised to [0, 1] (false). */
  normalizeCoords?: boolean;
  /**
   * HQ-SAM2 models only: the HQ mask alone instead of HQ mask + SAM 2's mask(s) (upstream's
   * `hq_token_only`). Default false, as upstream. Then there is one mask per object even with
   * multimask output; `iou` keeps SAM 2's three predictions and the mask's score is their maximum.
   */
  hqTokenOnly?: boolean;
}

/**
 * The result of {@link Sam2ImagePredictor.predict}: masks, predicted IoUs, low-res logits and object
 * scores as host arrays (B objects × K masks), plus per-object views.
 */
export interface Prediction {
  /** [B, K, H, W] at the original size: 0/1 masks, or logits with `returnLogits`. */
  masks: Float32Array;
  /** [B, K] predicted IoU ([B, 3] for HQ-only multimask output, whose K is 1). */
  iou: Float32Array;
  /** [B, K, 4g, 4g] mask logits clamped to ±32 (feed back as `maskInput`). */
  lowResLogits: Float32Array;
  /** [B, 1] object-score logits. */
  objectScore: Float32Array;
  /** [B, K, H, W, …] shapes of the arrays above. */
  shape: { batch: number; masks: number; height: number; width: number; lowRes: number };
  /** Per object (B): its K masks as views, no slicing needed. */
  objects: ObjectMasks[];
  /** The first object's mask with the highest predicted IoU (the usual one-object case). */
  best: MaskView;
}

/** One object's masks from {@link Sam2ImagePredictor.predict}. */
export interface ObjectMasks {
  /** The K masks (3 with multimask output, else 1), in the decoder's order, each with its predicted IoU. */
  masks: MaskView[];
  /** The mask with the highest predicted IoU. */
  best: MaskView;
  /** The object-score logit (> 0: the decoder sees an object). */
  objectScore: number;
}

/** Tensor-level decoder output (all tensors owned by the caller). */
export interface DecodeResult {
  sparse: Tensor;
  /** The dense prompt embedding [B, C, g, g]; without a mask prompt the no-mask embedding [1, C, 1, 1] (it broadcasts over the grid). */
  dense: Tensor;
  /** Every mask token's output. */
  raw: DecoderOutput;
  /** The selected low-res logits [B, K, 4g, 4g] (not clamped). */
  lowRes: Tensor;
  /** [B, K] */
  iou: Tensor;
}

/**
 * SAM 2's image predictor, like the official `SAM2ImagePredictor`: `setImage` runs the encoder
 * once and keeps the features, `predict` decodes prompts (clicks, boxes, a previous mask) into
 * masks at the original size. Official `set_image` / `predict(point_coords, point_labels,
 * multimask_output)` map to `setImage(image)` / `predict({ points, labels, multimaskOutput })`.
 *
 * Disposal (the same rule as `RpSam2Predictor`'s): `dispose()` (or `using`) frees the image
 * features and what the predictor created itself — the model, when `load` loaded it. A model
 * passed to the constructor stays the caller's to dispose. After `dispose()` every method throws
 * "…: disposed"; disposing again does nothing.
 *
 * A lost GPU device (driver reset, `device.destroy()`): the call running then, and every call
 * after, rejects with `DeviceLostError` (never hangs). `await predictor.recover()` makes a new
 * device and, for a predictor from `load`, loads the model again and encodes the set images again;
 * then calls work as before, with the same masks.
 *
 * @example
 * const predictor = new Sam2ImagePredictor((await loadSam2({ weights: 'sam2.1_hiera_large.pt' })).model);
 * await predictor.setImage({ width, height, data: rgb, channels: 3 });
 * const { best } = await predictor.predict({ points: [[500, 375]], labels: [1], multimaskOutput: true });
 * console.log(best.score, best.area, best.toRle());
 */
export class Sam2ImagePredictor {
  private features: ImageFeatures[] = [];
  private origSizes: [number, number][] = [];
  private disposed = false;
  private ownsModel = false;
  private current: Sam2Model;
  /** How `load` loaded the model, to load it again in `recover()` (null: the caller's model). */
  private reload: (() => Promise<Sam2Model>) | null = null;
  /** The images given to `setImage`/`setImageBatch` (references), to encode again in `recover()`. */
  private images: RgbImage[] | null = null;

  /** A predictor on a model you keep (and dispose yourself, after the predictor). */
  constructor(model: Sam2Model) {
    this.current = model;
  }

  /** The SAM 2 model (a new one after `recover()` for a predictor from `load`). */
  get model(): Sam2Model {
    return this.current;
  }

  /**
   * Loads SAM 2 (`loadSam2` with these options; with no `weights`, the embedded default model)
   * into a predictor that owns it: `dispose()` frees the model too.
   */
  static async load(options: Partial<LoadSam2Options> = {}): Promise<Sam2ImagePredictor> {
    if (options.weights === undefined && (options.config !== undefined || options.size !== undefined)) {
      throw new Error('Sam2ImagePredictor.load: a config or size needs weights (without weights it loads the embedded default model)');
    }
    const loadModel = async () => (options.weights === undefined ? await loadDefaultSam2({ dtype: options.dtype }) : await loadSam2(options as LoadSam2Options)).model;
    const p = new Sam2ImagePredictor(await loadModel());
    p.ownsModel = true;
    p.reload = loadModel;
    return p;
  }

  /**
   * Recovers from a lost GPU device (after a `DeviceLostError`): acquires a new device (`init()`,
   * with the options of the first `init()`/`initNode()`), loads the model again the way `load`
   * did, and encodes the images of the last `setImage`/`setImageBatch` again (the predictor keeps
   * references to them: do not change their pixels in between). Features given with
   * `setFeatures` cannot be recomputed: set them again. Does nothing while the device is alive,
   * so several predictors may all call it. A predictor on a model passed to the constructor
   * cannot reload it and throws: load the model again and create a new predictor.
   */
  async recover(): Promise<void> {
    this.live();
    if (!tensorsLost(this.model.namedParams().map(([, s]) => s.value))) return;
    if (!this.reload) {
      throw new Error(
        'Sam2ImagePredictor.recover: the model was passed to the constructor, so this predictor cannot load it again: dispose it, load the model again (after `await initNode()`) and create a new predictor — or use Sam2ImagePredictor.load, whose predictors recover themselves',
      );
    }
    await init();
    const images = this.images;
    // Old-device tensors: disposing them only counts them off the lost pool.
    this.freeFeatures();
    this.current.dispose();
    this.current = await this.reload();
    if (images) await this.setImageBatch(images);
  }

  /** Throws once the predictor is disposed (instead of a misleading "call setImage first"). */
  private live(): void {
    if (this.disposed) throw new Error('Sam2ImagePredictor: disposed (create a new predictor)');
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Whether an image is set. */
  get hasImage(): boolean {
    return this.features.length > 0;
  }

  /** Original sizes [H, W] of the set images. */
  get originalSizes(): readonly [number, number][] {
    return this.origSizes;
  }

  /** The cached features of image `i` (owned by the predictor). */
  getFeatures(i = 0): ImageFeatures {
    this.live();
    const f = this.features[i];
    if (!f) throw new Error(`predictor: no image ${i} is set (call setImage first)`);
    return f;
  }

  /** Encodes one image and caches its features (replacing previous ones). */
  async setImage(image: RgbImage): Promise<void> {
    await this.setImageBatch([image]);
  }

  /** Encodes several images; `predict({...}, i)` then addresses image i. */
  async setImageBatch(images: RgbImage[]): Promise<void> {
    this.live();
    // A lost device rejects here, before the current images are dropped, so that recover() can
    // still encode them again (a cheap check now that the Gaussian matrix is not read back each time).
    await getBackend().sync();
    await this.model.promptEncoder.ensurePrepared();
    this.resetImage();
    for (const img of images) {
      const f = noGrad(() =>
        tidy(() => {
          const x = preprocess(img, this.model.cfg.imageSize);
          return this.model.forwardImage(x);
        }),
      );
      this.features.push(f);
      this.origSizes.push([img.height, img.width]);
      // The current backend holds the weights: recover() reloads the model after a new init().
      await getBackend().sync();
    }
    this.images = images.slice();
  }

  /** Uses precomputed features (e.g. from a cache) for an image of the given original size. */
  setFeatures(features: ImageFeatures, origHW: [number, number]): void {
    this.live();
    this.resetImage();
    this.features = [features];
    this.origSizes = [origHW];
  }

  /** Frees the cached features. */
  resetImage(): void {
    this.live();
    this.freeFeatures();
  }

  private freeFeatures(): void {
    for (const f of this.features) {
      f.imageEmbed.dispose();
      f.highRes[0].dispose();
      f.highRes[1].dispose();
    }
    this.features = [];
    this.origSizes = [];
    this.images = null;
  }

  /**
   * Prompt encoder + mask decoder on tensors ({@link decodePrompt}): differentiable w.r.t. a
   * points tensor (and the decoder's parameters when they require grad). Call inside `tidy`.
   */
  decode(p: Prompt, imageIndex = 0): DecodeResult {
    const f = this.getFeatures(imageIndex);
    return decodePrompt(this.model, f, p, this.origSizes[imageIndex]);
  }

  /**
   * {@link decode} and the mask with the highest predicted IoU per object ({@link decodeBest}),
   * still on tensors and differentiable. Call inside `tidy`.
   */
  decodeBest(p: Prompt, imageIndex = 0): BestDecode {
    const f = this.getFeatures(imageIndex);
    return decodeBest(this.model, f, p, this.origSizes[imageIndex]);
  }

  /**
   * Per object the mask with the highest predicted IoU (first on ties) at the original size,
   * read back: SAM 2's multimask convention (multimask output unless the prompt says otherwise)
   * and the one "best mask" path that `RpSam2Predictor.predict`, the bench's evaluation and the
   * studio use. Not for HQ-only output (`hqTokenOnly`): use {@link predict}.
   */
  async predictBest(p: Prompt, imageIndex = 0): Promise<BestMask[]> {
    this.live();
    const hw = this.origSizes[imageIndex];
    if (!hw) throw new Error(`predictor: no image ${imageIndex} is set (call setImage first)`);
    const out = noGrad(() =>
      tidy(() => {
        const r = this.decodeBest(p, imageIndex);
        return { selected: r.selected, oneHot: r.oneHot, iou: r.iou, full: fullSizeMask(r.selected, hw) };
      }),
    );
    try {
      return await readBestMasks(out, out.full, hw);
    } finally {
      for (const t of Object.values(out)) t.dispose();
    }
  }

  /** Predicts masks for a prompt on image `imageIndex` and reads them back. */
  async predict(p: Prompt & { returnLogits?: boolean }, imageIndex = 0): Promise<Prediction> {
    this.live();
    const [h, w] = this.origSizes[imageIndex] ?? [0, 0];
    const out = noGrad(() =>
      tidy(() => {
        const r = this.decode(p, imageIndex);
        const full = postprocessMasks(r.lowRes, [h, w]);
        return {
          masks: p.returnLogits ? full : greater(full, 0),
          iou: r.iou,
          lowRes: clamp(r.lowRes, -32, 32),
          obj: r.raw.objectScore,
        };
      }),
    );
    try {
      const [b, k, g] = [out.lowRes.shape[0], out.lowRes.shape[1], out.lowRes.shape[2]];
      const [masks, iou, lowResLogits, objectScore] = [await out.masks.data(), await out.iou.data(), await out.lowRes.data(), await out.obj.data()];
      const plane = h * w;
      // HQ-only output has one mask but SAM 2's IoU per multimask token: score it by their best.
      const ki = out.iou.shape[1];
      const score = (i: number, j: number) => (ki === k ? iou[i * ki + j] : Math.max(...iou.subarray(i * ki, (i + 1) * ki)));
      const objects = Array.from({ length: b }, (_, i): ObjectMasks => {
        // Views over `masks` (no copy); they threshold at 0, so logits and 0/1 masks both work.
        const views = Array.from({ length: k }, (_, j) => new MaskView(masks.subarray((i * k + j) * plane, (i * k + j + 1) * plane), w, h, score(i, j), j));
        return { masks: views, best: bestMask(views), objectScore: objectScore[i] };
      });
      return { masks, iou, lowResLogits, objectScore, shape: { batch: b, masks: k, height: h, width: w, lowRes: g }, objects, best: objects[0].best };
    } finally {
      for (const t of Object.values(out)) t.dispose();
    }
  }

  /** Frees the image features, and the model when `load` created it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.freeFeatures();
    if (this.ownsModel) this.model.dispose();
  }

  /** Calls {@link Sam2ImagePredictor.dispose}, so `using p = …` frees it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
