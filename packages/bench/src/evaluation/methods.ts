/**
 * The compared methods, grouped by the SAM 2 model they run on: every method of a group reads the
 * same image features (encoded once per model and image), so SAM 2 and RP-SAM2 on the same SAM 2
 * — and any number of RP-SAM2 variants, as in the ablations — share one encoder pass.
 */
import { RpSam2Predictor, type ShiftBlock } from '@rpsam2/rpsam2';
import type { Sam2ImagePredictor } from '@rpsam2/sam2';
import { segmentWithRpSam2, segmentWithSam2, type ClickMask, type Point } from './segment.js';

/** One column of the table. */
export interface EvalMethod {
  /** The column header ('SAM 2', 'RP-SAM2', an extra row's name, an ablation variant). */
  name: string;
  kind: 'sam2' | 'rpsam2';
  /** Masks of the points on the image whose features are set on the group's predictor. */
  segment(points: readonly Point[]): Promise<ClickMask[]>;
}

/** Plain SAM 2 on a predictor. */
export function sam2Method(name: string, predictor: Sam2ImagePredictor): EvalMethod {
  return { name, kind: 'sam2', segment: (points) => segmentWithSam2(predictor, points) };
}

/**
 * RP-SAM2: a shift block in front of the SAM 2 of `predictor`. The wrapper shares the predictor
 * (and its features) and owns nothing: the caller disposes the predictor and the block.
 */
export function rpsam2Method(name: string, predictor: Sam2ImagePredictor, block: ShiftBlock): EvalMethod {
  const rp = new RpSam2Predictor(predictor, block);
  return { name, kind: 'rpsam2', segment: (points) => segmentWithRpSam2(rp, points) };
}
