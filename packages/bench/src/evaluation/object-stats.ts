/**
 * Per-object statistics over the click seeds: the mean Dice and HD95 of each object (the unit
 * of the paired Wilcoxon test between methods) and the click-position spread — the standard
 * deviation (ddof = 1) of an object's Dice over its clicks, averaged over objects — which says how
 * much the result depends on where inside the object the user happens to click.
 */
import { mean, sampleStd } from '../metrics/aggregate.js';

/** The fields these statistics read from a sample. */
export interface ObjectSample {
  image: string;
  object: number;
  class: string;
  seed: number;
  dice: number;
  hd95: number;
}

/** One object's values over its seeds. */
export interface ObjectStats {
  /** `<image>#<object>`. */
  key: string;
  image: string;
  object: number;
  class: string;
  seeds: number[];
  /** Mean Dice over the seeds. */
  dice: number;
  /** Mean HD95 over the seeds. */
  hd95: number;
  /** Sample std of the Dice over the seeds (NaN with one seed). */
  diceStd: number;
}

/** The key of an object. */
export function objectKey(image: string, object: number): string {
  return `${image}#${object}`;
}

/** Groups samples by object (first-seen order) and takes means and the Dice std over seeds. */
export function perObjectStats(samples: readonly ObjectSample[]): ObjectStats[] {
  const groups = new Map<string, ObjectSample[]>();
  for (const s of samples) {
    const k = objectKey(s.image, s.object);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(s);
  }
  const out: ObjectStats[] = [];
  for (const [key, g] of groups) {
    const cls = g[0].class;
    if (g.some((s) => s.class !== cls)) throw new Error(`perObjectStats: object ${key} has samples of several classes (${[...new Set(g.map((s) => s.class))].join(', ')})`);
    const sorted = [...g].sort((a, b) => a.seed - b.seed);
    for (let i = 1; i < sorted.length; i++) if (sorted[i].seed === sorted[i - 1].seed) throw new Error(`perObjectStats: object ${key} has two samples of seed ${sorted[i].seed}`);
    const dice = sorted.map((s) => s.dice);
    out.push({ key, image: g[0].image, object: g[0].object, class: cls, seeds: sorted.map((s) => s.seed), dice: mean(dice), hd95: mean(sorted.map((s) => s.hd95)), diceStd: sampleStd(dice) });
  }
  return out;
}

/** The click-position spread: the mean over objects of each object's Dice std over its clicks. */
export interface ClickSpread {
  /** Mean over all objects (NaN with one seed). */
  mean: number;
  objects: number;
  /** The same per class, in `classOrder` then any other class. */
  perClass: { classKey: string; mean: number; objects: number }[];
}

/** The click spread of one method's samples (see the module comment). */
export function clickSpread(samples: readonly ObjectSample[], classOrder: readonly string[] = []): ClickSpread {
  const objs = perObjectStats(samples);
  const present = [...new Set(objs.map((o) => o.class))];
  const keys = [...classOrder.filter((k) => present.includes(k)), ...present.filter((k) => !classOrder.includes(k)).sort()];
  return {
    mean: mean(objs.map((o) => o.diceStd)),
    objects: objs.length,
    perClass: keys.map((classKey) => {
      const mine = objs.filter((o) => o.class === classKey);
      return { classKey, mean: mean(mine.map((o) => o.diceStd)), objects: mine.length };
    }),
  };
}
