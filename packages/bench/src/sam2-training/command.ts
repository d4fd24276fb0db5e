/**
 * `bench train-sam2`: trains the embedded default SAM 2 model from scratch on synthetic surgical
 * frames (the recipe of packages/sam2/models/synthetic/MODEL_CARD.md), resumable: rerun the same
 * command to continue from the run directory's checkpoint. Ctrl-C finishes the step, saves and
 * exits (130). `--export <dir>` writes the final weights (official key names) and a summary.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CropTrainSource, JsonlLog, Sam2Model, Sam2Trainer, defaultModelPaths, initTrainingWeights, parseDefaultModelConfig, reinitialiseDecoder, type TrainLogEntry, type TrainStage } from '@rpsam2/sam2';
import { saveTensors, type Tensor } from '@rpsam2/tensor';
import { ensureOutputDir, initNode, writeFileAtomic } from '@rpsam2/tensor/node';
import { ProgressLine, formatDuration } from '@rpsam2/rpsam2';
import { nonNegativeIntFlag, parseCommandFlags, type CommandArgs } from '../args.js';
import { ClassFocusTrainSource, SAM2_EVAL_DATA_SEED, SAM2_TRAIN_DATA_SEED, SAM2_TRAIN_INSTRUMENTS, SyntheticTrainSource } from './synthetic-source.js';
import { evaluateSingleClick } from './single-click-eval.js';
import { modelCardMarkdown } from './model-card.js';
import { SAM2_RECIPE } from './recipe.js';
import { adapterLine, captureEnvironment } from '../runs/environment.js';

export const TRAIN_SAM2_USAGE =
  `train-sam2 [--out runs/sam2-synthetic] [--stage-steps ${SAM2_RECIPE.map((s) => s.config.steps).join(',')}] [--images-per-step N] [--seed N] [--eval-every N] [--eval-frames N] [--export <dir>]`;

interface TrainSam2Args extends CommandArgs {
  out: string;
  stages: TrainStage[];
  evalEvery: number;
  evalFrames: number;
  exportDir?: string;
}

/** Parses the flags of `train-sam2`. */
export function parseTrainSam2Args(argv: string[]): CommandArgs {
  const { values, common } = parseCommandFlags(argv, {
    out: { type: 'string', default: 'runs/sam2-synthetic' },
    'stage-steps': { type: 'string' },
    'images-per-step': { type: 'string' },
    seed: { type: 'string' },
    'eval-every': { type: 'string', default: '100' },
    'eval-frames': { type: 'string', default: '8' },
    export: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const steps = values['stage-steps']?.split(',').map((v) => nonNegativeIntFlag('stage-steps', v));
  if (steps && steps.length !== SAM2_RECIPE.length) throw new Error(`--stage-steps needs ${SAM2_RECIPE.length} numbers (one per stage: ${SAM2_RECIPE.map((s) => `${s.imageSize}px`).join(', ')}), got '${values['stage-steps']}'`);
  const stages = SAM2_RECIPE.map((st, k) => ({
    ...st,
    config: {
      ...st.config,
      steps: steps?.[k] ?? st.config.steps,
      warmupSteps: Math.min(st.config.warmupSteps, steps?.[k] ?? st.config.steps),
      imagesPerStep: values['images-per-step'] !== undefined ? nonNegativeIntFlag('images-per-step', values['images-per-step']) : st.config.imagesPerStep,
      seed: values.seed !== undefined ? nonNegativeIntFlag('seed', values.seed) + k : st.config.seed,
    },
  }));
  if (stages.some((s) => s.config.imagesPerStep < 1)) throw new Error('--images-per-step must be at least 1');
  const args: TrainSam2Args = {
    ...common,
    out: values.out!,
    stages,
    evalEvery: nonNegativeIntFlag('eval-every', values['eval-every']!),
    evalFrames: nonNegativeIntFlag('eval-frames', values['eval-frames']!),
    exportDir: values.export,
  };
  return args;
}

/** Runs `bench train-sam2`: every stage of the recipe in turn (a finished stage is skipped). */
export async function trainSam2Command(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as TrainSam2Args;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  // The run and export folders are checked before hours of training (not only when first written).
  await ensureOutputDir(args.out);
  if (args.exportDir) await ensureOutputDir(args.exportDir);
  await initNode();
  const paths = await defaultModelPaths();
  const shipped = parseDefaultModelConfig(readFileSync(paths.config, 'utf8'));
  const last = args.stages[args.stages.length - 1];
  if (last.imageSize !== shipped.imageSize) throw new Error(`train-sam2: the last stage must run at the shipped input size ${shipped.imageSize}, not ${last.imageSize}`);
  const source = new SyntheticTrainSource({ seed: SAM2_TRAIN_DATA_SEED, ...SAM2_TRAIN_INSTRUMENTS });
  const evalSource = new SyntheticTrainSource({ seed: SAM2_EVAL_DATA_SEED });
  const evalFrames = Array.from({ length: args.evalFrames }, (_, i) => i);
  say(`train-sam2: ${source.description}; ${args.stages.map((s) => `${s.config.steps} steps at ${s.imageSize}px`).join(', then ')}; run directory ${args.out}`);
  const progress = new ProgressLine(process.stdout, { intervalMs: 30_000 });
  let trainer: Sam2Trainer | null = null;
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130);
    stopping = true;
    progress.log('train-sam2: stopping after this step (Ctrl-C again to abort without saving)…');
    trainer?.requestStop();
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  let model: Sam2Model | null = null;
  // Training seconds per stage, summed over this and earlier runs (from the stage logs).
  const stageSeconds: (number | null)[] = args.stages.map(() => null);
  try {
    for (const [k, stage] of args.stages.entries()) {
      const dir = join(args.out, `stage-${k + 1}-${stage.imageSize}px`);
      model?.dispose();
      model = new Sam2Model({ ...shipped, imageSize: stage.imageSize });
      const m = model;
      if (k === 0) initTrainingWeights(m, stage.config.seed);
      else {
        await Sam2Trainer.loadWeightsFrom(m, join(args.out, `stage-${k}-${args.stages[k - 1].imageSize}px`, 'checkpoint.safetensors'));
        // A fresh decoder on the previous stage's encoder (the saved checkpoint of a resumed stage overrides it).
        if (stage.freshDecoder) reinitialiseDecoder(m, stage.config.seed);
      }
      await m.promptEncoder.prepare();
      // A stage with crops reads the same frames, zoomed in for a share of its steps; a stage with
      // a class focus swaps a share of them for frames that show the class.
      const frames = stage.focus ? new ClassFocusTrainSource(source, stage.focus) : source;
      const stageSource = stage.crop ? new CropTrainSource(frames, stage.crop) : frames;
      trainer = await Sam2Trainer.open(m, stageSource, stage.config, dir);
      if (trainer.step >= stage.config.steps) {
        say(`stage ${k + 1}/${args.stages.length} (${stage.imageSize}px): done earlier (${trainer.step} steps)`);
        stageSeconds[k] = await stageTrainingSeconds(join(dir, 'train.jsonl'));
        trainer.dispose();
        continue;
      }
      say(`stage ${k + 1}/${args.stages.length} (${stage.imageSize}px, ${m.paramCount().toLocaleString('en')} parameters): ${trainer.resumed ? `resuming at step ${trainer.step}` : k === 0 ? 'from scratch' : stage.freshDecoder ? "a fresh decoder on the previous stage's encoder" : 'from the previous stage'}${stage.config.step.freezeEncoder ? ' (encoder frozen)' : ''}`);
      const startStep = trainer.step;
      const tStage = performance.now();
      let emaLoss = NaN;
      let emaIou = NaN;
      const ema = (a: number, x: number) => (Number.isNaN(a) ? x : 0.95 * a + 0.05 * x);
      const result = await trainer.run({
        evalEvery: args.evalEvery,
        onStep: (e, total) => {
          emaLoss = ema(emaLoss, e.loss);
          emaIou = ema(emaIou, e.firstRoundIou);
          const per = (performance.now() - tStage) / (e.step - startStep);
          progress.update(
            `stage ${k + 1} step ${e.step}/${total}  loss ${emaLoss.toFixed(4)}  1st-round IoU ${emaIou.toFixed(3)}  lr ${e.lr.toExponential(2)}  |g| ${e.gradNorm.toFixed(2)}  ${(e.ms / 1000).toFixed(1)} s/step  ETA ${formatDuration(per * (total - e.step))}`,
          );
        },
        evaluate: async (step) => {
          const r = await evaluateSingleClick(m, evalSource, evalFrames, { clicksPerObject: 3 });
          progress.log(`eval stage ${k + 1} @${step}: instrument 1-click mDSC ${r.instrumentDice.toFixed(4)} (spread ${r.clickSpread.toFixed(4)}, ${r.instruments} instruments)`);
          return { instrumentDice: r.instrumentDice, clickSpread: r.clickSpread };
        },
      });
      progress.done();
      trainer.dispose();
      trainer = null;
      stageSeconds[k] = await stageTrainingSeconds(join(dir, 'train.jsonl'));
      if (result.stopped) {
        say(`train-sam2: stopped in stage ${k + 1} at step ${result.steps} after ${formatDuration(performance.now() - t0)}; rerun the same command to continue`);
        return 130;
      }
    }
    say(`train-sam2: all stages done in ${formatDuration(performance.now() - t0)} (this run); checkpoints in ${args.out}`);
    if (args.exportDir && model) {
      const m = model;
      const tensors: Record<string, Tensor> = {};
      for (const [n, s] of m.namedParams()) tensors[n] = s.get();
      const meta = { name: shipped.name, recipe: JSON.stringify(args.stages), data: source.description };
      await writeFileAtomic(join(args.exportDir, 'weights.safetensors'), await saveTensors(tensors, meta));
      say(`train-sam2: exported weights to ${join(args.exportDir, 'weights.safetensors')}`);
      say('train-sam2: evaluating on 24 held-out frames (10 clicks per instrument)…');
      const r = await evaluateSingleClick(m, evalSource, Array.from({ length: 24 }, (_, i) => 100 + i), { clicksPerObject: 10 });
      writeFileSync(join(args.exportDir, 'eval.json'), JSON.stringify({ recipe: args.stages, ...r }, null, 2) + '\n');
      const card = modelCardMarkdown({
        config: shipped,
        parameters: m.paramCount(),
        stages: args.stages,
        data: source.description,
        evalData: `${evalSource.description}, frames 100–123`,
        result: r,
        stageSeconds,
        adapter: adapterLine(await captureEnvironment()),
        date: new Date().toISOString().slice(0, 10),
      });
      writeFileSync(join(args.exportDir, 'MODEL_CARD.md'), card);
      say(`train-sam2: held-out instrument 1-click mDSC ${r.instrumentDice.toFixed(4)}, click spread ${r.clickSpread.toFixed(4)} (${r.instruments} instruments)`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    trainer?.dispose();
    model?.dispose();
  }
}

/** Sum of the step times logged in a stage's train.jsonl (s), or null without a log. */
async function stageTrainingSeconds(path: string): Promise<number | null> {
  if (!existsSync(path)) return null;
  let ms = 0;
  for (const e of await JsonlLog.read<TrainLogEntry>(path)) if (e.type === 'step' && e.ms) ms += e.ms;
  return ms / 1000;
}
