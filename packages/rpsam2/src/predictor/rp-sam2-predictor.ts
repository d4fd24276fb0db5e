/**
 * RP-SAM2 at inference: a SAM 2 image predictor plus a trained shift block. `refine` moves
 * clicks (pixels) to where SAM 2 segments better; `predict` segments from the refined click as
 * the paper does (multimask output, the mask with the highest predicted IoU). SAM 2's own
 * predictor stays available as `sam2` (and `predictSam2` / `decode` delegate to it).
 *
 * Coordinates: a click [x, y] is a pixel position in the original image (x = column, y = row),
 * normalised as (x/W, y/H) for the shift block; refined clicks come back in the same pixel
 * frame (fractional).
 */
import { noGrad, tensor, tensorsLost, tidy, type ByteSource, type Tensor } from '@rpsam2/tensor';
import {
  clickProblem,
  fullSizeMask,
  readBestMasks,
  Sam2ImagePredictor,
  type BestMask,
  type DecodeResult,
  type ImageFeatures,
  type Prediction,
  type Prompt,
  type RgbImage,
  type Sam2Config,
  type Sam2Model,
  type WeightDType,
  type WeightsInput,
} from '@rpsam2/sam2';
import type { ShiftBlock } from '../shift-block/shift-block.js';
import { RpSam2 } from '../pipeline/rpsam2.js';
import { normalizeClicks } from '../candidates/clicks.js';
import { openCheckpoint } from '../checkpoint/checkpoint.js';
import { loadShiftBlockFrom, openCheckpointSource } from '../checkpoint/checkpoint-source.js';
import type { OpenedCheckpoint } from '../checkpoint/format.js';
import { defaultShiftBlockSpec, shiftBlockNeededError } from './default-shift-block.js';

/** A click [x, y] in original-image pixels. */
export type Click = [number, number];

/**
 * What `predict` returns per click: SAM 2's best-IoU multimask output for the refined click at
 * the original size (`BestMask`: `mask`, `best`, `score`, `maskIndex`, `iou`, `lowResLogits`,
 * `width`, `height`), with the click and the refined click.
 */
export interface RefinedPrediction extends BestMask {
  /** The click as given. */
  click: Click;
  /** The refined click (pixels). */
  refined: Click;
}

/**
 * What {@link RpSam2Predictor.load} loads. Everything is optional: with no SAM 2 weights it loads
 * the embedded default SAM 2 and — with no shift block — the default shift block trained for it
 * (Node; both ship inside the packages). SAM 2 weights of your own need a shift block trained for
 * them: the default block fits the default model only, and `load` says so.
 */
export interface LoadRpSam2Options {
  /** SAM 2 weights: a path (Node), a ByteSource or an open WeightSource; default: the embedded default model. */
  sam2Weights?: WeightsInput;
  /** A SAM 2 config, or a size name (t, s, b+, l); default: inferred from the weights. */
  sam2Config?: Sam2Config | string;
  dtype?: WeightDType;
  /**
   * The shift block: a path (Node: a checkpoint file or run directory, best else last, or a plain
   * shift-block safetensors file), the bytes of such a file (a ByteSource, e.g. `blobSource(file)`
   * in a browser), or a checkpoint already opened by `openCheckpoint` / `openCheckpointSource`.
   */
  shiftBlock?: string | ByteSource | OpenedCheckpoint;
  /** Heads of a plain shift-block file (not in its shapes; default 8); unused for an opened checkpoint. */
  heads?: number;
}

/** The shift block of {@link LoadRpSam2Options} opened, whichever form it came in. */
function openShiftBlock(input: NonNullable<LoadRpSam2Options['shiftBlock']>, heads: number | undefined): Promise<OpenedCheckpoint> {
  if (typeof input === 'string') return openCheckpoint(input, { prefer: 'best', heads });
  // An opened checkpoint has its parsed file; a ByteSource only read/size.
  if ('file' in input && 'shiftBlock' in input) return Promise.resolve(input);
  return openCheckpointSource(input, { heads });
}

