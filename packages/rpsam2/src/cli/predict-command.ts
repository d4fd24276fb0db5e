/**
 * `rpsam2 predict --image f --point x,y [--point …] --sam2-weights f [--sam2-config size|file]
 * --shift-block ckpt --out dir`: refines each click with the shift block, segments from the
 * refined click (SAM 2 multimask, best predicted IoU) and writes `<out>/mask_<i>.png` (0/255)
 * and `<out>/refined.json` (clicks, refined clicks, scores, mask files). Every file is written
 * atomically; inputs are checked before anything loads.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { initNode, withOutputDir } from '@rpsam2/tensor/node';
import { clickProblem, decodeImage } from '@rpsam2/sam2';
import { RpSam2Predictor, type Click } from '../predictor/rp-sam2-predictor.js';
import { joinPath, writeAtomic } from '../checkpoint/node-io.js';
import { defaultShiftBlockNotice, defaultShiftBlockSpec, shiftBlockNeededError } from '../predictor/default-shift-block.js';
import { choiceOption, defineCommand, intOption, requireFile, requirePath, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from '@rpsam2/sam2/cli';
import { parsePoint, resolveSam2Source } from './common.js';

export const PREDICT_USAGE = `usage: rpsam2 predict --image <png|jpg> --point x,y [--point x,y]... [--sam2-weights <.pt|.safetensors>]
                     [--shift-block <checkpoint|run dir|shift_block.safetensors>] --out <dir>
                     [--sam2-config <t|s|b+|l|config.yaml|config.json>] [--dtype f32|f16] [--heads N]

  --image         the image
  --point         a click in image pixels (x = column, y = row); repeatable
  --sam2-weights  SAM 2 weights (official .pt or safetensors; default: the embedded default model)
  --sam2-config   size name or .yaml/.json config (default: inferred from the weights)
  --shift-block   a training checkpoint, a run directory (best, else last) or a plain shift-block file
                  (default, with the default SAM 2 only: the shift block shipped for it)
  --heads         attention heads of a plain shift-block file (default 8)
  --out           output folder: mask_<i>.png (0/255) and refined.json`;

/** What refined.json holds. */
export interface PredictOutput {
  image: string;
  width: number;
  height: number;
  sam2Weights: string;
  shiftBlock: string;
  clicks: { click: Click; refined: Click; mask: string; score: number; maskIndex: number; iou: number[]; area: number }[];
  timings: { loadMs: number; encodeMs: number; predictMs: number };
}

/** The options of `rpsam2 predict` (see {@link PREDICT_USAGE}). */
const PREDICT_OPTIONS = {
  image: { type: 'string' },
  point: { type: 'string', multiple: true },
  'sam2-weights': { type: 'string' },
  'sam2-config': { type: 'string' },
  'shift-block': { type: 'string' },
  dtype: { type: 'string', default: 'f32' },
  heads: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionsTable;

/** Runs `rpsam2 predict`; returns the exit status. */
export const predictCommand: Command = defineCommand({ command: 'rpsam2 predict', usage: PREDICT_USAGE, options: PREDICT_OPTIONS }, runPredict);

async function runPredict({ values }: ParsedCommand<typeof PREDICT_OPTIONS>, io: CliIO): Promise<number> {
  if (!values.out) throw new UsageError(`predict: --out is required\n${PREDICT_USAGE}`);
  if (!values.point?.length) throw new UsageError(`predict: give at least one --point x,y\n${PREDICT_USAGE}`);
  const clicks = values.point.map(parsePoint);
  const imagePath = await requireFile(values.image, '--image');
  if (values['sam2-weights'] && !values['shift-block']) throw new UsageError(shiftBlockNeededError(values['sam2-weights']).message);
  const dtype = choiceOption(values.dtype, 'dtype', ['f32', 'f16']);
  const heads = intOption(values.heads, 'heads');
  const { weights, config: sam2Config } = await resolveSam2Source(values['sam2-weights'], values['sam2-config'], '--sam2-weights', io);
  let shift: string;
  if (values['shift-block']) shift = await requirePath(values['shift-block'], '--shift-block', 'a checkpoint from rpsam2 train');
  else {
    const d = await defaultShiftBlockSpec();
    io.err(defaultShiftBlockNotice(d.card));
    shift = d.weights;
  }
  const image = decodeImage(new Uint8Array(await readFile(imagePath)), imagePath);
  for (const [x, y] of clicks) {
    const bad = clickProblem(x, y, image.width, image.height);
    if (bad) throw new UsageError(`--point ${x},${y}: ${bad}`);
  }
  // Before loading and encoding, so a bad --out fails at once (and is removed again if the work fails).
  const outDir = values.out;
  return withOutputDir(outDir, async () => {
    await initNode();
    const t0 = performance.now();
    const predictor = await RpSam2Predictor.load({ sam2Weights: weights, sam2Config, dtype, shiftBlock: shift, heads });
    try {
      const loadMs = performance.now() - t0;
      const t1 = performance.now();
      await predictor.setImage(image);
      const encodeMs = performance.now() - t1;
      const t2 = performance.now();
      const preds = await predictor.predict(clicks);
      const predictMs = performance.now() - t2;
      const out: PredictOutput = {
        image: resolve(imagePath),
        width: image.width,
        height: image.height,
        sam2Weights: resolve(weights),
        shiftBlock: resolve(shift),
        clicks: [],
        timings: { loadMs: Math.round(loadMs), encodeMs: Math.round(encodeMs), predictMs: Math.round(predictMs) },
      };
      for (const [i, p] of preds.entries()) {
        const file = `mask_${i}.png`;
        const area = p.best.area;
        await writeAtomic(joinPath(outDir, file), p.best.toPng());
        out.clicks.push({ click: p.click, refined: [round3(p.refined[0]), round3(p.refined[1])], mask: file, score: p.score, maskIndex: p.maskIndex, iou: Array.from(p.iou), area });
        io.out(`click ${p.click[0]},${p.click[1]} → ${p.refined[0].toFixed(1)},${p.refined[1].toFixed(1)}  ${joinPath(outDir, file)}  iou ${p.score.toFixed(4)}  area ${area}`);
      }
      await writeAtomic(joinPath(outDir, 'refined.json'), JSON.stringify(out, null, 2) + '\n');
      io.out(`${joinPath(outDir, 'refined.json')}; encode ${Math.round(encodeMs)} ms, predict ${Math.round(predictMs)} ms`);
      return 0;
    } finally {
      predictor.dispose();
    }
  });
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
