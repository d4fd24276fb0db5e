/**
 * The SAM 2 trainer: AdamW with warm-up and cosine decay, gradient clipping, every parameter of
 * the image path trained (the prompt encoder's Gaussian matrix is a fixed buffer). Steps are
 * deterministic functions of (seed, step): step s reads frames s·B … s·B+B−1 of the source and
 * draws its prompts from a generator seeded by (seed, s), so a resumed run continues exactly.
 *
 * A run directory holds `checkpoint.safetensors` (`model.<name>` state dict, `optimizer.<…>`
 * state; metadata: step, config, optimizer scalars — written atomically every
 * `checkpointEvery` steps and when stopped) and `train.jsonl` (one line per step and per
 * evaluation). The stop request, the log and the atomic writes are the trainer skeleton shared
 * with RP-SAM2's trainer (skeleton/). Node only (files).
 *
 * Recipes: this package keeps only dataset-free defaults ({@link DEFAULT_TRAIN_CONFIG}, a
 * one-stage {@link DEFAULT_RECIPE}); the recipe of the embedded default model (synthetic surgical
 * frames, its crops and class focus) lives with the benchmark that trains it (`bench train-sam2`,
 * packages/bench/src/sam2-training/recipe.ts).
 */
import { AdamW, SafetensorsFile, SeededRandom, clipGradNorm, mixSeed, saveTensors, tensor, type Tensor } from '@rpsam2/tensor';
import type { Sam2Model } from '../model/sam2-model.js';
import { importNode } from '../weights/node-import.js';
import type { TrainSource } from './data.js';
import type { CropOptions } from './crop-source.js';
import { JsonlLog } from './skeleton/jsonl-log.js';
import { writeFileAtomically } from './skeleton/atomic-file.js';
import { TrainerSkeleton } from './skeleton/trainer-skeleton.js';
import { isEncoderParam, isPromptEncoderParam } from './init.js';
import { learningRateAt } from './schedule.js';
import { trainStep, type StepOptions, type StepStats } from './step.js';

/** Settings of a training run. */
export interface Sam2TrainConfig {
  seed: number;
  /** Optimizer steps of the whole run. */
  steps: number;
  /** Frames per step. */
  imagesPerStep: number;
  /** Peak learning rate, its floor, warm-up steps. */
  lr: number;
  minLr: number;
  warmupSteps: number;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** Max global gradient norm (0 = no clipping). */
  clipNorm: number;
  /** Prompts and loss weights. */
  step: StepOptions;
  /** Steps between checkpoints. */
  checkpointEvery: number;
}

/**
 * Generic training settings (no dataset in them). The default model's recipe (the bench's
 * `SAM2_RECIPE`) builds its stages on these values, so changing them changes that recipe (and a
 * run directory written with the old values refuses to resume).
 */
export const DEFAULT_TRAIN_CONFIG: Sam2TrainConfig = {
  seed: 0,
  steps: 400,
  imagesPerStep: 1,
  lr: 1e-3,
  minLr: 2e-5,
  warmupSteps: 100,
  weightDecay: 0.05,
  clipNorm: 1,
  step: { objectsPerImage: 4, maxAnatomyPerImage: 0, promptsPerObject: 6, boxProbability: 0.35, multimaskProbability: 0.5, correctionProbability: 0.35, lossUpsample: 2, weights: { mask: 20, dice: 1, iou: 1, objScore: 1 } },
  checkpointEvery: 25,
};

/** One stage of a training recipe: a config at an input size (no parameter shape depends on it). */
export interface TrainStage {
  imageSize: number;
  config: Sam2TrainConfig;
  /** Zoomed crops of the stage's frames (the trainer's caller wraps the source in a `CropTrainSource`); none when absent. */
  crop?: CropOptions;
  /** Start the prompt encoder and mask decoder afresh (`reinitialiseDecoder`) on the previous stage's weights. */
  freshDecoder?: boolean;
  /** A share of the steps on frames that show one class (the trainer's caller picks them from its data); none when absent. */
  focus?: ClassFocusOptions;
}

/** Settings of a stage's class focus ({@link TrainStage.focus}). */
export interface ClassFocusOptions {
  /** The class the focused steps show (a class key of the training data). */
  classKey: string;
  /** Share of the steps (0…1). */
  probability: number;
  /** Seed of the draws. */
  seed: number;
}

/**
 * A generic one-stage recipe: {@link DEFAULT_TRAIN_CONFIG} at 512 px on whole frames. (This name
 * used to hold the embedded default model's seven-stage recipe, with zoomed crops and a class
 * focus on the synthetic data's lens injector; that recipe is now the benchmark's `SAM2_RECIPE`,
 * packages/bench/src/sam2-training/recipe.ts.)
 */
