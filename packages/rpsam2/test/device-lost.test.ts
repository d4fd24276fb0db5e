/**
 * A lost GPU device under the predictors (simulated with `device.destroy()`): calls reject with
 * DeviceLostError within a time bound (no hang), `recover()` makes a new device, loads SAM 2 and
 * the shift block again and encodes the image again, and the masks equal those from before the
 * loss; the old pool ends at 0 bytes and the new one where it started.
 */
import { describe, expect, it } from 'vitest';
import { DeviceLostError, getBackend } from '@rpsam2/tensor';
import { Sam2ImagePredictor, parseOfficialConfig } from '@rpsam2/sam2';
import { RpSam2Predictor } from '../src/predictor/rp-sam2-predictor.js';
import { syntheticShapesItem } from '../src/train/synthetic.js';
import { RP_DIR, SAM2_META, SAM2_WEIGHTS, loadTinySam2 } from './helpers/tiny-sam2.js';

const sam2Config = parseOfficialConfig({ ...SAM2_META.model_config, image_size: SAM2_META.image_size }, 'tiny256');
const image = syntheticShapesItem(0, { height: 48, width: 64, seed: 3 }).image;

/** `p`'s rejection, or a failure if it neither settles within `ms` (a hang) nor rejects. */
async function rejection(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((r) => (timer = setTimeout(() => r(new Error(`no answer within ${ms} ms (hang)`)), ms)));
  try {
    return await Promise.race([p.then(() => new Error('resolved after the device was lost'), (e: unknown) => e), hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('predictors after a lost GPU device', () => {
  it('reject with DeviceLostError, recover() reloads and re-encodes, and the masks are the same as before', async () => {
    const rp = await RpSam2Predictor.load({ sam2Weights: SAM2_WEIGHTS, sam2Config, shiftBlock: RP_DIR + 'shift_block.safetensors' });
    const sam2 = await Sam2ImagePredictor.load({ weights: SAM2_WEIGHTS, config: sam2Config });
    // A predictor on a model of the caller's cannot reload it: recover() says so.
    const model = await loadTinySam2();
    const bare = new Sam2ImagePredictor(model);
    try {
      await rp.setImage(image);
      await sam2.setImage(image);
      const click: [number, number] = [20, 30];
      const before = await rp.predict(click);
      const beforeSam2 = await sam2.predict({ points: [click], labels: [1] });
      await rp.recover(); // the device is alive: nothing to do
      expect((await rp.predict(click)).mask).toEqual(before.mask);

      const old = getBackend();
      old.device.destroy();
      for (const e of [await rejection(rp.predict(click)), await rejection(sam2.predict({ points: [click], labels: [1] }))]) {
        expect(e).toBeInstanceOf(DeviceLostError);
        expect((e as Error).message).toMatch(/GPU device was lost.*await predictor\.recover\(\)/);
      }
      await expect(rp.setImage(image)).rejects.toThrow(DeviceLostError);
      await expect(bare.recover()).rejects.toThrow(/passed to the constructor, so this predictor cannot load it again/);

      await rp.recover();
      await sam2.recover();
      expect(getBackend()).not.toBe(old);
      expect(rp.hasImage && sam2.hasImage).toBe(true);
      const after = await rp.predict(click);
      expect(after.refined).toEqual(before.refined);
      expect(after.mask).toEqual(before.mask);
      expect(after.score).toBe(before.score);
      expect((await sam2.predict({ points: [click], labels: [1] })).masks).toEqual(beforeSam2.masks);
      // The lost pool: once the old model and features are gone only the caller's model is left on it.
      bare.dispose();
      model.dispose();
      expect(old.stats()).toMatchObject({ liveBytes: 0, liveBuffers: 0, pooledBytes: 0 });
    } finally {
      rp.dispose();
      sam2.dispose();
      bare.dispose();
      model.dispose();
    }
    // (The setup's afterEach checks that the new backend's pool is back where the test started.)
  });
});
