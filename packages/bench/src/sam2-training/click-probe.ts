/**
 * `bench probe-sam2-clicks`: a short experiment that asks one question of a training setup —
 * does the mask decoder learn to follow single clicks? — in minutes instead of a full run.
 *
 * Two modes:
 * - **frames** (default): the default model's architecture from scratch (`initTrainingWeights`)
 *   trained on the first `--frames` frames of `train-sam2`'s stream; by default clicks only
 *   (`--boxes`, `--corrections` set those shares), instruments only (`--anatomy N` adds up to N
 *   anatomy objects per frame), the recipe's multimask share. With `--frames 1` it is a
 *   memorisation test: evaluated on that frame, a decoder that reads the click reaches a high
 *   mDSC, one that does not stays near the Dice of "every instrument".
 * - **decoder only** (`--encoder <checkpoint>`): the image encoder (and the decoder's high-res
 *   convolutions, which run with it) frozen from a `train-sam2` checkpoint, its features cached
 *   once per frame and kept out of the optimizer (`freezeEncoder`); the rest of the decoder and
 *   the prompt encoder start from scratch (`reinitialiseDecoder`). A step runs no encoder pass
 *   (cheaper than a training step), and the mode separates "the encoder's features do not tell instruments apart"
 *   from "the decoder does not learn to use the click".
 *
 * Every `--eval-every` steps: instrument mDSC and click spread (`evaluateSingleClick`, 3 clicks
 * per instrument) on the training frame (`--frames 1`) or on 8 held-out frames. The spread is
 * the tell: 0.000 means every click of an instrument gets the same mask.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tidy } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import {
  CropTrainSource,
  DEFAULT_TRAIN_CONFIG,
  Sam2Model,
  Sam2Trainer,
  defaultModelPaths,
  initTrainingWeights,
  parseDefaultModelConfig,
  preprocess,
  reinitialiseDecoder,
  type ImageFeatures,
  type Sam2TrainConfig,
  type TrainSample,
  type TrainSource,
} from '@rpsam2/sam2';
import { nonNegativeIntFlag, parseCommandFlags, positiveIntFlag, probabilityFlag, type CommandArgs } from '../args.js';
import { SAM2_EVAL_DATA_SEED, SAM2_TRAIN_DATA_SEED, SAM2_TRAIN_INSTRUMENTS, SyntheticTrainSource } from './synthetic-source.js';
import { evaluateSingleClick } from './single-click-eval.js';
import { FrozenEncoder } from './frozen-encoder.js';
import { SAM2_RECIPE } from './recipe.js';

export { FrozenEncoder };

export const PROBE_SAM2_CLICKS_USAGE =
  'probe-sam2-clicks [--frames 1] [--steps 160] [--eval-every 80] [--size 256] [--encoder <train-sam2 checkpoint>] [--boxes 0] [--corrections 0] [--multimask P] [--anatomy 0] [--json]';

interface ProbeArgs extends CommandArgs {
  frames: number;
  steps: number;
  evalEvery: number;
  size: number;
  encoder?: string;
  /** Prompting: box share, correction-round share, multimask share of clicks, anatomy objects per frame. */
  boxes: number;
  corrections: number;
  multimask: number;
  anatomy: number;
}

/** One evaluation of the probe. */
export interface ProbeEval {
  step: number;
  instrumentDice: number;
  clickSpread: number;
}

/** Parses the flags of `probe-sam2-clicks`. */
export function parseProbeSam2ClicksArgs(argv: string[]): CommandArgs {
  const { values, common } = parseCommandFlags(argv, {
    frames: { type: 'string', default: '1' },
    steps: { type: 'string', default: '160' },
    'eval-every': { type: 'string', default: '80' },
    size: { type: 'string', default: '256' },
    encoder: { type: 'string' },
    boxes: { type: 'string', default: '0' },
    corrections: { type: 'string', default: '0' },
    multimask: { type: 'string', default: String(DEFAULT_TRAIN_CONFIG.step.multimaskProbability ?? 1) },
    anatomy: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  });
  const args: ProbeArgs = {
    ...common,
    frames: positiveIntFlag('frames', values.frames!),
    steps: positiveIntFlag('steps', values.steps!),
    evalEvery: positiveIntFlag('eval-every', values['eval-every']!),
    size: positiveIntFlag('size', values.size!),
    encoder: values.encoder,
    boxes: probabilityFlag('boxes', values.boxes!),
    corrections: probabilityFlag('corrections', values.corrections!),
    multimask: probabilityFlag('multimask', values.multimask!),
    anatomy: nonNegativeIntFlag('anatomy', values.anatomy!),
  };
  if (args.size % 16 !== 0) throw new Error(`--size must be a multiple of 16 (the image embedding's stride), got ${args.size}`);
  return args;
}

