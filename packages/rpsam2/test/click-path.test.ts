/**
 * The one click-to-mask path: SAM 2's prompt function (scaling, padding point) gives RP-SAM2's
 * click tokens, SAM 2's best-mask function gives the same masks as `predict`'s best view, and
 * the names that moved to @rpsam2/sam2 stay importable from @rpsam2/rpsam2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cat, mulScalar, noGrad, reshape, tensor, tensorsLost, tidy, zeros } from '@rpsam2/tensor';
import * as sam2 from '@rpsam2/sam2';
import * as rpsam2 from '@rpsam2/rpsam2';
import { Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { clickTokens } from '../src/pipeline/rpsam2.js';
import { clickTokens as stepClickTokens } from '../src/train/step.js';
import { fixtureImage, loadTinySam2 } from './helpers/tiny-sam2.js';

describe('one click-to-mask path', () => {
  let model: Sam2Model;
  let predictor: Sam2ImagePredictor;
  let hw: [number, number];
  beforeAll(async () => {
    model = await loadTinySam2();
    const img = await fixtureImage(model);
    hw = img.hw;
    predictor = new Sam2ImagePredictor(model);
    predictor.setFeatures(img.features, hw);
  });
  afterAll(() => {
    predictor?.dispose();
    model?.dispose();
  });

  it('names that moved to @rpsam2/sam2 are the same objects in @rpsam2/rpsam2; clickTokens is one function', () => {
    expect(rpsam2.selectByIou).toBe(sam2.selectByIou);
    expect(rpsam2.oneHotToIndices).toBe(sam2.oneHotToIndices);
    expect(rpsam2.clickTokens).toBe(clickTokens);
    expect(stepClickTokens).toBe(clickTokens);
  });

  it('clickTokens (through promptPoints) equals the former hand-written click + padding point, bit for bit', async () => {
    const clicks = [0.25, 0.5, 0.7, 0.31, 0.5, 0.5];
    const [ours, former] = noGrad(() =>
      tidy(() => {
        const c = tensor(clicks, [3, 2]);
        const pts = cat([reshape(mulScalar(c, model.cfg.imageSize), [3, 1, 2]), zeros([3, 1, 2])], 1);
        return [clickTokens(model, c), model.promptEncoder.embedPoints(pts, [[1, -1], [1, -1], [1, -1]])];
      }),
    );
    expect(ours.shape).toEqual(former.shape);
    expect(Array.from(await ours.data())).toEqual(Array.from(await former.data()));
    ours.dispose();
    former.dispose();
  });

  it('predictBest gives predict()’s best mask per object (mask, score, index) and its low-res logits', async () => {
    const [h, w] = hw;
    const points = [[[w * 0.4, h * 0.5]], [[w * 0.6, h * 0.3]]];
    const prompt = { points, labels: [[1], [1]], multimaskOutput: true };
    const best = await predictor.predictBest(prompt);
    const pred = await predictor.predict(prompt);
    expect(best).toHaveLength(2);
    best.forEach((b, i) => {
      const ref = pred.objects[i].best;
      expect(b.maskIndex).toBe(ref.index);
      expect(b.score).toBe(ref.score);
      expect(Array.from(b.mask)).toEqual(Array.from(ref.data));
      expect(b.best.data).toBe(b.mask);
      expect([b.width, b.height]).toEqual([w, h]);
      const g = pred.shape.lowRes * pred.shape.lowRes;
      const off = (i * pred.shape.masks + b.maskIndex) * g;
      // predict's low-res logits are clamped to ±32; the fixture's stay inside.
      expect(Array.from(b.lowResLogits)).toEqual(Array.from(pred.lowResLogits.subarray(off, off + g)));
    });
  });

  it('tensorsLost: false for a live model, true once a tensor’s device is lost', () => {
    expect(tensorsLost(model.namedParams().map(([, s]) => s.value))).toBe(false);
    expect(tensorsLost([])).toBe(false);
    expect(tensorsLost([null, { store: { backend: { isLost: true } } }])).toBe(true);
  });
});
