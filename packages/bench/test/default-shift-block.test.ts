/**
 * The shipped default shift block (packages/rpsam2/models/synthetic) with the default SAM 2, the
 * way a new user meets it: `RpSam2Predictor.load()` with no arguments segments an instrument of a
 * generated frame from one click (the refined click stays on the instrument and the mask has
 * Dice ≥ 0.7); SAM 2 weights of one's own without a shift block are refused with the fix.
 */
import { describe, expect, it } from 'vitest';
import { RpSam2Predictor, DEFAULT_SHIFT_BLOCK_SAM2, defaultShiftBlockPaths, openCheckpoint } from '@rpsam2/rpsam2';
import { RPSAM2_DATA_SEED } from '../src/rpsam2-training/recipe.js';
import { dice } from '../src/metrics/dice.js';
import { largestInstrumentClick } from './helpers/held-out-click.js';

/** A frame of the shift block's data seed beyond its 150 generated frames (never trained on). */
const FRAME = 400;

describe('the shipped default shift block', () => {
  it('RpSam2Predictor.load() with no arguments: default SAM 2 + default block, one click → the instrument', async () => {
    const predictor = await RpSam2Predictor.load();
    try {
      expect(predictor.model.cfg.name).toBe(DEFAULT_SHIFT_BLOCK_SAM2);
      const { frame: f, gt, click } = largestInstrumentClick(RPSAM2_DATA_SEED, FRAME, 'default-shift-block-test');
      await predictor.setImage({ width: f.width, height: f.height, data: f.rgb, channels: 3 });
      const p = await predictor.predict([click.x, click.y]);
      const [rx, ry] = p.refined.map(Math.round);
      expect(gt.data[ry * f.width + rx], `refined click ${p.refined} off the instrument`).toBe(1);
      const d = dice({ width: f.width, height: f.height, data: p.mask }, gt);
      expect(d, `Dice of the one-click mask: ${d.toFixed(4)}`).toBeGreaterThanOrEqual(0.7);
    } finally {
      predictor.dispose();
    }
  });

  it('its folder opens as a shift block (pnpm bench table1 --shift-block packages/rpsam2/models/synthetic)', async () => {
    const p = await defaultShiftBlockPaths();
    const ck = await openCheckpoint(p.dir);
    expect(ck.path).toBe(p.weights);
    expect(ck.shiftBlock).toMatchObject({ dModel: 64, heads: 8, layers: 6, imageTokens: 1024, head: 'pointer', refineSteps: 2 });
  });

  it('SAM 2 weights of your own without a shift block: a clear error naming the fix', async () => {
    await expect(RpSam2Predictor.load({ sam2Weights: '/models/sam2.1_hiera_large.pt' })).rejects.toThrow(
      /no shift block given for SAM 2 weights \/models\/sam2\.1_hiera_large\.pt: the shipped default shift block fits only the embedded default model 'sam2\.1-synthetic'\. Train one/,
    );
  });
});