export const DEFAULT_RECIPE: readonly TrainStage[] = [{ imageSize: 512, config: DEFAULT_TRAIN_CONFIG }];

/** One line of `train.jsonl`. */
export type TrainLogEntry = ({ type: 'step'; step: number; lr: number; gradNorm: number; ms: number } & StepStats) | ({ type: 'eval'; step: number } & Record<string, number | string>);

/** Hooks of a run. */
export interface TrainerHooks {
  /** After every step (progress display). */
  onStep?(entry: Extract<TrainLogEntry, { type: 'step' }>, totalSteps: number): void;
  /** Every `evalEvery` steps and at the end: returns metrics to log. */
  evaluate?(step: number): Promise<Record<string, number>>;
  evalEvery?: number;
}

const PARAM_PREFIX = 'model.';
const OPTIM_PREFIX = 'optimizer.';
/** Buffers that are part of the state dict but not trained. */
const FIXED = /positional_encoding_gaussian_matrix$/;

/** Trains a SAM 2 model in place; resumable from its run directory. */
export class Sam2Trainer extends TrainerSkeleton<TrainLogEntry> {
  private readonly names: string[];
  private readonly params: Tensor[];
  private readonly optimizer: AdamW;

  private constructor(
    readonly model: Sam2Model,
    readonly source: TrainSource,
    readonly config: Sam2TrainConfig,
    readonly dir: string,
    /** Optimizer steps done. */
    public step: number,
    /** Whether the run continued from a checkpoint. */
    readonly resumed: boolean,
  ) {
    super(new JsonlLog<TrainLogEntry>(`${dir}/train.jsonl`));
    const named = model.namedParams().filter(([n]) => !FIXED.test(n) && !(config.step.freezeEncoder && isEncoderParam(n)) && !(config.step.freezePromptEncoder && isPromptEncoderParam(n)));
    for (const [n, slot] of named) {
      const v = slot.get(n);
      if (v.dtype !== 'f32') throw new Error(`Sam2Trainer: parameter ${n} is ${v.dtype}; training needs f32 weights (load with dtype 'f32')`);
      v.requiresGrad = true;
    }
    this.names = named.map(([n]) => n);
    this.params = named.map(([, s]) => s.get());
    this.optimizer = new AdamW(this.params, { lr: config.lr, weightDecay: config.weightDecay });
  }

  /**
   * A trainer for `model` writing to `dir`. When `dir` holds a checkpoint, the model's weights and
   * the optimizer's state are restored from it first (the config must match, `steps` aside, and
   * the source's description: a stage's crops, the data's seed).
   */
  static async open(model: Sam2Model, source: TrainSource, config: Sam2TrainConfig, dir: string): Promise<Sam2Trainer> {
    const fs = await importNode<typeof import('node:fs')>('node:fs');
    const path = `${dir}/checkpoint.safetensors`;
    if (!fs.existsSync(path)) return new Sam2Trainer(model, source, config, dir, 0, false);
    const { file, meta } = await openCheckpoint(path);
    const a = JSON.stringify({ ...meta.config, steps: 0 });
    const b = JSON.stringify({ ...config, steps: 0 });
    if (a !== b) throw new Error(`${path}: was written with another training config; use a new run directory or the same settings\n  checkpoint: ${a}\n  this run:   ${b}`);
    // Checkpoints before the source was recorded have none: they resume on trust.
    if (meta.source !== undefined && meta.source !== source.description) {
      throw new Error(`${path}: was written training on another source; use a new run directory or the same data\n  checkpoint: ${meta.source}\n  this run:   ${source.description}`);
    }
    await restoreModel(model, file, path);
    const trainer = new Sam2Trainer(model, source, config, dir, meta.step, true);
    const tensors: Record<string, Float32Array> = {};
    for (const key of file.keys()) if (key.startsWith(OPTIM_PREFIX)) tensors[key.slice(OPTIM_PREFIX.length)] = await file.readF32(key);
    trainer.optimizer.loadStateDict({ tensors, scalars: meta.optimizer });
    return trainer;
  }

  /**
   * Loads the model weights of a trainer checkpoint into `model` (e.g. to continue at another
   * image size: no parameter shape depends on it). Returns the checkpoint's step.
   */
  static async loadWeightsFrom(model: Sam2Model, path: string): Promise<number> {
    const { file, meta } = await openCheckpoint(path);
    await restoreModel(model, file, path);
    return meta.step;
  }

  private get checkpointPath(): string {
    return `${this.dir}/checkpoint.safetensors`;
  }