/** Runs the probe; prints one line per 20 steps and per evaluation (JSON summary with --json). */
export async function probeSam2ClicksCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as ProbeArgs;
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  await initNode();
  const shipped = parseDefaultModelConfig(readFileSync((await defaultModelPaths()).config, 'utf8'));
  const model = new Sam2Model({ ...shipped, imageSize: args.size });
  const frames = new SyntheticTrainSource({ seed: SAM2_TRAIN_DATA_SEED, ...SAM2_TRAIN_INSTRUMENTS });
  // With an encoder checkpoint the probe reads the recipe's zoomed crops (the encoder was trained on them).
  const stream: TrainSource = args.encoder && SAM2_RECIPE[0].crop ? new CropTrainSource(frames, SAM2_RECIPE[0].crop) : frames;
  const samples: TrainSample[] = [];
  for (let i = 0; i < args.frames; i++) samples.push(await stream.sample(i));
  const cache: ImageFeatures[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'probe-sam2-clicks-'));
  try {
    if (args.encoder) {
      const step = await Sam2Trainer.loadWeightsFrom(model, args.encoder);
      reinitialiseDecoder(model, DEFAULT_TRAIN_CONFIG.seed);
      await model.promptEncoder.prepare();
      for (const s of samples) cache.push(noGrad(() => tidy(() => model.forwardImage(preprocess(s.image, args.size)))));
      log(`probe-sam2-clicks: decoder only — encoder frozen from ${args.encoder} (step ${step}), features of ${args.frames} frames cached`);
    } else {
      initTrainingWeights(model, DEFAULT_TRAIN_CONFIG.seed);
      await model.promptEncoder.prepare();
      log(`probe-sam2-clicks: from scratch on ${args.frames} frame(s) of the training stream`);
    }
    const encoder = new FrozenEncoder(model, cache);
    const source: TrainSource = {
      description: `first ${args.frames} frame(s) of ${stream.description}`,
      sample: (i) => encoder.select(i % args.frames, samples[i % args.frames]),
    };
    const config: Sam2TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      steps: args.steps,
      warmupSteps: Math.min(DEFAULT_TRAIN_CONFIG.warmupSteps, Math.ceil(args.steps / 10)),
      checkpointEvery: Number.MAX_SAFE_INTEGER,
      step: { ...DEFAULT_TRAIN_CONFIG.step, boxProbability: args.boxes, correctionProbability: args.corrections, multimaskProbability: args.multimask, maxAnatomyPerImage: args.anatomy, freezeEncoder: args.encoder !== undefined },
    };
    const memorise = args.frames === 1;
    const evalSource = memorise ? frames : new SyntheticTrainSource({ seed: SAM2_EVAL_DATA_SEED });
    const evalFrames = memorise ? [0] : [0, 1, 2, 3, 4, 5, 6, 7];
    const evals: ProbeEval[] = [];
    const ious: number[] = [];
    const t0 = performance.now();
    const trainer = await Sam2Trainer.open(model, source, config, dir);
    try {
      await trainer.run({
        evalEvery: args.evalEvery,
        onStep: (e) => {
          ious.push(e.firstRoundIou);
          if (e.step % 20 === 0) {
            const recent = ious.slice(-20);
            log(`step ${e.step}/${args.steps}  loss ${e.loss.toFixed(3)}  1st-round IoU (last ${recent.length}) ${(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(3)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`);
          }
        },
        evaluate: async (step) => {
          const r = await encoder.live(() => evaluateSingleClick(model, evalSource, evalFrames, { clicksPerObject: 3 }));
          evals.push({ step, instrumentDice: r.instrumentDice, clickSpread: r.clickSpread });
          log(`eval @${step} (${memorise ? 'the training frame' : '8 held-out frames'}): instrument mDSC ${r.instrumentDice.toFixed(3)}, click spread ${r.clickSpread.toFixed(4)}`);
          return { instrumentDice: r.instrumentDice, clickSpread: r.clickSpread };
        },
      });
    } finally {
      trainer.dispose();
    }
    const prompts = { boxes: args.boxes, corrections: args.corrections, multimask: args.multimask, anatomy: args.anatomy };
    if (args.json) process.stdout.write(`${JSON.stringify({ mode: args.encoder ? 'decoder-only' : 'frames', frames: args.frames, size: args.size, steps: args.steps, prompts, evals }, null, 2)}\n`);
    return 0;
  } finally {
    for (const f of cache) [f.imageEmbed, ...f.highRes].forEach((t) => t.dispose());
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
