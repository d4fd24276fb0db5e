/**
 * One device, three users at once: a SAM 2 predictor, an RP-SAM2 predictor (both on one model)
 * and a training job, interleaved with Promise.all at every readback. Each one's results must
 * equal what it computes alone (no buffer of one reused or freed under another), and the pool
 * ends where it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '@rpsam2/tensor';
import { Sam2ImagePredictor, loadWeights, type Sam2Model } from '@rpsam2/sam2';
import type { FeatureCache } from '../src/cache/feature-cache.js';
import { RpSam2Predictor, type Click } from '../src/predictor/rp-sam2-predictor.js';
import { ShiftBlock } from '../src/shift-block/shift-block.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { CachedSource } from '../src/train/sources.js';
import { syntheticShapes, syntheticShapesItem } from '../src/train/synthetic.js';
import { Trainer } from '../src/train/trainer.js';
import { RP_DIR, TINY_SHIFT, loadTinySam2, open, tinyFeatureCache } from './helpers/tiny-sam2.js';

describe('two predictors and a training job sharing the device', () => {
  let model: Sam2Model;
  let block: ShiftBlock;
  let cache: FeatureCache;
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-concurrency-'));
  const imageA = syntheticShapesItem(0, { height: 48, width: 64, seed: 11 }).image;
  const imageB = syntheticShapesItem(1, { height: 40, width: 56, seed: 12 }).image;

  beforeAll(async () => {
    model = await loadTinySam2();
    block = new ShiftBlock(TINY_SHIFT);
    await loadWeights(block, await open(RP_DIR + 'shift_block.safetensors'));
    cache = await tinyFeatureCache(model, syntheticShapes({ count: 2, height: 48, width: 64, objectsPerImage: [1, 2], seed: 5 }), root);
  });

  afterAll(() => {
    block.dispose();
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  /** SAM 2 on image A: a click, a click pair, a box, each read back (a new image half-way). */
  async function sam2Job(): Promise<Float32Array[]> {
    using p = new Sam2ImagePredictor(model);
    const out: Float32Array[] = [];
    for (const img of [imageA, imageB]) {
      await p.setImage(img);
      out.push((await p.predict({ points: [[20, 20]], labels: [1] })).masks);
      out.push((await p.predict({ points: [[10, 12], [30, 25]], labels: [1, 0], multimaskOutput: false })).iou);
      out.push((await p.predict({ box: [5, 5, 40, 30] })).lowResLogits);
    }
    return out;
  }

  /** RP-SAM2 on image B: refined clicks and masks, one click at a time and a batch. */
  async function rpJob(): Promise<unknown[]> {
    using p = new RpSam2Predictor(new Sam2ImagePredictor(model), block);
    const out: unknown[] = [];
    for (const img of [imageB, imageA]) {
      await p.setImage(img);
      for (const c of [[15, 20], [30, 10]] as Click[]) {
        const r = await p.predict(c);
        out.push(r.refined, r.mask, r.iou);
      }
      out.push((await p.predict([[5, 5], [25, 30]] as Click[])).map((r) => r.lowResLogits));
    }
    return out;
  }

  /** Two optimizer steps of a fresh shift block on the cache: the losses and the final weights. */
  async function trainJob(): Promise<unknown[]> {
    const b = new ShiftBlock(TINY_SHIFT).init(0);
    const src = new CachedSource(model, cache, undefined, 8);
    const config = resolveTrainConfig({ out: 'unused', sam2: { weights: 'unused' }, epochs: 2, batchSize: 2, clicksPerObject: 2, lr: 1e-3, seed: 7, maxSteps: 2, data: { valFraction: 0 } }, []);
    const losses: number[] = [];
    const trainer = new Trainer({ model, block: b, train: src, val: null, config, out: null, onProgress: (p) => losses.push(p.result.total) });
    try {
      await trainer.run();
      const weights: Float32Array[] = [];
      for (const t of b.parameters()) weights.push(await t.data());
      return [losses, weights];
    } finally {
      trainer.dispose();
      src.dispose();
      b.dispose();
    }
  }

  it('interleaved with Promise.all, each result equals the one computed alone', async () => {
    const alone = [await sam2Job(), await rpJob(), await trainJob()];
    const dispatches = getBackend().dispatchCount;
    const together = await Promise.all([sam2Job(), rpJob(), trainJob()]);
    expect(getBackend().dispatchCount).toBeGreaterThan(dispatches);
    expect(together[0]).toEqual(alone[0]);
    expect(together[1]).toEqual(alone[1]);
    expect(together[2]).toEqual(alone[2]);
  });
});
