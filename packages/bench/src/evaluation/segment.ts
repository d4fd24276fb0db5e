/**
 * One click → one mask, the way the protocol asks for it: SAM 2 with multimask output, the mask
 * with the highest predicted IoU (first on ties), its logits upsampled bilinearly to the original
 * size and thresholded at 0: SAM 2's one best-mask path (`Sam2ImagePredictor.predictBest`).
 * RP-SAM2 first moves the click with its shift block (`RpSam2Predictor.predict`, the same path
 * on the refined click). Clicks are decoded in batches whose full-size masks stay below
 * {@link MAX_BATCH_PIXELS}.
 */
import type { RpSam2Predictor } from '@rpsam2/rpsam2';
import type { Sam2ImagePredictor } from '@rpsam2/sam2';

/** A click position handed to the model: (x, y) in original-image pixels (continuous). */
export type Point = [number, number];

/** The mask of one click. */
export interface ClickMask {
  /** H×W, 0/1. */
  mask: Uint8Array;
  /** The chosen mask's predicted IoU. */
  score: number;
  /** Which of the three multimask outputs (0–2). */
  maskIndex: number;
  /** Where SAM 2 was prompted after refinement (pixels); null without refinement. */
  refined: Point | null;
}

/** Upsampled masks per decode call stay below this many pixels (the f32 readback: 4 bytes each). */
export const MAX_BATCH_PIXELS = 8 * 1024 * 1024;

/** Clicks per decode call for an H×W image. */
export function clicksPerBatch(height: number, width: number): number {
  return Math.max(1, Math.floor(MAX_BATCH_PIXELS / (height * width)));
}

/**
 * SAM 2 alone: the best-IoU multimask output for each click (image `imageIndex` of the
 * predictor), through SAM 2's one best-mask path (`Sam2ImagePredictor.predictBest`).
 */
export async function segmentWithSam2(predictor: Sam2ImagePredictor, points: readonly Point[], imageIndex = 0): Promise<ClickMask[]> {
  const hw = predictor.originalSizes[imageIndex];
  if (!hw) throw new Error(`segmentWithSam2: no image ${imageIndex} is set on the predictor`);
  const out: ClickMask[] = [];
  const per = clicksPerBatch(hw[0], hw[1]);
  for (let s = 0; s < points.length; s += per) {
    const part = points.slice(s, s + per);
    const res = await predictor.predictBest({ points: part.map((p) => [[p[0], p[1]]]), labels: part.map(() => [1]), multimaskOutput: true }, imageIndex);
    for (const r of res) out.push({ mask: r.mask, score: r.score, maskIndex: r.maskIndex, refined: null });
  }
  return out;
}

/** RP-SAM2: refine each click with the shift block, then the same as {@link segmentWithSam2}. */
export async function segmentWithRpSam2(predictor: RpSam2Predictor, points: readonly Point[], imageIndex = 0): Promise<ClickMask[]> {
  const hw = predictor.originalSizes[imageIndex];
  if (!hw) throw new Error(`segmentWithRpSam2: no image ${imageIndex} is set on the predictor`);
  const per = clicksPerBatch(hw[0], hw[1]);
  const out: ClickMask[] = [];
  for (let s = 0; s < points.length; s += per) {
    const res = await predictor.predict(
      points.slice(s, s + per).map((p) => [p[0], p[1]] as [number, number]),
      imageIndex,
    );
    for (const r of res) out.push({ mask: r.mask, score: r.score, maskIndex: r.maskIndex, refined: [r.refined[0], r.refined[1]] });
  }
  return out;
}
