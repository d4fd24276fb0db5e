/**
 * `bench profile-sam2-train [--size 256] [--steps 3] [--prompts-per-object 6] [--json]`: where a
 * step of training the default SAM 2 model from scratch spends its time, per kernel.
 *
 * The default model's architecture (models/synthetic/config.json) at `--size` px input, with
 * from-scratch weights, the training frames of `train-sam2` and its default settings
 * (DEFAULT_TRAIN_CONFIG); the steps are `Sam2Trainer.runStep` (frames, prompts, forward, loss,
 * backward, clipping, AdamW). One warm-up step (shader compilation), then `--steps` steps without
 * the profiler (the reference wall time), then `--steps` steps under the dispatch profiler: the
 * top 25 kernels by total time, the split forward / backward / optimizer, the backward time per
 * op, and the time outside kernels (host work: frame rendering, targets, readbacks, recording).
 * Profiling runs each dispatch in its own compute pass, so profiled steps are somewhat slower.
 *
 * With `--json` only a JSON object goes to stdout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProfile, shutdown, startProfile, stopProfile, type ProfileEntry, type ProfileReport } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { DEFAULT_TRAIN_CONFIG, Sam2Model, Sam2Trainer, defaultModelPaths, initTrainingWeights, parseDefaultModelConfig, type TrainSource } from '@rpsam2/sam2';
import { parseCommandFlags, positiveIntFlag, type CommandArgs } from './args.js';
import { SAM2_TRAIN_DATA_SEED, SAM2_TRAIN_INSTRUMENTS, SyntheticTrainSource } from './sam2-training/synthetic-source.js';

export const PROFILE_SAM2_TRAIN_USAGE = 'profile-sam2-train [--size 256] [--steps 3] [--prompts-per-object 6] [--json]';

const TOP_KERNELS = 25;
const TOP_LABELS = 12;

interface ProfileSam2TrainArgs extends CommandArgs {
  size: number;
  steps: number;
  promptsPerObject: number;
}

/** Parses the flags of `profile-sam2-train`. */
export function parseProfileSam2TrainArgs(argv: string[]): CommandArgs {
  const { values, common } = parseCommandFlags(argv, {
    size: { type: 'string', default: '256' },
    steps: { type: 'string', default: '3' },
    'prompts-per-object': { type: 'string', default: String(DEFAULT_TRAIN_CONFIG.step.promptsPerObject ?? 1) },
    json: { type: 'boolean', default: false },
  });
  const args: ProfileSam2TrainArgs = {
    ...common,
    size: positiveIntFlag('size', values.size!),
    steps: positiveIntFlag('steps', values.steps!),
    promptsPerObject: positiveIntFlag('prompts-per-object', values['prompts-per-object']!),
  };
  return args;
}

/** Time per step of each phase, from the kernel keys and the backward labels. */
interface PhaseSplit {
  forwardMs: number;
  backwardMs: number;
  optimizerMs: number;
}

function phaseOf(e: ProfileEntry): keyof PhaseSplit {
  if (e.label.startsWith('backward')) return 'backwardMs';
  // Gradient clipping and the AdamW update (optim/*.ts) all use 'optim:' kernels.
  if (e.kernel.startsWith('optim:')) return 'optimizerMs';
  return 'forwardMs';
}

