/**
 * Example figures from a synthetic frame and made-up numbers: one of each kind, to check the
 * look of the renderers (and to show how the evaluation calls them). The Dice values are
 * invented (a smooth function of how deep inside the object a click lies, plus seeded noise),
 * not measured.
 */
import { writeFile } from 'node:fs/promises';
import { ensureOutputDir } from '@rpsam2/tensor/node';
import { join } from 'node:path';
import { squaredDistanceTransform } from '@rpsam2/sam2';
import { CATARACT1K_INSTRUMENTS, type BinaryMask, Rng, objectMask, renderSyntheticFrame } from '@rpsam2/data';
import type { Click } from '../protocol/clicks.js';
import { renderBarPlot } from './bar-plot.js';
import { clickGridWithSpacing } from './click-grid.js';
import { renderClickHeatmap } from './heatmap.js';
import { renderLinePlot, renderTrainingCurve } from './line-plot.js';

/**
 * Writes `heatmap.png`, `bars-classes.png`, `bars-ablation.png`, `clicks-vs-dice.png` and
 * `training-curve.png` into `dir` (created if needed); returns their paths.
 */
export async function writeDemoFigures(dir: string, seed = 7): Promise<string[]> {
  await ensureOutputDir(dir);
  const rng = new Rng(seed);
  const out: [string, Uint8Array][] = [];

  // Heatmap: a lens injector on a 640×480 synthetic frame, grid clicks every 14 px; the made-up
  // refined clicks climb towards the object's medial axis (up to 12 px), as a trained shift
  // block tends to move clicks away from the boundary.
  const frame = renderSyntheticFrame({ width: 640, height: 480, seed, classes: ['LI'] });
  const obj = frame.objects.find((o) => o.kind === 'instrument')!;
  const mask = objectMask(frame, obj);
  const { clicks } = clickGridWithSpacing(mask, 14);
  const depth = insideDepth(mask);
  const maxDepth = Math.sqrt(Math.max(...clicks.map((c) => depth[c.y * mask.width + c.x])));
  const rel = clicks.map((c) => Math.sqrt(depth[c.y * mask.width + c.x]) / maxDepth);
  const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
  const sam2 = rel.map((r) => clamp01(0.2 + 0.7 * Math.sqrt(r) + 0.08 * rng.normal()));
  const refined: Click[] = clicks.map((c) => climb(depth, mask.width, mask.height, c, 12));
  const rpsam2 = rel.map((r) => clamp01(0.72 + 0.2 * Math.sqrt(r) + 0.05 * rng.normal()));
  out.push([
    'heatmap.png',
    renderClickHeatmap({
      image: { width: frame.width, height: frame.height, rgb: frame.rgb },
      mask,
      title: `${obj.classTitle}: Dice per click position (synthetic frame, made-up values)`,
      panels: [
        { title: 'SAM 2', clicks, dice: sam2 },
        { title: 'RP-SAM2', clicks, dice: rpsam2, refined },
      ],
    }),
  ]);

  // Per-class bars: the 10 Cataract-1k instrument classes × 2 methods.
  const groups = CATARACT1K_INSTRUMENTS.map((c) => c.name);
  const base = groups.map(() => rng.uniform(0.55, 0.85));
  out.push([
    'bars-classes.png',
    renderBarPlot({
      title: 'mDSC per class (made-up values)',
      yLabel: 'mDSC',
      groups,
      series: [
        { name: 'SAM 2', values: base.map((b) => ({ mean: b, std: rng.uniform(0.01, 0.04) })) },
        { name: 'RP-SAM2', values: base.map((b) => ({ mean: Math.min(0.97, b + rng.uniform(0.02, 0.1)), std: rng.uniform(0.01, 0.04) })) },
      ],
      yRange: [0, 1],
    }),
  ]);

  // Loss ablation: one series, NaN std for a variant run with a single seed.
  out.push([
    'bars-ablation.png',
    renderBarPlot({
      title: 'Loss ablation (made-up values)',
      yLabel: 'mDSC',
      groups: ['Dice only', '+ distance', '+ out-of-mask', 'full loss'],
      series: [
        { name: 'RP-SAM2', values: [0.78, 0.81, 0.8, 0.84].map((m, i) => ({ mean: m, std: i === 2 ? Number.NaN : 0.012 + 0.004 * i })) },
        { name: 'RP-SAM2 (CaDIS)', values: [0.74, 0.76, 0.77, 0.8].map((m) => ({ mean: m, std: 0.015 })) },
      ],
      yRange: [0.6, 0.9],
    }),
  ]);

  // Clicks per object vs mDSC.
  const x = [6, 8, 10, 12];
  out.push([
    'clicks-vs-dice.png',
    renderLinePlot({
      title: 'mDSC vs clicks per object (made-up values)',
      xLabel: 'clicks per object',
      yLabel: 'mDSC',
      x,
      series: [
        { name: 'SAM 2', mean: [0.712, 0.716, 0.719, 0.721], std: [0.021, 0.018, 0.016, 0.014] },
        { name: 'RP-SAM2', mean: [0.781, 0.79, 0.796, 0.799], std: [0.017, 0.015, 0.012, 0.011] },
      ],
    }),
  ]);

  // Training loss with validation Dice-loss points, smoothed, log axis.
  const steps = Array.from({ length: 2000 }, (_, i) => i + 1);
  const loss = steps.map((s) => 0.08 + 1.2 * Math.exp(-s / 350) + 0.05 * Math.abs(rng.normal()));
  const valSteps = steps.filter((s) => s % 200 === 0);
  out.push([
    'training-curve.png',
    renderTrainingCurve({
      title: 'Shift-block training (made-up values)',
      yLabel: 'loss',
      series: [
        { name: 'train loss', x: steps, y: loss },
        { name: 'validation loss', x: valSteps, y: valSteps.map((s) => 0.1 + 1.1 * Math.exp(-s / 400)) },
      ],
      logY: true,
      smoothing: 0.9,
    }),
  ]);

  const paths: string[] = [];
  for (const [name, png] of out) {
    const p = join(dir, name);
    await writeFile(p, png);
    paths.push(p);
  }
  return paths;
}

/** Squared distance of each foreground pixel to the nearest background pixel. */
function insideDepth(mask: BinaryMask): Float64Array {
  const bg = new Uint8Array(mask.data.length);
  for (let i = 0; i < bg.length; i++) bg[i] = mask.data[i] === 0 ? 1 : 0;
  return squaredDistanceTransform(bg, mask.width, mask.height);
}

/** Steepest ascent on `depth` from `c` through 8-neighbours, at most `steps` moves. */
function climb(depth: Float64Array, width: number, height: number, c: Click, steps: number): Click {
  let { x, y } = c;
  for (let k = 0; k < steps; k++) {
    let bx = x;
    let by = y;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        if (depth[ny * width + nx] > depth[by * width + bx]) {
          bx = nx;
          by = ny;
        }
      }
    }
    if (bx === x && by === y) break;
    x = bx;
    y = by;
  }
  return { x, y };
}
