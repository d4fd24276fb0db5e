/**
 * `bench train-sam2`: trains the embedded default SAM 2 model from scratch on synthetic surgical
 * frames (the recipe of packages/sam2/models/synthetic/MODEL_CARD.md), resumable: rerun the same
 * command to continue from the run directory's checkpoint. Ctrl-C finishes the step, saves and
 * exits (130). `--export <dir>` writes the final weights (official key names) and a summary.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TRAIN_CONFIG, Sam2Model, Sam2Trainer, defaultModelPaths, initTrainingWeights, parseDefaultModelConfig, type Sam2TrainConfig } from '@rpsam2/sam2';
import { saveTensors, type Tensor } from '@rpsam2/tensor';
import { initNode, writeFileAtomic } from '@rpsam2/tensor/node';
import { ProgressLine, formatDuration } from '@rpsam2/rpsam2';
import type { CommandArgs } from '../args.js';
import { SAM2_EVAL_DATA_SEED, SAM2_TRAIN_DATA_SEED, SyntheticTrainSource } from './synthetic-source.js';
import { evaluateSingleClick } from './single-click-eval.js';

export const TRAIN_SAM2_USAGE = 'train-sam2 [--out runs/sam2-synthetic] [--steps N] [--images-per-step N] [--lr X] [--seed N] [--eval-every N] [--eval-frames N] [--export <dir>]';

interface TrainSam2Args extends CommandArgs {
  out: string;
  config: Sam2TrainConfig;
  evalEvery: number;
  evalFrames: number;
  exportDir?: string;
}

/** Parses the flags of `train-sam2`. */
export function parseTrainSam2Args(argv: string[]): CommandArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      out: { type: 'string', default: 'runs/sam2-synthetic' },
      steps: { type: 'string' },
      'images-per-step': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'eval-every': { type: 'string', default: '100' },
      'eval-frames': { type: 'string', default: '8' },
      export: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const num = (flag: string, v: string | undefined, fallback: number, integer = true): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new Error(`--${flag} needs a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`);
    return n;
  };
  const d = DEFAULT_TRAIN_CONFIG;
  const config: Sam2TrainConfig = {
    ...d,
    steps: num('steps', values.steps, d.steps),
    imagesPerStep: num('images-per-step', values['images-per-step'], d.imagesPerStep),
    lr: num('lr', values.lr, d.lr, false),
    seed: num('seed', values.seed, d.seed),
  };
  if (config.imagesPerStep < 1) throw new Error('--images-per-step must be at least 1');
  const args: TrainSam2Args = {
    json: values.json ?? false,
    quick: false,
    rest: positionals,
    out: values.out!,
    config,
    evalEvery: num('eval-every', values['eval-every'], 100),
    evalFrames: num('eval-frames', values['eval-frames'], 8),
    exportDir: values.export,
  };
  return args;
}

/** Runs `bench train-sam2`. */
export async function trainSam2Command(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as TrainSam2Args;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  await initNode();
  const paths = await defaultModelPaths();
  const modelConfig = parseDefaultModelConfig(readFileSync(paths.config, 'utf8'));
  const model = new Sam2Model(modelConfig);
  initTrainingWeights(model, args.config.seed);
  await model.promptEncoder.prepare();
  const source = new SyntheticTrainSource({ seed: SAM2_TRAIN_DATA_SEED });
  const evalSource = new SyntheticTrainSource({ seed: SAM2_EVAL_DATA_SEED });
  const trainer = await Sam2Trainer.open(model, source, args.config, args.out);
  // The Gaussian matrix is a buffer: a resumed run restores everything else, then rebuilds the PE.
  await model.promptEncoder.prepare();
  say(`train-sam2: ${model.paramCount().toLocaleString('en')} parameters (${modelConfig.name}, ${modelConfig.imageSize}px), ${source.description}`);
  say(`train-sam2: ${trainer.resumed ? `resuming at step ${trainer.step}` : 'starting from scratch'} in ${args.out}; ${args.config.steps} steps × ${args.config.imagesPerStep} frames`);
  const progress = new ProgressLine(process.stdout, { intervalMs: 30_000 });
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130);
    stopping = true;
    progress.log('train-sam2: stopping after this step (Ctrl-C again to abort without saving)…');
    trainer.requestStop();
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  const startStep = trainer.step;
  let emaLoss = NaN;
  let emaIou = NaN;
  const ema = (a: number, x: number) => (Number.isNaN(a) ? x : 0.95 * a + 0.05 * x);
  const evalFrames = Array.from({ length: args.evalFrames }, (_, i) => i);
  try {
    const result = await trainer.run({
      evalEvery: args.evalEvery,
      onStep: (e, total) => {
        emaLoss = ema(emaLoss, e.loss);
        emaIou = ema(emaIou, e.firstRoundIou);
        const per = (performance.now() - t0) / (e.step - startStep);
        progress.update(
          `step ${e.step}/${total}  loss ${emaLoss.toFixed(4)}  1-click IoU ${emaIou.toFixed(3)}  lr ${e.lr.toExponential(2)}  |g| ${e.gradNorm.toFixed(2)}  ${(e.ms / 1000).toFixed(1)} s/step  ETA ${formatDuration(per * (total - e.step))}`,
        );
      },
      evaluate: async (step) => {
        const r = await evaluateSingleClick(model, evalSource, evalFrames, { clicksPerObject: 3 });
        progress.log(`eval @${step}: instrument 1-click mDSC ${r.instrumentDice.toFixed(4)} (spread ${r.clickSpread.toFixed(4)}, ${r.instruments} instruments)`);
        return { instrumentDice: r.instrumentDice, clickSpread: r.clickSpread };
      },
    });
    progress.done();
    say(`train-sam2: ${result.stopped ? 'stopped' : 'finished'} at step ${result.steps} after ${formatDuration(performance.now() - t0)}; checkpoint in ${args.out}`);
    if (args.exportDir && !result.stopped) {
      mkdirSync(args.exportDir, { recursive: true });
      const tensors: Record<string, Tensor> = {};
      for (const [n, s] of model.namedParams()) tensors[n] = s.get();
      const meta = { name: modelConfig.name, steps: String(result.steps), recipe: JSON.stringify(args.config), data: source.description };
      await writeFileAtomic(join(args.exportDir, 'weights.safetensors'), await saveTensors(tensors, meta));
      say(`train-sam2: exported weights to ${join(args.exportDir, 'weights.safetensors')}`);
      say('train-sam2: evaluating the exported model on 24 held-out frames (10 clicks per instrument)…');
      const r = await evaluateSingleClick(model, evalSource, Array.from({ length: 24 }, (_, i) => 100 + i), { clicksPerObject: 10 });
      writeFileSync(join(args.exportDir, 'eval.json'), JSON.stringify({ step: result.steps, ...r }, null, 2) + '\n');
      say(`train-sam2: held-out instrument 1-click mDSC ${r.instrumentDice.toFixed(4)}, click spread ${r.clickSpread.toFixed(4)} (${r.instruments} instruments)`);
    }
    return result.stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    trainer.dispose();
    model.dispose();
  }
}
