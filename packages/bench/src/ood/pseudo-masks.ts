/**
 * Semi-automatic labelling: the frames of the training split that nobody labelled get pseudo
 * masks from one click per instrument — SAM 2's mask, or RP-SAM2's (the click refined first). The
 * click of object k of a frame is drawn uniformly from its ground-truth mask with the pseudo
 * stream (`Rng.derive(stream, seed, frame, k)`): the same click for both labellers, and not one of
 * the evaluation's clicks. The Dice of each pseudo mask against the ground truth it replaces is
 * recorded: pseudo-mask quality explains the SAM2-FT results.
 *
 * One JSON file per frame (`<dir>/<cache id>.json`: per object the class, click, Dice and the mask
 * as COCO RLE), written atomically, so an interrupted labelling resumes where it stopped.
 */
import { join } from 'node:path';
import type { FeatureCache } from '@rpsam2/rpsam2';
import type { Sam2ImagePredictor } from '@rpsam2/sam2';
import { Rng } from '@rpsam2/data';
import { decodeRle, encodeRle, type CocoRle } from '../datasets/coco-rle.js';
import type { EvalMethod } from '../evaluation/methods.js';
import { dice } from '../metrics/dice.js';
import { sampleClicks } from '../protocol/clicks.js';
import { pathExists, readJson, writeJson } from '../runs/run-dir.js';

/** One pseudo-labelled object. */
export interface PseudoObject {
  /** The object's index in the cache entry. */
  k: number;
  classKey: string;
  click: [number, number];
  /** Dice of the pseudo mask against the ground truth. */
  dice: number;
  /** Pixels of the pseudo mask (0: the labeller gave nothing). */
  area: number;
  rle: CocoRle;
}

/** One frame's pseudo masks (the file). */
export interface PseudoFrame {
  id: string;
  labeller: string;
  objects: PseudoObject[];
}

/** Quality of a pseudo-mask set: Dice against the ground truth it replaces. */
export interface PseudoQuality {
  frames: number;
  objects: number;
  /** Mean Dice over objects. */
  meanDice: number;
  /** Per class, mean Dice over its objects. */
  classes: Record<string, { objects: number; meanDice: number }>;
}

/** What the labelling needs. */
export interface PseudoLabelPlan {
  /** Where the frame files go. */
  dir: string;
  /** The labeller (SAM 2 or RP-SAM2) on `predictor`. */
  method: EvalMethod;
  predictor: Sam2ImagePredictor;
  /** The training cache: features and ground-truth masks of the frames. */
  cache: FeatureCache;
  /** Cache ids of the frames to label. */
  ids: readonly string[];
  stream: string;
  seed: number;
  clickOffset: number;
  shouldStop?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

function fileOf(dir: string, id: string): string {
  return join(dir, `${id}.json`);
}

/** Labels every frame of the plan not yet on disk; false when stopped before the end. */
export async function ensurePseudoMasks(plan: PseudoLabelPlan): Promise<boolean> {
  let done = 0;
  for (const id of plan.ids) {
    const path = fileOf(plan.dir, id);
    if (!(await pathExists(path))) {
      if (plan.shouldStop?.()) return false;
      const img = await plan.cache.load(id);
      plan.predictor.setFeatures(img.features, img.origHW);
      try {
        const [h, w] = img.origHW;
        const objects: PseudoObject[] = [];
        for (let k = 0; k < img.objects.length; k++) {
          const gt = { width: w, height: h, data: img.objects[k].mask };
          const c = sampleClicks(gt, 1, Rng.derive(plan.stream, plan.seed, id, k))[0];
          const [m] = await plan.method.segment([[c.x + plan.clickOffset, c.y + plan.clickOffset]]);
          const pred = { width: w, height: h, data: m.mask };
          const area = m.mask.reduce((a, v) => a + (v ? 1 : 0), 0);
          objects.push({ k, classKey: img.objects[k].className, click: [c.x, c.y], dice: dice(pred, gt), area, rle: encodeRle(pred) });
        }
        await writeJson(path, { id, labeller: plan.method.name, objects } satisfies PseudoFrame);
      } finally {
        plan.predictor.resetImage();
      }
    }
    plan.onProgress?.(++done, plan.ids.length);
  }
  return true;
}

/** One frame's pseudo masks as 0/1 arrays (object order of the cache entry) and their areas. */
export async function readPseudoMasks(dir: string, id: string): Promise<{ masks: Uint8Array[]; areas: number[] }> {
  const f = await readJson<PseudoFrame>(fileOf(dir, id));
  return { masks: f.objects.map((o) => decodeRle(o.rle, fileOf(dir, id)).data), areas: f.objects.map((o) => o.area) };
}

/** The Dice of a labelled set's pseudo masks against the ground truth. */
export async function pseudoQuality(dir: string, ids: readonly string[]): Promise<PseudoQuality> {
  const classes: Record<string, { objects: number; sum: number }> = {};
  let n = 0;
  let sum = 0;
  for (const id of ids) {
    for (const o of (await readJson<PseudoFrame>(fileOf(dir, id))).objects) {
      n++;
      sum += o.dice;
      const c = (classes[o.classKey] ??= { objects: 0, sum: 0 });
      c.objects++;
      c.sum += o.dice;
    }
  }
  return {
    frames: ids.length,
    objects: n,
    meanDice: n ? sum / n : NaN,
    classes: Object.fromEntries(Object.entries(classes).map(([k, c]) => [k, { objects: c.objects, meanDice: c.sum / c.objects }])),
  };
}
