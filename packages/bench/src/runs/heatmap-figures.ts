/**
 * The click-position heatmaps of a run (`figures/heatmap-<k>-<class>.png`, with the numbers in a
 * `.json` beside each): for the objects whose baseline Dice varies most over the seeds' clicks, a
 * grid of clicks over the object, each method's Dice per click, drawn side by side (SAM 2, then
 * RP-SAM2 with arrows to its refined clicks).
 */
import { join } from 'node:path';
import type { FrameRef, SegmentationDataset } from '../datasets/types.js';
import { chooseHeatmapObjects, gridDice, heatmapSpacing, type HeatmapPick } from '../evaluation/click-heatmap.js';
import type { EvalMethod } from '../evaluation/methods.js';
import type { ObjectSample } from '../evaluation/object-stats.js';
import { clickGridWithSpacing, renderClickHeatmap } from '../figures/index.js';
import { slug, toJson, writeFileSafe } from './run-dir.js';
import type { RunIO } from './run-io.js';

/** Writes the heatmaps; returns the PNG paths (relative to the run directory). */
export async function writeHeatmaps(options: {
  runDir: string;
  ds: SegmentationDataset;
  frames: readonly FrameRef[];
  /** The baseline's samples (objects are picked by their Dice spread). */
  baselineSamples: readonly ObjectSample[];
  /** The methods drawn, in panel order (all on one SAM 2). */
  methods: readonly EvalMethod[];
  setImage(frame: FrameRef): Promise<void>;
  releaseImage(): void;
  count: number;
  /** Classes drawn first (e.g. the lens injector), each by its most click-sensitive object. */
  classes?: readonly string[];
  targetClicks: number;
  clickOffset: number;
  io: RunIO;
}): Promise<string[]> {
  const picks = chooseHeatmapObjects(options.baselineSamples, options.count, options.classes);
  const byId = new Map(options.frames.map((f) => [f.id, f]));
  const written: string[] = [];
  try {
    for (const [k, pick] of picks.entries()) {
      const t0 = performance.now();
      const frame = byId.get(pick.image);
      if (!frame) throw new Error(`heatmap: frame ${pick.image} is not among the evaluated frames`);
      const obj = (await options.ds.loadObjects(frame)).find((o) => o.index === pick.object);
      if (!obj) throw new Error(`heatmap: ${pick.image} has no object ${pick.object}`);
      const { clicks, spacing } = clickGridWithSpacing(obj.mask, heatmapSpacing(obj.mask, options.targetClicks));
      await options.setImage(frame);
      const series = await gridDice(options.methods, obj.mask, clicks, options.clickOffset);
      const img = await options.ds.loadImage(frame);
      const png = renderClickHeatmap({
        image: { width: img.width, height: img.height, rgb: img.data },
        mask: obj.mask,
        panels: series.map((s) => ({ title: s.name, clicks, dice: s.dice, refined: s.refined })),
        title: `${pick.class}: Dice over the click position (${frame.id}, object ${pick.object})`,
      });
      const base = `heatmap-${k + 1}-${slug(pick.class)}`;
      await writeFileSafe(join(options.runDir, 'figures', `${base}.png`), png);
      await writeFileSafe(join(options.runDir, 'figures', `${base}.json`), toJson(heatmapJson(pick, spacing, clicks, series)));
      written.push(`figures/${base}.png`);
      const means = series.map((s) => `${s.name} ${(s.dice.reduce((a, b) => a + b, 0) / s.dice.length).toFixed(3)}`).join(', ');
      options.io.out(`  figures/${base}.png: ${pick.class} in ${frame.id}, ${clicks.length} grid clicks ${spacing.toFixed(1)} px apart; mean Dice ${means} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    options.releaseImage();
  }
  return written;
}

function heatmapJson(pick: HeatmapPick, spacing: number, clicks: { x: number; y: number }[], series: { name: string; dice: number[]; refined?: { x: number; y: number }[] }[]) {
  return {
    image: pick.image,
    object: pick.object,
    class: pick.class,
    pickedBecause: { baselineDiceStdOverSeeds: pick.diceStd, baselineMeanDice: pick.dice },
    spacing,
    clicks: clicks.map((c) => [c.x, c.y]),
    methods: series.map((s) => ({ name: s.name, dice: s.dice, refined: s.refined?.map((c) => [c.x, c.y]) ?? null })),
  };
}
