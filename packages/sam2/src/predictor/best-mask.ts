/**
 * SAM 2's multimask convention in one place: of the decoder's masks for a click, take the one
 * with the highest predicted IoU (argmax, first on ties; the choice without gradient, the chosen
 * logits keep theirs), upsample its low-res logits bilinearly (align_corners false) to the
 * original size and threshold them at 0. `Sam2ImagePredictor.predictBest` (and through it
 * `RpSam2Predictor.predict`, the bench's evaluation and the studio) and RP-SAM2's training,
 * verification and candidate search all choose masks with these functions.
 */
import { argmaxOneHot, greater, interpolate, mul, reshape, sum, type Tensor } from '@rpsam2/tensor';
import type { ImageFeatures, Sam2Model } from '../model/sam2-model.js';
import type { DecodeResult, Prompt } from './image-predictor.js';
import { MaskView } from './mask-view.js';
import { decodePrompt } from './prompt.js';

/** The selected masks and the choice. */
export interface Selection {
  /** [B, 1, h, w] the chosen logits (gradient flows to the chosen mask only). */
  logits: Tensor;
  /** [B, K] one-hot of the choice (no gradient). */
  oneHot: Tensor;
}

/**
 * masks [B, K, h, w] (e.g. SAM 2's three multimask outputs), iou [B, K] → per click the mask
 * with the highest predicted IoU. Runs on the GPU without readback.
 */
export function selectByIou(masks: Tensor, iou: Tensor): Selection {
  if (masks.rank !== 4 || iou.rank !== 2 || iou.shape[0] !== masks.shape[0] || iou.shape[1] !== masks.shape[1]) {
    throw new RangeError(`selectByIou: masks [${masks.shape}] and iou [${iou.shape}] must be [B, K, h, w] and [B, K]`);
  }
  const oneHot = argmaxOneHot(iou);
  const logits = sum(mul(masks, reshape(oneHot, [...oneHot.shape, 1, 1])), 1, true);
  return { logits, oneHot };
}

/** Reads a one-hot [B, K] back as indices. */
export async function oneHotToIndices(oneHot: Tensor): Promise<Int32Array> {
  const [b, k] = oneHot.shape;
  const d = await oneHot.data();
  const out = new Int32Array(b);
  for (let i = 0; i < b; i++) out[i] = oneHotIndex(d, i, k);
  return out;
}

/** Row i of a one-hot [B, K] read back: its index (the last set one; 0 if none). */
function oneHotIndex(d: ArrayLike<number>, i: number, k: number): number {
  let best = 0;
  for (let j = 0; j < k; j++) if (d[i * k + j] > 0.5) best = j;
  return best;
}

/** A decode with its best-IoU choice (tensors belong to the enclosing tidy). */
export interface BestDecode extends DecodeResult {
  /** [B, 1, 4g, 4g] the chosen low-res logits (gradient to them only). */
  selected: Tensor;
  /** [B, K] one-hot of the choice. */
  oneHot: Tensor;
}

/**
 * Prompt encoder + mask decoder ({@link decodePrompt}) and the best-IoU choice: the tensor level
 * of "best mask", differentiable w.r.t. a points tensor. Call inside `tidy`.
 */
export function decodeBest(model: Sam2Model, features: ImageFeatures, p: Prompt, origHW: readonly [number, number]): BestDecode {
  const r = decodePrompt(model, features, p, origHW);
  const { logits, oneHot } = selectByIou(r.lowRes, r.iou);
  return { ...r, selected: logits, oneHot };
}

/** Low-res logits [B, 1, 4g, 4g] → 0/1 masks [B, 1, H, W]: bilinear upsampling (align_corners false), threshold at 0. */
export function fullSizeMask(logits: Tensor, origHW: readonly [number, number]): Tensor {
  return greater(interpolate(logits, { size: [origHW[0], origHW[1]], mode: 'bilinear', alignCorners: false }), 0);
}

/** One object's best-IoU mask at the original size, read back. */
export interface BestMask {
  /** H×W 0/1 mask. */
  mask: Uint8Array;
  /** The same mask as a view (its `data` is `mask`) with `score` and `index`. */
  best: MaskView;
  /** Its predicted IoU. */
  score: number;
  /** Which of the decoder's masks it is (0–2 with multimask output, 0 without). */
  maskIndex: number;
  /** The predicted IoU of all K masks. */
  iou: Float32Array;
  /** The chosen mask's low-res logits [4g·4g] (e.g. SAM 2's `maskInput` for a follow-up). */
  lowResLogits: Float32Array;
  width: number;
  height: number;
}

/**
 * Reads back a {@link decodeBest} result with its {@link fullSizeMask} ([B, 1, H, W]) as one
 * {@link BestMask} per object. Disposes nothing.
 */
export async function readBestMasks(d: { selected: Tensor; oneHot: Tensor; iou: Tensor }, full: Tensor, origHW: readonly [number, number]): Promise<BestMask[]> {
  const [h, w] = origHW;
  const [iou, oh, low, fm] = await Promise.all([d.iou.data(), d.oneHot.data(), d.selected.data(), full.data()]);
  const b = d.iou.shape[0];
  const k = d.iou.shape[1];
  const g = d.selected.shape[2] * d.selected.shape[3];
  const n = h * w;
  return Array.from({ length: b }, (_, i): BestMask => {
    const idx = oneHotIndex(oh, i, k);
    const mask = new Uint8Array(n);
    for (let p = 0; p < n; p++) mask[p] = fm[i * n + p] > 0.5 ? 1 : 0;
    const score = iou[i * k + idx];
    return {
      mask,
      best: new MaskView(mask, w, h, score, idx),
      score,
      maskIndex: idx,
      iou: iou.slice(i * k, (i + 1) * k),
      lowResLogits: low.slice(i * g, (i + 1) * g),
      width: w,
      height: h,
    };
  });
}
