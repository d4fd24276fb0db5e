/**
 * Hiera-L's real configuration (presetConfig('l'): 48 blocks, 144→1152 channels, windows
 * [8, 4, 16, 8], global blocks 23/33/43) with random f16 weights, through the whole image path at
 * a reduced image size of 256 (every stage's grid 64/32/16/8 is a multiple of its window, as at
 * 1024, so no padding path is taken that 1024 would not take). The full 1024 run is
 * `sam2 info --config l --measure` / `bench sam2 --sizes l`.
 */
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../src/config.js';
import { Sam2ImagePredictor } from '../src/predictor/image-predictor.js';
import { loadSam2 } from '../src/weights/load.js';

describe('Hiera-L (random weights, reduced size)', () => {
  it('runs the image path at 256 with finite outputs of the right shapes', async () => {
    const cfg = { ...presetConfig('l'), imageSize: 256 };
    const grids = cfg.trunk.stages.map((_, i) => cfg.imageSize / 4 / 2 ** i);
    expect(grids).toEqual([64, 32, 16, 8]);
    // A stage's windows must tile its grid (the first block of a stage uses the previous window).
    grids.forEach((g, i) => expect(g % cfg.trunk.windowSpec[i]).toBe(0));
    grids.slice(1).forEach((g, i) => expect((2 * g) % cfg.trunk.windowSpec[i]).toBe(0));

    const { model, report } = await loadSam2({ config: cfg, weights: { random: { seed: 3 } }, dtype: 'f16' });
    const predictor = new Sam2ImagePredictor(model);
    try {
      expect(report.parameters).toBe(216_925_121);
      expect(report.f16Parameters / report.parameters).toBeGreaterThan(0.99);
      const data = new Uint8Array(300 * 200 * 3).map((_, i) => (i * 37) % 251);
      await predictor.setImage({ width: 300, height: 200, channels: 3, data });
      const f = predictor.getFeatures();
      expect(f.imageEmbed.shape).toEqual([1, 256, 16, 16]);
      expect(f.highRes[0].shape).toEqual([1, 32, 64, 64]);
      expect(f.highRes[1].shape).toEqual([1, 64, 32, 32]);
      for (const t of [f.imageEmbed, ...f.highRes]) expect((await t.data()).every(Number.isFinite)).toBe(true);
      const p = await predictor.predict({ points: [[150, 100]], labels: [1], box: [20, 30, 250, 180], multimaskOutput: true, returnLogits: true });
      expect(p.shape).toEqual({ batch: 1, masks: 3, height: 200, width: 300, lowRes: 64 });
      expect(p.masks.length).toBe(3 * 200 * 300);
      for (const a of [p.masks, p.iou, p.lowResLogits, p.objectScore]) expect(a.every(Number.isFinite)).toBe(true);
    } finally {
      predictor.dispose();
      model.dispose();
    }
  }, 900_000);
});
