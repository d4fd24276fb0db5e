/**
 * The data of the Dice-over-click-position heatmap (the paper's Fig. 1/4): a grid of clicks over
 * one object, and for each method the Dice of the mask each click gives. Objects are chosen where
 * the click position matters most for the baseline: the largest Dice spread over the seeds' clicks.
 */
import { countForeground, type BinaryMask } from '@rpsam2/data';
import { dice } from '../metrics/dice.js';
import type { Click } from '../protocol/clicks.js';
import type { EvalMethod } from './methods.js';
import { perObjectStats, type ObjectSample } from './object-stats.js';
import { clickPoint } from './protocol-clicks.js';

/** An object picked for a heatmap. */
export interface HeatmapPick {
  image: string;
  object: number;
  class: string;
  /** Std of the baseline's Dice over the seeds' clicks (why it was picked). */
  diceStd: number;
  /** Mean Dice of the baseline over the seeds. */
  dice: number;
}

/**
 * The `count` objects with the largest Dice spread over seeds in `samples` (the baseline's), one
 * per class first (the most spread object of each class, most spread classes first), then the
 * next most spread objects; ties keep the samples' order. Objects without a spread (one seed) come last.
 * Classes in `firstClasses` (present in the samples) are picked before all others, in that order.
 */
export function chooseHeatmapObjects(samples: readonly ObjectSample[], count: number, firstClasses: readonly string[] = []): HeatmapPick[] {
  if (count <= 0) return [];
  const objs = perObjectStats(samples).map((o, i) => ({ o, i, s: Number.isFinite(o.diceStd) ? o.diceStd : -1 }));
  objs.sort((a, b) => b.s - a.s || a.i - b.i);
  const picked: typeof objs = [];
  const classes = new Set<string>();
  for (const k of firstClasses) {
    const x = objs.find((y) => y.o.class === k);
    if (x && picked.length < count && !classes.has(k)) {
      classes.add(k);
      picked.push(x);
    }
  }
  for (const x of objs) {
    if (picked.length >= count) break;
    if (!classes.has(x.o.class)) {
      classes.add(x.o.class);
      picked.push(x);
    }
  }
  for (const x of objs) {
    if (picked.length >= count) break;
    if (!picked.includes(x)) picked.push(x);
  }
  return picked.map(({ o }) => ({ image: o.image, object: o.object, class: o.class, diceStd: o.diceStd, dice: o.dice }));
}

/** The grid spacing (px) that puts about `target` clicks on the mask (at least 1). */
export function heatmapSpacing(mask: BinaryMask, target: number): number {
  if (!(target >= 1)) throw new Error(`heatmapSpacing: target must be ≥ 1, got ${target}`);
  return Math.max(1, Math.sqrt(countForeground(mask) / target));
}

/** One method's panel data. */
export interface HeatmapSeries {
  name: string;
  dice: number[];
  /** Where the model was prompted, in the clicks' pixel frame (RP-SAM2 only). */
  refined?: Click[];
}

/**
 * Dice of every click for each method, on the image whose features are set on the methods'
 * predictor. `clickOffset` is the evaluation's (the refined points are shifted back by it so that
 * an unmoved click lands on its own dot).
 */
export async function gridDice(methods: readonly EvalMethod[], mask: BinaryMask, clicks: readonly Click[], clickOffset: number): Promise<HeatmapSeries[]> {
  const points = clicks.map((c) => clickPoint(c, clickOffset));
  const out: HeatmapSeries[] = [];
  for (const m of methods) {
    const masks = await m.segment(points);
    const d = masks.map((r) => dice({ width: mask.width, height: mask.height, data: r.mask }, mask));
    const refined = m.kind === 'rpsam2' ? masks.map((r) => ({ x: r.refined![0] - clickOffset, y: r.refined![1] - clickOffset })) : undefined;
    out.push({ name: m.name, dice: d, refined });
  }
  return out;
}