/**
 * RP-SAM2 at inference: SAM 2's image predictor plus a trained shift block. `predict(click)`
 * refines the click, then segments from the refined click (multimask output, the mask with the
 * highest predicted IoU); `refine` returns only the refined click. `load()` with no arguments
 * loads the embedded default SAM 2 and the shift block shipped for it (Node).
 *
 * Disposal follows the same rule as {@link Sam2ImagePredictor}: `dispose()` (or `using`) frees
 * the image features (held by the wrapped `sam2` predictor, which is disposed with it) and what
 * the predictor created itself — the model and shift block that `load` loaded. A model and shift
 * block passed to the constructor stay the caller's. After `dispose()` every method throws
 * "…: disposed"; disposing again does nothing.
 *
 * A lost GPU device: calls reject with `DeviceLostError` (never hang); `await rp.recover()` makes a
 * new device, loads SAM 2 and the shift block again and encodes the set images again (predictors
 * from `load`; see {@link RpSam2Predictor.recover}).
 *
 * @example
 * await initNode();
 * using rp = await RpSam2Predictor.load();
 * await rp.setImage({ width, height, data: rgb, channels: 3 });
 * const { best, refined } = await rp.predict([412, 300]);
 * console.log(best.score, best.area, best.toRle());
 */
export class RpSam2Predictor {
  private rp: RpSam2;
  /** The shift block `load` loaded (the SAM 2 model is owned by `sam2`, from `Sam2ImagePredictor.load`). */
  private owned: { block: ShiftBlock; reload: () => Promise<ShiftBlock> } | null = null;
  private disposed = false;
  private block: ShiftBlock;

  constructor(
    /** The SAM 2 predictor (its API is available as is). */
    readonly sam2: Sam2ImagePredictor,
    shiftBlock: ShiftBlock,
  ) {
    this.block = shiftBlock;
    const m = sam2.model;
    const c = shiftBlock.config;
    if (c.dModel !== m.dim || c.imageTokens !== m.gridSize * m.gridSize) {
      throw new Error(
        `RpSam2Predictor: the shift block (d ${c.dModel}, ${c.imageTokens} image tokens) does not fit SAM 2 '${m.cfg.name}' (d ${m.dim}, ${m.gridSize}×${m.gridSize} = ${m.gridSize * m.gridSize} image tokens)`,
      );
    }
    this.rp = new RpSam2(sam2, shiftBlock);
  }

  /**
   * Loads SAM 2 and a shift block (see {@link LoadRpSam2Options}); the predictor owns both and
   * frees them in `dispose`.
   */
  static async load(options: LoadRpSam2Options = {}): Promise<RpSam2Predictor> {
    if (options.sam2Weights !== undefined && options.shiftBlock === undefined) {
      throw shiftBlockNeededError(typeof options.sam2Weights === 'string' ? options.sam2Weights : 'given as bytes');
    }
    const ck = await openShiftBlock(options.shiftBlock ?? (await defaultShiftBlockSpec()).weights, options.heads);
    const cfg = options.sam2Config;
    // Sam2ImagePredictor.load owns the model and can load it again in recover().
    const sam2 = await Sam2ImagePredictor.load(
      options.sam2Weights === undefined
        ? { dtype: options.dtype }
        : { weights: options.sam2Weights, config: typeof cfg === 'object' ? cfg : undefined, size: typeof cfg === 'string' ? cfg : undefined, dtype: options.dtype },
    );
    let block: ShiftBlock | null = null;
    try {
      const reload = () => loadShiftBlockFrom(ck);
      block = await reload();
      const p = new RpSam2Predictor(sam2, block);
      p.owned = { block, reload };
      return p;
    } catch (e) {
      block?.dispose();
      sam2.dispose();
      throw e;
    }
  }

