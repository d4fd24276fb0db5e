/**
 * `sam2 predict`: one image, clicks and/or a box → mask PNGs (0/255, one per returned mask) and
 * `scores.json` (predicted IoU per mask, object score, the prompts, timings).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { initNode, withOutputDir } from '@rpsam2/tensor/node';
import { decodeImage } from '../image/codec.js';
import { Sam2ImagePredictor } from '../predictor/image-predictor.js';
import { clickProblem } from '../predictor/transforms.js';
import { loadSam2, type WeightDType } from '../weights/load.js';
import { defaultModelNotice, defaultModelSpec } from '../weights/default-model.js';
import { ms, parseBox, parsePoint, resolveConfigArg } from './args.js';
import { choiceOption, defineCommand, requireFile, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from './shared.js';

export const PREDICT_USAGE = `usage: sam2 predict --image <png|jpg> [--weights <.pt|.safetensors>] --out <dir>
                    [--point x,y[,label]]... [--box x0,y0,x1,y1] [--multimask] [--hq-token-only]
                    [--config <t|s|b+|l|config.yaml|config.json>] [--dtype f32|f16]

  --image       the image (PNG or JPEG)
  --weights     SAM 2.1 weights: official .pt checkpoint or safetensors, HQ-SAM2's too (its
                decoder is recognised by its keys) (default: the embedded default model
                trained on synthetic surgical frames)
  --config      size name or .yaml/.json config (default: inferred from the weights' shapes)
  --point       a click in image pixels; label 1 = positive (default), 0 = negative; repeatable
  --box         a box in image pixels
  --multimask   return 3 masks (default: 1, with SAM 2's stability fallback)
  --hq-token-only  HQ-SAM2 weights only: the HQ mask alone, not HQ + SAM 2 mask (one mask)
  --dtype       weight storage on the GPU (default f32; f16 halves weight memory)
  --out         output folder: mask_0.png … (0/255) and scores.json`;

/** What `predict` wrote (also in scores.json). */
export interface PredictSummary {
  image: string;
  width: number;
  height: number;
  config: string;
  weights: string;
  dtype: WeightDType;
  prompts: { points: [number, number][]; labels: number[]; box: [number, number, number, number] | null };
  multimask: boolean;
  /** HQ-SAM2's HQ mask alone (`--hq-token-only`). */
  hqTokenOnly: boolean;
  masks: { file: string; iou: number; area: number }[];
  /** Index of the mask with the highest predicted IoU. */
  best: number;
  /** Object-score logit (> 0: an object is present). */
  objectScore: number;
  timings: { loadMs: number; encodeMs: number; decodeMs: number; writeMs: number; totalMs: number };
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The options of `sam2 predict` (see {@link PREDICT_USAGE}). */
const PREDICT_OPTIONS = {
  image: { type: 'string' },
  weights: { type: 'string' },
  config: { type: 'string' },
  point: { type: 'string', multiple: true },
  box: { type: 'string' },
  multimask: { type: 'boolean', default: false },
  'hq-token-only': { type: 'boolean', default: false },
  dtype: { type: 'string', default: 'f32' },
  out: { type: 'string' },
} as const satisfies OptionsTable;

/** Runs `sam2 predict` with `args` (after the subcommand); returns the exit status. */
export const predictCommand: Command = defineCommand({ command: 'sam2 predict', usage: PREDICT_USAGE, options: PREDICT_OPTIONS }, runPredict);

async function runPredict({ values }: ParsedCommand<typeof PREDICT_OPTIONS>, io: CliIO): Promise<number> {
  const t0 = performance.now();
  for (const k of ['image', 'out'] as const) if (!values[k]) throw new UsageError(`predict: --${k} is required\n${PREDICT_USAGE}`);
  const points = (values.point ?? []).map(parsePoint);
  const box = values.box !== undefined ? parseBox(values.box) : null;
  if (!points.length && !box) throw new UsageError('predict: give at least one --point or a --box');
  const dtype: WeightDType = choiceOption(values.dtype, 'dtype', ['f32', 'f16']);
  const config = values.config ? await resolveConfigArg(values.config) : undefined;

  const imagePath = values.image!;
  const image = decodeImage(await readInput(imagePath, '--image'), imagePath);
  for (const p of points) {
    const bad = clickProblem(p.x, p.y, image.width, image.height);
    if (bad) throw new UsageError(`--point ${p.x},${p.y}: ${bad}`);
  }
  // Before loading and encoding, so a bad --out fails at once (and is removed again if the work fails).
  return withOutputDir(values.out!, async () => {
    // A missing weights file is a usage error, not a crash.
    if (values.weights) await requireFile(values.weights, '--weights');
    const fallback = values.weights ? null : await defaultModelSpec();
    if (fallback) io.err(defaultModelNotice(fallback.card));

    await initNode();
    const tLoad = performance.now();
    const { model, report } = await loadSam2({ config: config ?? fallback?.config, weights: values.weights ?? fallback!.weights, dtype });
    const predictor = new Sam2ImagePredictor(model);
    try {
      if (values['hq-token-only'] && model.cfg.maskDecoder !== 'hq') {
        throw new UsageError(`--hq-token-only needs HQ-SAM2 weights (${report.source} has SAM 2's mask decoder, no sam_mask_decoder.hf_token)`);
      }
      const loadMs = performance.now() - tLoad;
      io.err(`loaded ${report.config} (${report.configFrom}${report.maskDecoder === 'hq' ? ', HQ-SAM2 mask decoder' : ''}) from ${report.source}: ${report.loaded} tensors, ${report.skippedVideoKeys.length} video-path keys skipped, ${report.dtype}`);
      const tEnc = performance.now();
      await predictor.setImage(image);
      const encodeMs = performance.now() - tEnc;
      const tDec = performance.now();
      const pred = await predictor.predict({
        points: points.length ? points.map((p) => [p.x, p.y]) : undefined,
        labels: points.length ? points.map((p) => p.label) : undefined,
        box: box ?? undefined,
        multimaskOutput: values.multimask,
        hqTokenOnly: values['hq-token-only'],
      });
      const decodeMs = performance.now() - tDec;

      const tWrite = performance.now();
      const outDir = values.out!;
      const { height: h, width: w } = pred.shape;
      const masks: PredictSummary['masks'] = [];
      for (const m of pred.objects[0].masks) {
        const file = `mask_${m.index}.png`;
        await writeFile(join(outDir, file), m.toPng());
        masks.push({ file, iou: m.score, area: m.area });
      }
      const best = pred.best.index;
      const writeMs = performance.now() - tWrite;
      const summary: PredictSummary = {
        image: resolve(imagePath),
        width: w,
        height: h,
        config: report.config,
        weights: report.source,
        dtype,
        prompts: { points: points.map((p) => [p.x, p.y]), labels: points.map((p) => p.label), box },
        multimask: values.multimask!,
        hqTokenOnly: values['hq-token-only']!,
        masks,
        best,
        objectScore: pred.objectScore[0],
        timings: { loadMs: ms(loadMs), encodeMs: ms(encodeMs), decodeMs: ms(decodeMs), writeMs: ms(writeMs), totalMs: ms(performance.now() - t0) },
      };
      await writeFile(join(outDir, 'scores.json'), JSON.stringify(summary, null, 2) + '\n');
      for (const m of masks) io.out(`${join(outDir, m.file)}  iou ${m.iou.toFixed(4)}  area ${m.area}${masks.length > 1 && m === masks[best] ? '  (best)' : ''}`);
      io.out(`object score ${summary.objectScore.toFixed(3)}; encode ${ms(encodeMs)} ms, decode ${ms(decodeMs)} ms; ${join(outDir, 'scores.json')}`);
      return 0;
    } finally {
      predictor.dispose();
      model.dispose();
    }
  });
}
