/**
 * The default model's headline numbers, measured the way Table 1 measures SAM 2: on held-out
 * synthetic frames, for every instrument, n clicks drawn uniformly from its mask; for each click
 * the multimask output's mask with the highest predicted IoU, at the frame's resolution; Dice
 * against the ground truth. Reports the mean Dice over instruments (each instrument's mean over
 * its clicks) and the click-position spread: the standard deviation (ddof 1) of Dice over an
 * instrument's clicks, averaged over instruments.
 */
import { Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { Rng } from '@rpsam2/data';
import { dice } from '../metrics/dice.js';
import { meanStd } from '../metrics/aggregate.js';
import { segmentWithSam2 } from '../evaluation/segment.js';
import { objectMask } from '../synthetic/index.js';
import { sampleClicks } from '../protocol/clicks.js';
import type { SyntheticTrainSource } from './synthetic-source.js';

export interface SingleClickResult {
  /** Mean over instruments of the mean Dice over their clicks. */
  instrumentDice: number;
  /** Mean over instruments of the std (ddof 1) of Dice over their clicks. */
  clickSpread: number;
  /** Per class: mean Dice and instrument count. */
  perClass: Record<string, { dice: number; objects: number }>;
  instruments: number;
  clicksPerObject: number;
  frames: number;
}

/** Evaluates `model` on frames `frameIndices` of `source`. */
export async function evaluateSingleClick(
  model: Sam2Model,
  source: SyntheticTrainSource,
  frameIndices: readonly number[],
  options: { clicksPerObject?: number; seed?: number; onFrame?: (done: number, total: number) => void } = {},
): Promise<SingleClickResult> {
  const n = options.clicksPerObject ?? 10;
  const seed = options.seed ?? 0;
  const predictor = new Sam2ImagePredictor(model);
  const means: number[] = [];
  const stds: number[] = [];
  const perClass: Record<string, { sum: number; objects: number }> = {};
  try {
    for (const [done, g] of frameIndices.entries()) {
      const f = source.frame(g);
      await predictor.setImage({ width: f.width, height: f.height, data: f.rgb, channels: 3 });
      for (const [k, o] of f.objects.entries()) {
        if (o.kind !== 'instrument') continue;
        const gt = objectMask(f, o);
        const clicks = sampleClicks(gt, n, Rng.derive(seed, 'click', g, k));
        const masks = await segmentWithSam2(predictor, clicks.map((c) => [c.x, c.y]));
        const scores = masks.map((m) => dice({ width: f.width, height: f.height, data: m.mask }, gt));
        const { mean, std } = meanStd(scores);
        means.push(mean);
        stds.push(std);
        const c = (perClass[o.classKey] ??= { sum: 0, objects: 0 });
        c.sum += mean;
        c.objects++;
      }
      options.onFrame?.(done + 1, frameIndices.length);
    }
  } finally {
    predictor.dispose();
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    instrumentDice: avg(means),
    clickSpread: avg(stds),
    perClass: Object.fromEntries(Object.entries(perClass).map(([k, v]) => [k, { dice: v.sum / v.objects, objects: v.objects }])),
    instruments: means.length,
    clicksPerObject: n,
    frames: frameIndices.length,
  };
}