function phases(report: ProfileReport, steps: number): PhaseSplit {
  const split: PhaseSplit = { forwardMs: 0, backwardMs: 0, optimizerMs: 0 };
  for (const e of report.entries) split[phaseOf(e)] += e.totalMs / steps;
  return split;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;

/** Runs `bench profile-sam2-train`. */
export async function profileSam2TrainCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as ProfileSam2TrainArgs;
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const backend = await initNode();
  if (!backend.info.features.timestampQuery) throw new Error("profile-sam2-train: the WebGPU device has no 'timestamp-query' feature, which the profiler needs");
  const a = backend.info.adapter;
  const adapter = a.description || a.device || a.vendor || 'unknown adapter';

  const shipped = parseDefaultModelConfig(readFileSync((await defaultModelPaths()).config, 'utf8'));
  const model = new Sam2Model({ ...shipped, imageSize: args.size });
  initTrainingWeights(model, DEFAULT_TRAIN_CONFIG.seed);
  await model.promptEncoder.prepare();
  // The frames `train-sam2` trains on; rendering them is host work, timed on its own.
  const frames = new SyntheticTrainSource({ seed: SAM2_TRAIN_DATA_SEED, ...SAM2_TRAIN_INSTRUMENTS });
  let renderMs = 0;
  const source: TrainSource = {
    description: frames.description,
    sample: (i) => {
      const t0 = performance.now();
      const s = frames.sample(i);
      renderMs += performance.now() - t0;
      return s;
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'profile-sam2-train-'));
  const config = {
    ...DEFAULT_TRAIN_CONFIG,
    checkpointEvery: Number.MAX_SAFE_INTEGER,
    step: { ...DEFAULT_TRAIN_CONFIG.step, promptsPerObject: args.promptsPerObject },
  };
  const trainer = await Sam2Trainer.open(model, source, config, dir);
  try {
    log(
      `profile-sam2-train: ${adapter}; default model architecture at ${args.size} px (${model.paramCount().toLocaleString('en')} parameters, from-scratch weights), ` +
        `${config.imagesPerStep} frame × ≤${config.step.objectsPerImage} objects × ${args.promptsPerObject} prompts per step; 1 warm-up + ${args.steps} plain + ${args.steps} profiled steps`,
    );
    /** One step, bracketed by syncs so that its wall time covers its GPU work. */
    const timedStep = async () => {
      await backend.sync();
      const t0 = performance.now();
      await trainer.runStep();
      await backend.sync();
      return performance.now() - t0;
    };
    log(`warm-up step: ${ms(await timedStep())} (includes shader compilation)`);
    const plainMs: number[] = [];
    for (let i = 0; i < args.steps; i++) plainMs.push(await timedStep());
    log(`plain steps: ${plainMs.map(ms).join(', ')} (mean ${ms(mean(plainMs))})`);

    renderMs = 0;
    const profiledMs: number[] = [];
    await backend.sync();
    startProfile();
    let report: ProfileReport;
    try {
      for (let i = 0; i < args.steps; i++) profiledMs.push(await timedStep());
    } finally {
      report = await stopProfile();
    }
    const n = args.steps;
    const kernelMs = report.kernelMs / n;
    const wallMs = mean(profiledMs);
    const plainWallMs = mean(plainMs);
    const split = phases(report, n);
    const result = {
      id: 'profile-sam2-train',
      adapter,
      imageSize: args.size,
      promptsPerObject: args.promptsPerObject,
      steps: n,
      plainStepMs: plainMs,
      profiledStepMs: profiledMs,
      kernelMsPerStep: kernelMs,
      renderMsPerStep: renderMs / n,
      dispatchesPerStep: report.dispatches / n,
      phasesMsPerStep: split,
      report,
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    log(`\ntop ${TOP_KERNELS} kernels, totals over ${n} profiled steps:\n${formatProfile(report, TOP_KERNELS)}`);
    log(`\nby label (backward/<op>: that op's backward rule; no label: forward, loss and optimizer), top ${TOP_LABELS}:\n${formatProfile(report, TOP_LABELS, { by: 'label', summary: false })}`);
    log(
      `\nper step: ${report.dispatches / n} dispatches; kernels ${ms(kernelMs)} = forward ${ms(split.forwardMs)} (${pct(split.forwardMs, kernelMs)}) + backward ${ms(split.backwardMs)} (${pct(split.backwardMs, kernelMs)}) + clip/AdamW ${ms(split.optimizerMs)} (${pct(split.optimizerMs, kernelMs)})`,
    );
    log(`profiled step wall ${ms(wallMs)}: in kernels ${pct(kernelMs, wallMs)}, outside ${ms(wallMs - kernelMs)} (${pct(wallMs - kernelMs, wallMs)}; frame rendering ${ms(renderMs / n)})`);
    log(`plain step wall ${ms(plainWallMs)} (no profiler): kernel time above is ${pct(kernelMs, plainWallMs)} of it; outside kernels ≈ ${ms(plainWallMs - kernelMs)}`);
    return 0;
  } finally {
    trainer.dispose();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
    shutdown();
  }
}
