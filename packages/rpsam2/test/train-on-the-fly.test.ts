import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@rpsam2/tensor';
import type { Sam2Model } from '@rpsam2/sam2';
import { openCheckpoint } from '../src/checkpoint/checkpoint.js';
import { ShiftBlock } from '../src/shift-block/shift-block.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { OnTheFlySource } from '../src/train/sources.js';
import { syntheticShapes } from '../src/train/synthetic.js';
import { Trainer } from '../src/train/trainer.js';
import { TINY_SHIFT, loadTinySam2 } from './helpers/tiny-sam2.js';

describe('on-the-fly mode (encoder per step, flips and brightness)', () => {
  let model: Sam2Model;
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-otf-'));
  const dataset = syntheticShapes({ count: 2, height: 40, width: 56, objectsPerImage: [1, 1], seed: 21 });

  beforeAll(async () => {
    model = await loadTinySam2();
  });

  afterAll(() => {
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const opts = { augment: { hflip: true, vflip: true, brightness: 0.3 }, gridStep: 8, epsilon: 0.005 };

  it('prepares augmented objects with candidates recomputed on the augmented image', async () => {
    const src = await OnTheFlySource.create(model, dataset, opts);
    expect(src.objects).toEqual([{ image: 0, object: 0 }, { image: 1, object: 0 }]);
    // A seed whose draws flip both axes (the draw order is fixed: h, v, brightness).
    let seed = 0;
    for (;;) {
      const probe = new SeededRandom(seed);
      if (probe.next() < 0.5 && probe.next() < 0.5) break;
      seed++;
    }
    const rng = new SeededRandom(seed);
    const hflip = true;
    const vflip = true;
    const batch = await src.prepare([{ image: 0, object: 0 }], rng);
    try {
      const o = batch.objects[0];
      const item = await dataset.get(0);
      const [h, w] = o.target.origHW;
      expect([h, w]).toEqual([40, 56]);
      // The prepared mask is the dataset mask under the drawn flips.
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sy = vflip ? h - 1 - y : y;
          const sx = hflip ? w - 1 - x : x;
          expect(o.target.mask[y * w + x]).toBe(item.objects[0].mask[sy * w + sx] ? 1 : 0);
        }
      }
      expect(o.candidates.isCandidate.length).toBe(o.candidates.gridPx.length / 2);
      for (let i = 0; i < o.candidates.isCandidate.length; i++) {
        expect(o.target.mask[o.candidates.gridPx[2 * i + 1] * w + o.candidates.gridPx[2 * i]]).toBe(1);
      }
    } finally {
      batch.release();
      src.dispose();
    }
  });

  it('trains, and resumes exactly (the augmentation draws come from the run’s stream)', async () => {
    const cfg = (out: string) => resolveTrainConfig({ out, mode: 'on-the-fly', sam2: { weights: 'unused' }, epochs: 2, batchSize: 1, clicksPerObject: 2, lr: 1e-3, augment: opts.augment });
    const run = async (out: string, stopAt?: number, resume = false) => {
      const block = new ShiftBlock(TINY_SHIFT).init(0);
      const src = await OnTheFlySource.create(model, dataset, opts);
      const t = new Trainer({ model, block, train: src, val: null, config: cfg(out), out, onProgress: (p) => p.globalStep === stopAt && t.requestStop() });
      try {
        if (resume) await t.resumeFrom(await openCheckpoint(join(out, 'checkpoints', 'last.safetensors')));
        const s = await t.run();
        const w = await Promise.all(block.parameters().map((p) => p.data()));
        return { s, w };
      } finally {
        t.dispose();
        src.dispose();
        block.dispose();
      }
    };
    const a = await run(join(root, 'a'));
    expect(a.s.reason).toBe('done');
    expect(a.s.state.globalStep).toBe(4);
    expect(Number.isFinite(a.s.lastStep!.total)).toBe(true);
    const b1 = await run(join(root, 'b'), 1);
    expect(b1.s.reason).toBe('stopped');
    const b2 = await run(join(root, 'b'), undefined, true);
    expect(b2.s.state.globalStep).toBe(4);
    b2.w.forEach((w, i) => expect(w).toEqual(a.w[i]));
  });
});