  /**
   * Recovers from a lost GPU device (after a `DeviceLostError`): `sam2.recover()` (a new device,
   * SAM 2 loaded again, the set images encoded again), then the shift block loaded again from
   * where `load` found it. Does nothing while the device is alive. A predictor built with the
   * constructor (the caller's model and shift block) cannot reload them and throws: load them
   * again and create a new predictor.
   */
  async recover(): Promise<void> {
    this.live();
    if (!tensorsLost([...this.sam2.model.namedParams().map(([, s]) => s.value), ...this.block.parameters()])) return;
    if (!this.owned) {
      throw new Error(
        'RpSam2Predictor.recover: the model and shift block were passed to the constructor, so this predictor cannot load them again: dispose it, load them again (after `await initNode()`) and create a new predictor — or use RpSam2Predictor.load, whose predictors recover themselves',
      );
    }
    await this.sam2.recover();
    this.owned.block.dispose();
    this.block = this.owned.block = await this.owned.reload();
    this.rp = new RpSam2(this.sam2, this.block);
  }

  /** The shift block (a new one after `recover()`). */
  get shiftBlock(): ShiftBlock {
    return this.block;
  }

  /** Throws once the predictor is disposed (instead of a misleading "call setImage first"). */
  private live(): void {
    if (this.disposed) throw new Error('RpSam2Predictor: disposed (create or load a new predictor)');
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The SAM 2 model. */
  get model(): Sam2Model {
    return this.sam2.model;
  }

  get hasImage(): boolean {
    return this.sam2.hasImage;
  }

  get originalSizes(): readonly [number, number][] {
    return this.sam2.originalSizes;
  }

  /** Encodes an image (SAM 2's encoder) for the clicks that follow. */
  setImage(image: RgbImage): Promise<void> {
    this.live();
    return this.sam2.setImage(image);
  }

  /** Encodes several images; address them with `imageIndex`. */
  setImageBatch(images: RgbImage[]): Promise<void> {
    this.live();
    return this.sam2.setImageBatch(images);
  }

  /** Uses precomputed features (e.g. from a feature cache); the predictor takes them over. */
  setFeatures(features: ImageFeatures, origHW: [number, number]): void {
    this.live();
    this.sam2.setFeatures(features, origHW);
  }

  /** The cached features of image `imageIndex` (owned by the predictor: do not dispose them). */
  getFeatures(imageIndex = 0): ImageFeatures {
    this.live();
    return this.sam2.getFeatures(imageIndex);
  }

  /** Frees the cached image features. */
  resetImage(): void {
    this.live();
    this.sam2.resetImage();
  }

  /** SAM 2 alone on a prompt (no refinement): `Sam2ImagePredictor.predict`. */
  predictSam2(prompt: Prompt & { returnLogits?: boolean }, imageIndex = 0): Promise<Prediction> {
    this.live();
    return this.sam2.predict(prompt, imageIndex);
  }

  /** SAM 2's tensor-level decode (no refinement): `Sam2ImagePredictor.decode`. Call inside tidy. */
  decode(prompt: Prompt, imageIndex = 0): DecodeResult {
    this.live();
    return this.sam2.decode(prompt, imageIndex);
  }

  private size(imageIndex: number): [number, number] {
    this.live();
    const hw = this.sam2.originalSizes[imageIndex];
    if (!hw) throw new Error(`RpSam2Predictor: no image ${imageIndex} is set (call setImage first)`);
    return hw;
  }

  /** Pixel clicks → normalised clicks [B, 2] (x/W, y/H), the shift block's coordinates. */
  private clicksTensor(clicks: Click[], imageIndex: number): Tensor {
    const [h, w] = this.size(imageIndex);
    clicks.forEach((c, i) => {
      if (!Array.isArray(c) || c.length !== 2 || clickProblem(c[0], c[1])) {
        throw new TypeError(`RpSam2Predictor: click ${i} must be [x, y] in pixels (finite numbers), got ${Array.isArray(c) ? `[${c.join(', ')}]` : String(c)}`);
      }
    });
    return tensor(normalizeClicks(clicks.flat(), h, w), [clicks.length, 2]);
  }

  /**
   * The overloaded click argument of `refine` and `predict`: runs `run` on the clicks as a list,
   * the image's size and the clicks as the shift block's input (disposed here afterwards), and
   * answers one result for one click given (not a list), the list otherwise.
   */
  private async perClick<R>(
    c: Click | Click[],
    imageIndex: number,
    run: (clicks: Click[], hw: [number, number], input: Tensor) => Promise<R[]>,
  ): Promise<R | R[]> {
    this.live();
    if (c.length === 0) return [];
    const single = !Array.isArray(c[0]);
    const clicks = (single ? [c] : c) as Click[];
    const hw = this.size(imageIndex);
    const input = this.clicksTensor(clicks, imageIndex);
    let out: R[];
    try {
      out = await run(clicks, hw, input);
    } finally {
      input.dispose();
    }
    return single ? out[0] : out;
  }

  /**
   * Tensor level: normalised clicks [B, 2] → refined clicks [B, 2] (normalised), no gradient.
   * The caller owns the result.
   */
  refineNormalized(clicks: Tensor, imageIndex = 0): Tensor {
    this.live();
    return noGrad(() => tidy(() => this.rp.refine(clicks, imageIndex).refined));
  }

  /** Refined click(s) in pixels for click(s) [x, y] in pixels. */
  refine(click: Click, imageIndex?: number): Promise<Click>;
  refine(clicks: Click[], imageIndex?: number): Promise<Click[]>;
  refine(c: Click | Click[], imageIndex = 0): Promise<Click | Click[]> {
    return this.perClick(c, imageIndex, async (clicks, hw, input) => {
      const refined = this.refineNormalized(input, imageIndex);
      try {
        const d = await refined.data();
        return clicks.map((_, i) => pixelClick(d, i, hw));
      } finally {
        refined.dispose();
      }
    });
  }

  /**
   * Segments from the refined click(s): SAM 2's multimask output for each refined click, the
   * mask with the highest predicted IoU, at the original size.
   */
  predict(click: Click, imageIndex?: number): Promise<RefinedPrediction>;
  predict(clicks: Click[], imageIndex?: number): Promise<RefinedPrediction[]>;
  predict(c: Click | Click[], imageIndex = 0): Promise<RefinedPrediction | RefinedPrediction[]> {
    return this.perClick(c, imageIndex, async (clicks, hw, input) => {
      // The refined clicks through RpSam2.decodeRefined (SAM 2's decodeBest on them), then SAM 2's
      // full-size mask and read-back: the path Sam2ImagePredictor.predictBest takes for a prompt.
      const out = noGrad(() =>
        tidy(() => {
          const refined = this.rp.refine(input, imageIndex).refined;
          const dec = this.rp.decodeRefined(refined, imageIndex);
          return { refined, iou: dec.iou, oneHot: dec.oneHot, selected: dec.selected, full: fullSizeMask(dec.selected, hw) };
        }),
      );
      try {
        const [rd, best] = await Promise.all([out.refined.data(), readBestMasks(out, out.full, hw)]);
        return clicks.map((click, i): RefinedPrediction => ({ click: [click[0], click[1]], refined: pixelClick(rd, i, hw), ...best[i] }));
      } finally {
        for (const t of Object.values(out)) t.dispose();
      }
    });
  }

  /** Frees the image features, and the model and shift block when `load` created them. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sam2.dispose();
    if (this.owned) {
      this.owned.block.dispose();
      this.owned = null;
    }
  }

  /** Calls {@link RpSam2Predictor.dispose}, so `using p = …` frees it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * The paper's name for the same class.
 *
 * @deprecated Use {@link RpSam2Predictor} (the same class); this alias stays for existing code.
 */
export const RPSAM2Predictor = RpSam2Predictor;
/** @deprecated Use {@link RpSam2Predictor}. */
export type RPSAM2Predictor = RpSam2Predictor;

/** Click i of normalised clicks [B, 2] read back, in pixels of an image of size [h, w]. */
function pixelClick(d: ArrayLike<number>, i: number, [h, w]: readonly [number, number]): Click {
  return [d[2 * i] * w, d[2 * i + 1] * h];
}
