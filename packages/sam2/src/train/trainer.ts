/**
 * The SAM 2 trainer: AdamW with warm-up and cosine decay, gradient clipping, every parameter of
 * the image path trained (the prompt encoder's Gaussian matrix is a fixed buffer). Steps are
 * deterministic functions of (seed, step): step s reads frames s·B … s·B+B−1 of the source and
 * draws its prompts from a generator seeded by (seed, s), so a resumed run continues exactly.
 *
 * A run directory holds `checkpoint.safetensors` (`model.<name>` state dict, `optimizer.<…>`
 * state; metadata: step, config, optimizer scalars — written atomically every
 * `checkpointEvery` steps and when stopped) and `train.jsonl` (one line per step and per
 * evaluation). Node only (files).
 */
import { AdamW, SafetensorsFile, SeededRandom, clipGradNorm, mixSeed, saveTensors, tensor, type Tensor } from '@rpsam2/tensor';
import type { Sam2Model } from '../model/sam2-model.js';
import { importNode } from '../weights/node-import.js';
import type { TrainSource } from './data.js';
import type { CropOptions } from './crop-source.js';
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

/** Training settings of the shipped default model's stages (see models/synthetic/MODEL_CARD.md). */
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
  /** The class the focused steps show (a class key of the data, e.g. `LI`). */
  classKey: string;
  /** Share of the steps (0…1). */
  probability: number;
  /** Seed of the draws. */
  seed: number;
}

const RECIPE_CROPS: CropOptions = { probability: 0.5, fraction: 0.5, seed: 7 };
const FROZEN_ENCODER = { ...DEFAULT_TRAIN_CONFIG.step, freezeEncoder: true };
/**
 * Stages 5–7's prompts, mostly as the predictor is used and judged: one click, multimask.
 * `freezeEncoder: false` is written out because a checkpoint's config is compared as written.
 */
const SINGLE_CLICK_PROMPTS = { ...DEFAULT_TRAIN_CONFIG.step, freezeEncoder: false, multimaskProbability: 1, boxProbability: 0.1, correctionProbability: 0.1 };

/**
 * The default model's recipe, at 256 px input (4× cheaper per step than 512 px) with zoomed crops,
 * then at the shipped 512 px (progressive resizing: Hiera's position embedding is interpolated to
 * any grid, and nothing else depends on the size):
 * 1. everything trained together — the encoder learns the instruments; the decoder settles on
 *    masks that ignore the click (every run so far);
 * 2. a fresh decoder on that encoder, frozen: masks begin to depend on the click (spread 0 until
 *    ~800 steps, then rising with the mDSC), which joint training from scratch never showed;
 * 3. everything trained together again, now that the decoder follows the click: the encoder's
 *    features adapt to the click-selected masks (instrument parts the frozen features missed);
 * 4. the decoder at 512 px on whole frames, encoder frozen;
 * 5. everything at 512 px, at a low learning rate, mostly single clicks decoded multimask: the
 *    encoder, trained at 256 px until now, adapts to the shipped input's token grid;
 * 6. the decoder alone again on those features, with the same prompts;
 * 7. everything, with 30 % of the steps on frames showing the lens injector, the class the model
 *    missed most (its glass is ~80 % transparent: masks kept to its outline).
 * (Held-out gains of stages 4–7, one click: see the model card; each was small, +0.003 to +0.008.)
 */
export const DEFAULT_RECIPE: readonly TrainStage[] = [
  { imageSize: 256, config: DEFAULT_TRAIN_CONFIG, crop: RECIPE_CROPS },
  { imageSize: 256, config: { ...DEFAULT_TRAIN_CONFIG, seed: 2, steps: 1647, warmupSteps: 50, step: FROZEN_ENCODER }, crop: RECIPE_CROPS, freshDecoder: true },
  { imageSize: 256, config: { ...DEFAULT_TRAIN_CONFIG, seed: 3, steps: 2400, lr: 3e-4, warmupSteps: 50 }, crop: RECIPE_CROPS },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 1, steps: 300, lr: 3e-4, warmupSteps: 20, step: FROZEN_ENCODER } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 5, steps: 720, lr: 1e-4, warmupSteps: 10, step: SINGLE_CLICK_PROMPTS } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 5, steps: 240, lr: 1e-4, warmupSteps: 10, step: { ...SINGLE_CLICK_PROMPTS, freezeEncoder: true } } },
  { imageSize: 512, config: { ...DEFAULT_TRAIN_CONFIG, seed: 6, steps: 360, lr: 5e-5, warmupSteps: 10, step: SINGLE_CLICK_PROMPTS }, focus: { classKey: 'LI', probability: 0.3, seed: 11 } },
];

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
export class Sam2Trainer {
  private readonly names: string[];
  private readonly params: Tensor[];
  private readonly optimizer: AdamW;
  private stopRequested = false;

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

  /** Asks the run to stop after the step in progress (and save). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Writes the checkpoint (atomically). */
  async save(): Promise<void> {
    const node = await importNode<typeof import('@rpsam2/tensor/node')>('@rpsam2/tensor/node');
    const fs = await importNode<typeof import('node:fs')>('node:fs');
    fs.mkdirSync(this.dir, { recursive: true });
    const sd = this.optimizer.stateDict();
    const tensors: Record<string, Tensor> = {};
    for (const [n, slot] of this.model.namedParams()) tensors[PARAM_PREFIX + n] = slot.get(n);
    for (const [k, t] of Object.entries(sd.tensors)) tensors[OPTIM_PREFIX + k] = t;
    const meta = { step: this.step, config: this.config, source: this.source.description, optimizer: sd.scalars };
    const bytes = await saveTensors(tensors, { trainer: JSON.stringify(meta) });
    for (const t of Object.values(sd.tensors)) t.dispose();
    await node.writeFileAtomic(this.checkpointPath, bytes);
  }

  /** Appends one line to `train.jsonl`. */
  private async log(entry: TrainLogEntry): Promise<void> {
    const fs = await importNode<typeof import('node:fs')>('node:fs');
    fs.mkdirSync(this.dir, { recursive: true });
    fs.appendFileSync(`${this.dir}/train.jsonl`, JSON.stringify(entry) + '\n');
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
    while (this.step < c.steps && !this.stopRequested) {
      const entry = await this.runStep();
      await this.log(entry);
      hooks.onStep?.(entry, c.steps);
      if (this.step % c.checkpointEvery === 0 || this.step === c.steps || this.stopRequested) await this.save();
      if (hooks.evaluate && evalEvery > 0 && (this.step % evalEvery === 0 || this.step === c.steps)) {
        await this.log({ type: 'eval', step: this.step, ...(await hooks.evaluate(this.step)) });
      }
    }
    if (this.stopRequested) await this.save();
    return { steps: this.step, stopped: this.stopRequested && this.step < c.steps };
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
