import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greater, interpolate, mulScalar, noGrad, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { Sam2ImagePredictor, loadWeights, parseOfficialConfig, type Sam2Model } from '@rpsam2/sam2';
import { RpSam2Predictor, RPSAM2Predictor, type Click } from '../src/predictor/rp-sam2-predictor.js';
import { ShiftBlock, PAPER_SHIFT_BLOCK } from '../src/shift-block/shift-block.js';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { RP_DIR, SAM2_DIR, SAM2_META, SAM2_WEIGHTS, TINY_SHIFT, disposeFeatures, fixtureImage, loadTinySam2, open } from './helpers/tiny-sam2.js';

describe('RpSam2Predictor (tiny256 SAM 2 + the fixture shift block)', () => {
  let model: Sam2Model;
  let block: ShiftBlock;
  let predictor: RpSam2Predictor;
  let golden: Awaited<ReturnType<typeof open>>;
  let clicksPx: Click[];
  let hw: [number, number];
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-pred-'));

  beforeAll(async () => {
    model = await loadTinySam2();
    block = new ShiftBlock(TINY_SHIFT);
    await loadWeights(block, await open(RP_DIR + 'shift_block.safetensors'));
    predictor = new RpSam2Predictor(new Sam2ImagePredictor(model), block);
    const img = await fixtureImage(model);
    hw = img.hw;
    predictor.setFeatures(img.features, img.hw);
    golden = await open(RP_DIR + 'golden.safetensors');
    const c = await golden.readF32('clicks_px');
    clicksPx = Array.from({ length: c.length / 2 }, (_, i) => [c[2 * i], c[2 * i + 1]] as Click);
  });

  afterAll(() => {
    predictor.dispose();
    block.dispose();
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('refine: pixels in, the fixture’s refined clicks (× W, H) out; one click or many', async () => {
    const [h, w] = hw;
    const want = await golden.readF32('refined_norm');
    const many = await predictor.refine(clicksPx);
    expect(many.length).toBe(10);
    many.forEach(([x, y], i) => {
      expect(Math.abs(x - want[2 * i] * w)).toBeLessThan(1e-3 * w);
      expect(Math.abs(y - want[2 * i + 1] * h)).toBeLessThan(1e-3 * h);
    });
    const one = await predictor.refine(clicksPx[3]);
    expect(one[0]).toBeCloseTo(many[3][0], 3);
    expect(one[1]).toBeCloseTo(many[3][1], 3);
    expect(await predictor.refine([])).toEqual([]);
  });

  it('predict: the best-IoU multimask output of the refined click at the original size', async () => {
    const [h, w] = hw;
    const preds = await predictor.predict(clicksPx);
    const idx = await golden.readF32('selected_mask_index');
    const iou = await golden.readF32('iou');
    const low = await golden.readF32('low_res_selected');
    // The golden low-res logits, upsampled and thresholded: the expected masks.
    const full = noGrad(() => tidy(() => greater(interpolate(tensor(low, [10, 1, 64, 64]), { size: [h, w], mode: 'bilinear', alignCorners: false }), 0)));
    const wantMasks = await full.data();
    full.dispose();
    preds.forEach((p, i) => {
      expect(p.width).toBe(w);
      expect(p.height).toBe(h);
      expect(p.mask.length).toBe(h * w);
      expect(p.maskIndex).toBe(idx[i]);
      expect(p.score).toBeCloseTo(iou[3 * i + idx[i]], 4);
      expect(Array.from(p.iou).map((v) => +v.toFixed(4))).toEqual(Array.from(iou.slice(3 * i, 3 * i + 3)).map((v) => +v.toFixed(4)));
      expect(p.lowResLogits.length).toBe(64 * 64);
      let differ = 0;
      for (let j = 0; j < h * w; j++) if (p.mask[j] !== wantMasks[i * h * w + j]) differ++;
      // Only pixels whose logit is within rounding of 0 may differ.
      expect(differ).toBeLessThan(h * w * 1e-3);
    });
    const single = await predictor.predict(clicksPx[0]);
    expect(single.refined).toEqual(preds[0].refined);
    expect(single.mask).toEqual(preds[0].mask);
  });

  it('passes the SAM 2 predictor through', async () => {
    expect(predictor.model).toBe(model);
    expect(predictor.originalSizes).toEqual([hw]);
    expect(predictor.hasImage).toBe(true);
    const raw = await predictor.predictSam2({ points: [[120, 202.5]], labels: [1], multimaskOutput: true });
    const want = await (await open(SAM2_DIR + 'golden.safetensors')).readF32('p1_point_multimask.iou');
    Array.from(raw.iou).forEach((v, i) => expect(v).toBeCloseTo(want[i], 3));
    expect(RPSAM2Predictor).toBe(RpSam2Predictor);
  });

  it('results as mask views: per object, each with its score, and the best one (both predictors)', async () => {
    const [h, w] = hw;
    const raw = await predictor.predictSam2({ points: [[120, 202.5], [60, 40]], labels: [1, 0], multimaskOutput: true });
    const { batch, masks: k } = raw.shape;
    expect(raw.objects.length).toBe(batch);
    const o = raw.objects[0];
    expect(o.masks.map((m) => m.score)).toEqual(Array.from(raw.iou.slice(0, k)));
    expect(o.objectScore).toBe(raw.objectScore[0]);
    o.masks.forEach((m, j) => {
      expect([m.width, m.height, m.index]).toEqual([w, h, j]);
      // The view is the flat [B, K, H, W] array's plane, as 0/1 bytes.
      expect(Array.from(m.data)).toEqual(Array.from(raw.masks.subarray(j * h * w, (j + 1) * h * w)));
      expect(m.area).toBe(m.data.reduce((s, v) => s + v, 0));
    });
    const top = Array.from(raw.iou.slice(0, k)).indexOf(Math.max(...raw.iou.slice(0, k)));
    expect(raw.best).toBe(o.masks[top]);
    expect(o.best).toBe(raw.best);
    // Logits threshold to the same masks.
    const logits = await predictor.predictSam2({ points: [[120, 202.5], [60, 40]], labels: [1, 0], multimaskOutput: true, returnLogits: true });
    expect(logits.best.data).toEqual(raw.best.data);

    const rp = await predictor.predict(clicksPx[0]);
    expect(rp.best.data).toBe(rp.mask);
    expect([rp.best.score, rp.best.index, rp.best.width, rp.best.height]).toEqual([rp.score, rp.maskIndex, w, h]);
  });

  it('dispose: the same rule for both predictors (features freed, models passed in stay the caller\'s, later calls say "disposed")', async () => {
    const img = await fixtureImage(model);
    const copy = (t: Tensor) => noGrad(() => mulScalar(t, 1));
    const sam2 = new Sam2ImagePredictor(model);
    sam2.setFeatures({ imageEmbed: copy(img.features.imageEmbed), highRes: [copy(img.features.highRes[0]), copy(img.features.highRes[1])] }, hw);
    const rp = new RpSam2Predictor(sam2, block);
    expect(rp.isDisposed).toBe(false);
    rp[Symbol.dispose]();
    rp.dispose(); // idempotent
    // The wrapped SAM 2 predictor (it held the features) is disposed with it.
    expect([rp.isDisposed, sam2.isDisposed, sam2.hasImage]).toEqual([true, true, false]);
    await expect(rp.predict(clicksPx[0])).rejects.toThrow(/^RpSam2Predictor: disposed/);
    await expect(rp.refine(clicksPx[0])).rejects.toThrow(/^RpSam2Predictor: disposed/);
    expect(() => rp.setFeatures(img.features, hw)).toThrow(/^RpSam2Predictor: disposed/);
    await expect(sam2.predict({ points: [[1, 2]], labels: [1] })).rejects.toThrow(/^Sam2ImagePredictor: disposed/);
    await expect(sam2.setImage({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) })).rejects.toThrow(/^Sam2ImagePredictor: disposed/);
    expect(() => sam2.getFeatures()).toThrow(/^Sam2ImagePredictor: disposed/);
    expect(() => sam2.resetImage()).toThrow(/^Sam2ImagePredictor: disposed/);

    // The model and the shift block were passed in: still usable by another predictor.
    using again = new RpSam2Predictor(new Sam2ImagePredictor(model), block);
    again.setFeatures(img.features, hw);
    expect((await again.predict(clicksPx[0])).mask).toEqual((await predictor.predict(clicksPx[0])).mask);
  });

  it('dispose: a predictor made by load owns its model and frees it (both predictors)', async () => {
    const img = await fixtureImage(model);
    const copy = (t: Tensor) => noGrad(() => mulScalar(t, 1));
    const sam2Config = parseOfficialConfig({ ...SAM2_META.model_config, image_size: SAM2_META.image_size }, 'tiny256');
    const owned = await Sam2ImagePredictor.load({ weights: SAM2_WEIGHTS, config: sam2Config });
    owned.setFeatures({ imageEmbed: copy(img.features.imageEmbed), highRes: [copy(img.features.highRes[0]), copy(img.features.highRes[1])] }, hw);
    const want = await predictor.predictSam2({ points: [[120, 202.5]], labels: [1] });
    expect((await owned.predict({ points: [[120, 202.5]], labels: [1] })).best.data).toEqual(want.best.data);
    const weight = owned.model.imageEncoder.trunk.patchEmbed.weight;
    owned.dispose();
    expect(weight.value).toBeNull();
    await expect(Sam2ImagePredictor.load({ config: sam2Config })).rejects.toThrow(/a config or size needs weights/);

    const rp = await RpSam2Predictor.load({ sam2Weights: SAM2_WEIGHTS, sam2Config, shiftBlock: RP_DIR + 'shift_block.safetensors' });
    const rpWeight = rp.model.imageEncoder.trunk.patchEmbed.weight;
    rp.dispose();
    expect(rpWeight.value).toBeNull();
    disposeFeatures(img.features);
  });

  it('loads from a training checkpoint and from a plain shift-block file, with the same answers', async () => {
    const ckPath = join(root, 'run', 'checkpoints', 'best.safetensors');
    await saveCheckpoint(ckPath, { block, state: { epoch: 1, stepInEpoch: 0, globalStep: 5, rngState: 1, bestValDice: 0.5, bestEpoch: 1 }, config: {}, kind: 'best' });
    const want = await predictor.refine(clicksPx.slice(0, 3));
    const img = await fixtureImage(model);
    const sam2Config = parseOfficialConfig({ ...SAM2_META.model_config, image_size: SAM2_META.image_size }, 'tiny256');
    for (const shiftBlock of [join(root, 'run'), ckPath, RP_DIR + 'shift_block.safetensors']) {
      const p = await RpSam2Predictor.load({ sam2Weights: SAM2_WEIGHTS, sam2Config, shiftBlock });
      try {
        // The predictor takes over the features it is given: hand it copies.
        const copy = (t: Tensor) => noGrad(() => mulScalar(t, 1));
        p.setFeatures({ imageEmbed: copy(img.features.imageEmbed), highRes: [copy(img.features.highRes[0]), copy(img.features.highRes[1])] }, hw);
        const got = await p.refine(clicksPx.slice(0, 3));
        got.forEach((c, i) => {
          expect(c[0]).toBeCloseTo(want[i][0], 3);
          expect(c[1]).toBeCloseTo(want[i][1], 3);
        });
      } finally {
        p.dispose();
      }
    }
    disposeFeatures(img.features);
  });

  it('errors: a shift block that does not fit SAM 2, no image, bad clicks, missing checkpoint', async () => {
    const big = new ShiftBlock(PAPER_SHIFT_BLOCK);
    expect(() => new RpSam2Predictor(new Sam2ImagePredictor(model), big)).toThrow(/shift block \(d 256, 4096 image tokens\) does not fit SAM 2 'tiny256' \(d 32, 16×16 = 256 image tokens\)/);
    big.dispose();
    const bare = new RpSam2Predictor(new Sam2ImagePredictor(model), block);
    await expect(bare.refine([1, 2])).rejects.toThrow(/no image 0 is set/);
    await expect(predictor.refine([[1, 2], [3] as unknown as Click])).rejects.toThrow(/click 1 must be \[x, y\]/);
    await expect(RpSam2Predictor.load({ sam2Weights: SAM2_WEIGHTS, shiftBlock: join(root, 'nothing-here') })).rejects.toThrow(/no such file or directory/);
  });

  it('refuses NaN and infinite clicks with a message (both predictors), accepts the image edge', async () => {
    const [h, w] = hw;
    await expect(predictor.predict([Number.NaN, 2])).rejects.toThrow(/click 0 must be \[x, y\] in pixels \(finite numbers\), got \[NaN, 2\]/);
    await expect(predictor.refine([[1, 2], [3, Number.POSITIVE_INFINITY]])).rejects.toThrow(/click 1 must be .*got \[3, Infinity\]/);
    await expect(predictor.predictSam2({ points: [[Number.NaN, 1]], labels: [1] })).rejects.toThrow(/predict: click NaN,1 is not a pair of finite numbers/);
    await expect(predictor.predictSam2({ box: [0, 0, Number.POSITIVE_INFINITY, 4] })).rejects.toThrow(/box \[0,0,Infinity,4\]: the corners must be finite/);
    // (W, H) is the bottom-right corner of the image, not outside it.
    const edge = await predictor.refine([w, h]);
    expect(edge.every(Number.isFinite)).toBe(true);
  });
});