  /** Writes the checkpoint (atomically). */
  async save(): Promise<void> {
    const sd = this.optimizer.stateDict();
    const tensors: Record<string, Tensor> = {};
    for (const [n, slot] of this.model.namedParams()) tensors[PARAM_PREFIX + n] = slot.get(n);
    for (const [k, t] of Object.entries(sd.tensors)) tensors[OPTIM_PREFIX + k] = t;
    const meta = { step: this.step, config: this.config, source: this.source.description, optimizer: sd.scalars };
    const bytes = await saveTensors(tensors, { trainer: JSON.stringify(meta) });
    for (const t of Object.values(sd.tensors)) t.dispose();
    await writeFileAtomically(this.checkpointPath, bytes);
  }

  /**
   * One optimizer step (frames, prompts, forward, backward, clipping, AdamW): advances `step` and
   * returns the step's log entry, without logging, checkpointing or evaluating (what {@link run}
   * adds; benchmarks call this directly).
   */
  async runStep(): Promise<Extract<TrainLogEntry, { type: 'step' }>> {
    const c = this.config;
    const t0 = performance.now();
    const s = this.step;
    const samples = [];
    for (let j = 0; j < c.imagesPerStep; j++) samples.push(await this.source.sample(s * c.imagesPerStep + j));
    const rng = new SeededRandom(mixSeed(c.seed, s));
    const next = () => rng.next();
    const lr = learningRateAt(s, { lr: c.lr, minLr: c.minLr, warmupSteps: c.warmupSteps, totalSteps: c.steps });
    this.optimizer.lr = lr;
    const stats = await trainStep(this.model, samples, c.step, { next });
    let gradNorm = NaN;
    if (c.clipNorm > 0) {
      const norm = clipGradNorm(this.params, c.clipNorm);
      gradNorm = (await norm.data())[0];
      norm.dispose();
    }
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.step = s + 1;
    return { type: 'step', step: this.step, lr, gradNorm, ms: Math.round(performance.now() - t0), ...stats };
  }

  /** Runs (or continues) until `config.steps` or a stop request; saves at the end. */
  async run(hooks: TrainerHooks = {}): Promise<{ steps: number; stopped: boolean }> {
    const c = this.config;
    const evalEvery = hooks.evalEvery ?? 0;
    while (this.step < c.steps && !this.stopping) {
      const entry = await this.runStep();
      await this.log.append(entry);
      hooks.onStep?.(entry, c.steps);
      if (this.checkpointDue(this.step, c.checkpointEvery) || this.step === c.steps || this.stopping) await this.save();
      if (hooks.evaluate && evalEvery > 0 && (this.step % evalEvery === 0 || this.step === c.steps)) {
        await this.log.append({ type: 'eval', step: this.step, ...(await hooks.evaluate(this.step)) });
      }
    }
    if (this.stopping) await this.save();
    return { steps: this.step, stopped: this.stopping && this.step < c.steps };
  }

  /** Frees the optimizer state (the model stays with the caller). */
  dispose(): void {
    this.optimizer.dispose();
    for (const p of this.params) p.requiresGrad = false;
  }
}

interface CheckpointMeta {
  step: number;
  config: Sam2TrainConfig;
  /** The training source's description (absent in checkpoints of earlier versions). */
  source?: string;
  optimizer: Record<string, number>;
}

async function openCheckpoint(path: string): Promise<{ file: SafetensorsFile; meta: CheckpointMeta }> {
  const node = await importNode<typeof import('@rpsam2/tensor/node')>('@rpsam2/tensor/node');
  const file = await SafetensorsFile.open(node.fileSource(path));
  const meta = JSON.parse(file.metadata.trainer ?? 'null') as CheckpointMeta | null;
  if (!meta) throw new Error(`${path}: not a SAM 2 trainer checkpoint (no 'trainer' metadata)`);
  return { file, meta };
}

/**
 * Replaces every state-dict entry of `model` (fixed buffers too) with the checkpoint's, after
 * checking every key and shape first so that a bad file leaves the model as it was.
 */
async function restoreModel(model: Sam2Model, file: SafetensorsFile, path: string): Promise<void> {
  const named = model.namedParams();
  const keys = new Set(file.keys());
  for (const [n, slot] of named) {
    const key = PARAM_PREFIX + n;
    if (!keys.has(key)) throw new Error(`${path}: missing parameter ${key}`);
    const e = file.entry(key);
    if (e.shape.join() !== slot.shape.join()) throw new Error(`${path}: ${key} has shape [${e.shape}], the model expects [${slot.shape}]`);
  }
  for (const [n, slot] of named) {
    const data = await file.readF32(PARAM_PREFIX + n);
    slot.value?.dispose();
    slot.value = tensor(data, slot.shape, { name: n });
  }
  await model.promptEncoder.prepare(); // the dense PE derives from the restored Gaussian matrix
}
