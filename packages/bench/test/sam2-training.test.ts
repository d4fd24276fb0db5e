/** The default model's training data (synthetic frames, mosaics) and its model card. */
import { describe, expect, it } from 'vitest';
import { presetConfig } from '@rpsam2/sam2';
import { ClassFocusTrainSource, SyntheticTrainSource } from '../src/sam2-training/synthetic-source.js';
import { modelCardMarkdown } from '../src/sam2-training/model-card.js';
import { parseTrainSam2Args } from '../src/sam2-training/command.js';
import { SAM2_RECIPE } from '../src/sam2-training/recipe.js';
import { objectMask, syntheticFrameOptions } from '../src/synthetic/index.js';

const small = { width: 96, height: 64 };

describe('SyntheticTrainSource', () => {
  it('sample i is frame i of the dataset: pixels and one full-frame mask per annotated object', () => {
    const src = new SyntheticTrainSource({ seed: 5, ...small });
    const f = src.frame(3);
    const s = src.sample(3);
    expect(s.image).toMatchObject({ width: 96, height: 64, channels: 3 });
    expect(s.image.data).toEqual(f.rgb);
    expect(s.objects.map((o) => o.kind)).toEqual(f.objects.map((o) => o.kind));
    f.objects.forEach((o, k) => expect(s.objects[k].mask).toEqual(objectMask(f, o).data));
    // Deterministic, and a copy (the renderer reuses its buffer).
    expect(src.sample(3).image.data).toEqual(s.image.data);
    src.sample(4);
    expect(s.image.data).toEqual(f.rgb);
  });
});

describe('ClassFocusTrainSource', () => {
  it('swaps a share of the samples for frames showing the class, from beyond the stream, deterministically', () => {
    const inner = new SyntheticTrainSource({ seed: 5, ...small, minInstruments: 2, maxInstruments: 4 });
    const src = new ClassFocusTrainSource(inner, { classKey: 'LI', probability: 0.3, seed: 11 });
    expect(src.description).toBe(`${inner.description}; 30% of steps on a frame showing LI (focus seed 11)`);
    const frames = Array.from({ length: 400 }, (_, i) => src.frameIndex(i));
    const focused = frames.filter((g, i) => g !== i);
    // Binomial(400, 0.3): mean 120, std 9.2.
    expect(focused.length).toBeGreaterThan(90);
    expect(focused.length).toBeLessThan(150);
    for (const g of focused) {
      expect(g).toBeGreaterThanOrEqual(1_000_000);
      expect(syntheticFrameOptions(inner.options, g).classes[0]).toBe('LI');
    }
    // Unfocused samples keep their own frame, whatever it shows; focused frames differ per index.
    expect(new Set(focused).size).toBe(focused.length);
    expect(frames.map((_, i) => src.frameIndex(i))).toEqual(frames);
    const i = frames.findIndex((g, k) => g !== k);
    expect(src.sample(i).image.data).toEqual(inner.sample(frames[i]).image.data);
    expect(inner.frame(frames[i]).objects.some((o) => o.classKey === 'LI')).toBe(true);
    expect(() => new ClassFocusTrainSource(inner, { classKey: 'XX', probability: 0.3, seed: 1 })).toThrow("unknown class 'XX'");
    expect(() => new ClassFocusTrainSource(inner, { classKey: 'LI', probability: 1.5, seed: 1 })).toThrow('probability must be in [0, 1], got 1.5');
  });
});

