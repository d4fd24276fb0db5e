import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad, tensor, tidy, zeros } from '@rpsam2/tensor';
import type { Sam2Model } from '@rpsam2/sam2';
import { ShiftBlock, refineStepsOf } from '../src/shift-block/shift-block.js';
import { RpSam2 } from '../src/pipeline/rpsam2.js';
import { disposeTargets, makeTargets, objectClicks, refineClicks } from '../src/train/step.js';
import { CheckpointFileError, inferShiftBlockConfig } from '../src/checkpoint/checkpoint-source.js';
import { newShiftBlockFor, resolveTrainConfig } from '../src/train/config.js';
import { TINY_SHIFT, disposeFeatures, fixtureImage, loadTinySam2 } from './helpers/tiny-sam2.js';

describe('refineSteps: applying the shift block more than once at inference', () => {
  let model: Sam2Model;
  let img: Awaited<ReturnType<typeof fixtureImage>>;

  beforeAll(async () => {
    model = await loadTinySam2();
    img = await fixtureImage(model);
  }, 120_000);

  afterAll(() => {
    disposeFeatures(img.features);
    model.dispose();
  });

  // Same draws (init seed 3: a random query projection, so the pointer moves clicks), one or two steps.
  const blocks = () => [new ShiftBlock({ ...TINY_SHIFT, head: 'pointer' }).init(3), new ShiftBlock({ ...TINY_SHIFT, head: 'pointer', refineSteps: 2 }).init(3)];

  it('refineClicks with 2 steps equals refining the refined clicks again, and differs from one step', async () => {
    const [one, two] = blocks();
    const [h, w] = img.hw;
    const target = makeTargets(model, img.features, img.hw, img.mask, new Float32Array(0));
    try {
      const clicks = objectClicks(img.mask, h, w, 4, 7);
      const first = (await refineClicks(model, one, [{ target, clicks }]))[0];
      const again = (await refineClicks(model, one, [{ target, clicks: first }]))[0];
      const twice = (await refineClicks(model, two, [{ target, clicks }]))[0];
      for (let i = 0; i < clicks.length; i++) expect(Math.abs(twice[i] - again[i])).toBeLessThan(1e-6);
      expect(Math.max(...twice.map((v, i) => Math.abs(v - first[i])))).toBeGreaterThan(1e-4);
    } finally {
      disposeTargets(target);
      one.dispose();
      two.dispose();
    }
  });

  it('RpSam2.refine follows the block\'s steps (delta = the whole move); forward, the training path, takes one step', async () => {
    const [one, two] = blocks();
    const [h, w] = img.hw;
    const clicks = objectClicks(img.mask, h, w, 3, 11);
    // decodeBest only has to answer (forward's `refined` is the click it decodes).
    const decodeBest = (p: { points: { shape: number[] } }) => {
      const n = p.points.shape[0];
      return { iou: zeros([n, 3]), lowRes: zeros([n, 3, 4, 4]), selected: zeros([n, 1, 4, 4]), oneHot: zeros([n, 3]) };
    };
    const predictor = { model, getFeatures: () => img.features, decodeBest } as never;
    const out = noGrad(() =>
      tidy(() => {
        const c = tensor(clicks, [3, 2]);
        const r1 = new RpSam2(predictor, one).refine(c).refined;
        const r11 = new RpSam2(predictor, one).refine(r1).refined;
        const r2 = new RpSam2(predictor, two).refine(c);
        const f2 = new RpSam2(predictor, two).forward(c).refined;
        return [r1, r11, r2.refined, r2.delta, f2];
      }),
    );
    const [r1, r11, r2, d2, f2] = await Promise.all(out.map((t) => t.data()));
    for (let i = 0; i < 6; i++) {
      expect(Math.abs(r2[i] - r11[i])).toBeLessThan(1e-6);
      expect(Math.abs(d2[i] - (r2[i] - clicks[i]))).toBeLessThan(1e-6);
      expect(Math.abs(f2[i] - r1[i])).toBeLessThan(1e-6);
    }
    expect(Math.max(...r2.map((v, i) => Math.abs(v - r1[i])))).toBeGreaterThan(1e-4);
    out.forEach((t) => t.dispose());
    one.dispose();
    two.dispose();
  });

  it('the setting is checked where it enters: the block, the training config, a plain file\'s metadata', () => {
    expect(refineStepsOf({})).toBe(1);
    expect(refineStepsOf({ refineSteps: 3 })).toBe(3);
    for (const bad of [0, 9, 1.5]) {
      expect(() => new ShiftBlock({ ...TINY_SHIFT, refineSteps: bad })).toThrow(/refineSteps must be an integer in 1…8/);
      expect(() => resolveTrainConfig({ refineSteps: bad })).toThrow(/refineSteps must be/);
    }
    // A fresh block stores the default as absent (configs written before the setting compare equal).
    const c = resolveTrainConfig({ shiftBlock: 'tiny' });
    const b1 = newShiftBlockFor(c, 32, 16);
    const b2 = newShiftBlockFor({ ...c, refineSteps: 2 }, 32, 16);
    expect('refineSteps' in b1.config).toBe(false);
    expect(b2.config.refineSteps).toBe(2);
    b1.dispose();
    b2.dispose();
    // A plain file: the shapes say nothing about the steps, the metadata does.
    const shapes: Record<string, number[]> = { p_pos: [1, 2, 32], i_pos: [1, 256, 32], 'layers.0.linear1.weight': [64, 32] };
    const file = (metadata: Record<string, string>) => ({ label: 'block.safetensors', metadata, keys: () => Object.keys(shapes), entry: (k: string) => ({ shape: shapes[k] }) }) as never;
    expect(inferShiftBlockConfig(file({})).refineSteps).toBeUndefined();
    expect(inferShiftBlockConfig(file({ refineSteps: '1' })).refineSteps).toBeUndefined();
    expect(inferShiftBlockConfig(file({ refineSteps: '2' })).refineSteps).toBe(2);
    expect(() => inferShiftBlockConfig(file({ refineSteps: 'two' }))).toThrow(CheckpointFileError);
    expect(() => inferShiftBlockConfig(file({ refineSteps: '0' }))).toThrow(/block\.safetensors: metadata refineSteps must be an integer in 1…8, got "0"/);
  });
});
