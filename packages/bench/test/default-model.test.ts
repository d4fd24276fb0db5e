/**
 * The shipped default model (packages/sam2/models/synthetic) segments for real: one click inside
 * an instrument of a held-out generated frame gives its mask (Dice ≥ 0.7, fixed seed), the way
 * `predict` and `pnpm bench` use it (multimask output, mask with the highest predicted IoU).
 */
import { describe, expect, it } from 'vitest';
import { Sam2ImagePredictor, loadDefaultSam2 } from '@rpsam2/sam2';
import { SAM2_EVAL_DATA_SEED } from '../src/sam2-training/synthetic-source.js';
import { dice } from '../src/metrics/dice.js';
import { segmentWithSam2 } from '../src/evaluation/segment.js';
import { largestInstrumentClick } from './helpers/held-out-click.js';

/** A held-out frame (dataset seed of the model card's evaluation, beyond its frames 100–123). */
const FRAME = 300;

describe('the shipped default model', () => {
  it('segments the largest instrument of a held-out frame from one click with Dice ≥ 0.7', async () => {
    const { model } = await loadDefaultSam2();
    const predictor = new Sam2ImagePredictor(model);
    try {
      const { frame: f, gt, click } = largestInstrumentClick(SAM2_EVAL_DATA_SEED, FRAME, 'default-model-test');
      await predictor.setImage({ width: f.width, height: f.height, data: f.rgb, channels: 3 });
      const [result] = await segmentWithSam2(predictor, [[click.x, click.y]]);
      const d = dice({ width: f.width, height: f.height, data: result.mask }, gt);
      expect(d, `Dice of the one-click mask: ${d.toFixed(4)}`).toBeGreaterThanOrEqual(0.7);
    } finally {
      predictor.dispose();
      model.dispose();
    }
  });
});