describe('modelCardMarkdown', () => {
  it('states the architecture, the recipe per stage and the held-out numbers', () => {
    const md = modelCardMarkdown({
      config: { ...presetConfig('t'), name: 'demo', imageSize: 512 },
      parameters: 2191009,
      stages: SAM2_RECIPE,
      data: 'frames A',
      evalData: 'frames B',
      result: { instrumentDice: 0.81234, clickSpread: 0.05, perClass: { SK: { dice: 0.7, objects: 3 }, CF: { dice: 0.9, objects: 2 } }, instruments: 5, clicksPerObject: 10, frames: 4 },
      stageSeconds: [600, null],
      adapter: 'llvmpipe',
      date: '2026-11-27',
    });
    expect(md).toMatch(/^# demo: the embedded default SAM 2 model/);
    expect(md).toContain('2,191,009 parameters');
    expect(md).toContain('**instrument mDSC 0.8123**');
    expect(md).toContain('**click-position spread 0.0500**');
    expect(md).toContain(`| 1 | 256 px | 50 % zoomed (window 0.5 of the sides) | everything | ${SAM2_RECIPE[0].config.steps} |`);
    expect(md).toContain(`| 2 | 256 px | 50 % zoomed (window 0.5 of the sides) | a fresh decoder, encoder frozen | ${SAM2_RECIPE[1].config.steps} |`);
    expect(md).toContain(`| 3 | 256 px | 50 % zoomed (window 0.5 of the sides) | everything | ${SAM2_RECIPE[2].config.steps} |`);
    expect(md).toContain(`| 4 | 512 px | whole frames | decoder, encoder frozen | ${SAM2_RECIPE[3].config.steps} | 1 | 4 × 6 | 0.35 / 0.35 / 0.5 | 0.0003 → 0.00002 (warm-up 20) |`);
    expect(md).toContain(`| 5 | 512 px | whole frames | everything | ${SAM2_RECIPE[4].config.steps} | 1 | 4 × 6 | 0.1 / 0.1 / 1 | 0.0001 → 0.00002 (warm-up 10) |`);
    expect(md).toContain(`| 6 | 512 px | whole frames | decoder, encoder frozen | ${SAM2_RECIPE[5].config.steps} | 1 | 4 × 6 | 0.1 / 0.1 / 1 | 0.0001 → 0.00002 (warm-up 10) |`);
    expect(md).toContain(`| 7 | 512 px | whole frames, 30 % showing LI | everything | ${SAM2_RECIPE[6].config.steps} | 1 | 4 × 6 | 0.1 / 0.1 / 1 | 0.00005 → 0.00002 (warm-up 10) |`);
    expect(md).toContain('| 10 min |');
    expect(md).toMatch(/\| CF \| 0\.9000 \| 2 \|\n\| SK \| 0\.7000 \| 3 \|/);
  });
});

describe('evaluateSingleClick', () => {
  it('per instrument: the mean and std (ddof 1) of the Dice of best-IoU masks, as the predictor gives them', async () => {
    const { loadDefaultSam2, Sam2ImagePredictor } = await import('@rpsam2/sam2');
    const { evaluateSingleClick } = await import('../src/sam2-training/single-click-eval.js');
    const { sampleClicks } = await import('../src/protocol/clicks.js');
    const { Rng } = await import('@rpsam2/data');
    const { dice } = await import('../src/metrics/dice.js');
    const { model } = await loadDefaultSam2();
    const src = new SyntheticTrainSource({ seed: 9, width: 160, height: 120 });
    try {
      const r = await evaluateSingleClick(model, src, [0], { clicksPerObject: 3, seed: 4 });
      // Reference: the predictor's multimask output, mask with the highest predicted IoU, by hand.
      const f = src.frame(0);
      const predictor = new Sam2ImagePredictor(model);
      const means: number[] = [];
      const stds: number[] = [];
      try {
        await predictor.setImage({ width: f.width, height: f.height, data: f.rgb, channels: 3 });
        for (const [k, o] of f.objects.entries()) {
          if (o.kind !== 'instrument') continue;
          const gt = objectMask(f, o);
          const d: number[] = [];
          for (const c of sampleClicks(gt, 3, Rng.derive(4, 'click', 0, k))) {
            const p = await predictor.predict({ points: [[c.x, c.y]], labels: [1], multimaskOutput: true });
            const best = [0, 1, 2].reduce((b, j) => (p.iou[j] > p.iou[b] ? j : b), 0);
            const hw = f.width * f.height;
            const mask = Uint8Array.from(p.masks.subarray(best * hw, (best + 1) * hw), (v) => (v > 0 ? 1 : 0));
            d.push(dice({ width: f.width, height: f.height, data: mask }, gt));
          }
          const m = (d[0] + d[1] + d[2]) / 3;
          means.push(m);
          stds.push(Math.sqrt(d.reduce((a, v) => a + (v - m) ** 2, 0) / 2));
        }
      } finally {
        predictor.dispose();
      }
      expect(r.instruments).toBe(means.length);
      expect(r.instrumentDice).toBeCloseTo(means.reduce((a, b) => a + b, 0) / means.length, 6);
      expect(r.clickSpread).toBeCloseTo(stds.reduce((a, b) => a + b, 0) / stds.length, 6);
      expect(Object.values(r.perClass).reduce((a, c) => a + c.objects, 0)).toBe(means.length);
    } finally {
      model.dispose();
    }
  }, 120_000);
});

describe('parseTrainSam2Args', () => {
  it("carries each stage of the recipe whole (crops, fresh decoder, frozen encoder) and sets only what flags name", () => {
    const a = parseTrainSam2Args([]) as unknown as { stages: typeof SAM2_RECIPE };
    expect(a.stages).toEqual(SAM2_RECIPE);
    const b = parseTrainSam2Args(['--stage-steps', '5,6,7,8,9,10,11']) as unknown as { stages: typeof SAM2_RECIPE };
    expect(b.stages.map((s) => s.config.steps)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(b.stages[1]).toMatchObject({ crop: SAM2_RECIPE[1].crop, freshDecoder: true });
    expect(b.stages[1].config.step.freezeEncoder).toBe(true);
    expect(b.stages[2].config.step.freezeEncoder).toBeFalsy();
    expect(b.stages[2].freshDecoder).toBeFalsy();
    expect(b.stages[4].config.step).toMatchObject({ freezeEncoder: false, multimaskProbability: 1 });
    expect(b.stages[5].config.step).toMatchObject({ freezeEncoder: true, multimaskProbability: 1 });
    expect(b.stages[6].focus).toEqual({ classKey: 'LI', probability: 0.3, seed: 11 });
    expect(() => parseTrainSam2Args(['--stage-steps', '5,6,7,8,9,10'])).toThrow(/--stage-steps needs 7 numbers/);
  });
});
