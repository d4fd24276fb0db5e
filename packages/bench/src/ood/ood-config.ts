/**
 * The configuration of a `bench ood` run (the paper's Fig. 3a), written as `config.json` into the
 * run directory before anything runs and read back by `--resume`: the OOD data (a CaDIS folder,
 * or the synthetic CaDIS-like domain generated into the run), the SAM 2 and the in-distribution
 * shift block, the shares of the training split, how the shift block and SAM 2's decoder are
 * fine-tuned, the pseudo-labelling clicks and the evaluation protocol (Table 1's).
 *
 * Two presets:
 * - {@link defaultOodConfig}: no data given — the synthetic second domain with the shipped default
 *   SAM 2 and default shift block and a brief schedule (few frames, few steps) that finishes in
 *   well under 30 minutes on a 2-core machine with lavapipe;
 * - {@link realOodConfig}: `--data` (CaDIS, Task II, official splits) with the paper's 50 epochs
 *   for each fine-tune.
 */
import { DEFAULT_TRAIN_CONFIG as SAM2_TRAIN_DEFAULTS, type Sam2TrainConfig } from '@rpsam2/sam2';
import { CLICK_STREAM } from '../evaluation/protocol-clicks.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { BRIEF_TRAINING, DEFAULT_SHIFT_BLOCK, METRICS_NOTE, seedRange, type ExperimentConfig, type GenerateSpec } from '../runs/experiment-config.js';

export const OOD_CONFIG_FORMAT = 'rpsam2-bench-ood';
export const OOD_CONFIG_VERSION = 1;

/** How SAM 2's mask decoder is fine-tuned on a pseudo-mask set (SAM2-FT). */
export interface DecoderFinetuneSpec {
  /** Epochs over the training split (0: use `steps`). */
  epochs: number;
  /** Optimizer steps when `epochs` is 0. */
  steps: number;
  /** SAM 2's trainer settings (AdamW, schedule, prompts, losses); `steps` is set from the two above. */
  trainer: Sam2TrainConfig;
}

/** config.json of an OOD run. */
export interface OodConfig {
  format: typeof OOD_CONFIG_FORMAT;
  version: number;
  kind: 'ood';
  name: string;
  /** Which schedule the run uses ('brief': the default run; 'paper': 50 epochs per fine-tune). */
  schedule: 'brief' | 'paper';
  data: {
    dataset: 'cadis';
    /** Dataset root ('' when generated into `<run>/data`). */
    root: string;
    /** The synthetic CaDIS-like domain generated into the run (null: read `root`). */
    generate: GenerateSpec | null;
    /** At most this many test / training frames (0 = all), the first in dataset order. */
    limitImages: number;
    limitTrainImages: number;
  };
  sam2: Sam2Spec;
  /** The in-distribution shift block: {@link DEFAULT_SHIFT_BLOCK} (shipped for the default SAM 2) or a checkpoint. */
  shiftBlock: { checkpoint: string; heads: number };
  /** Shares of the training split labelled by hand (0 … <1; 0 = zero-shot), ascending. */
  shares: number[];
  /** Seed of the stratified subsets. */
  samplingSeed: number;
  /** Pseudo masks: one click per instrument drawn from this stream and seed. */
  pseudo: { clickStream: string; seed: number };
  /** Fine-tuning the shift block on a share (rpsam2's trainer; Table 1's `training` fields). */
  training: ExperimentConfig['training'];
  /** SAM2-FT: SAM 2's mask decoder on the labelled share plus the pseudo masks of the rest. */
  sam2ft: DecoderFinetuneSpec;
  protocol: ExperimentConfig['protocol'];
  cache: ExperimentConfig['cache'];
}

/** The click stream of the pseudo-labelling clicks (not the evaluation's). */
export const PSEUDO_CLICK_STREAM = 'ood-pseudo-click';

/**
 * SAM2-FT's trainer: the official losses, AdamW at a fine-tuning learning rate, one frame per step,
 * single clicks decoded multimask (as the protocol prompts), encoder and prompt encoder frozen.
 */
export const SAM2FT_TRAINER: Sam2TrainConfig = {
  ...SAM2_TRAIN_DEFAULTS,
  seed: 0,
  lr: 1e-4,
  minLr: 1e-5,
  warmupSteps: 5,
  checkpointEvery: 10,
  step: {
    ...SAM2_TRAIN_DEFAULTS.step,
    objectsPerImage: 4,
    maxAnatomyPerImage: 0,
    promptsPerObject: 4,
    boxProbability: 0,
    multimaskProbability: 1,
    correctionProbability: 0,
    freezeEncoder: true,
    freezePromptEncoder: true,
  },
};

/**
 * The generated OOD domain of the default run: 4 train videos × 6 frames, 1 val video × 4, 2 test
 * videos × 6 (CaDIS's 960×540, 1–2 instruments per frame); video numbers from the official split.
 */
export const DEFAULT_OOD_GENERATE: GenerateSpec = { seed: 17, domain: 'cadis', cases: 7, framesPerCase: 6, width: 960, height: 540, minInstruments: 1, maxInstruments: 2, valCases: 1, testCases: 2 };

/** Shares of the default run (of 24 training frames: 0, 6, 12 labelled). */
export const DEFAULT_OOD_SHARES = [0, 0.25, 0.5];

/** The paper's shares (Fig. 3a). */
export const PAPER_OOD_SHARES = [0, 0.05, 0.1, 0.2, 0.4, 0.6];

function base(name: string): Omit<OodConfig, 'data' | 'schedule' | 'shares' | 'training' | 'sam2ft' | 'shiftBlock'> {
  return {
    format: OOD_CONFIG_FORMAT,
    version: OOD_CONFIG_VERSION,
    kind: 'ood',
    name,
    sam2: { weights: '', config: '', dtype: 'f32' },
    samplingSeed: 0,
    pseudo: { clickStream: PSEUDO_CLICK_STREAM, seed: 0 },
    protocol: { seeds: seedRange(10), clickStream: CLICK_STREAM, clickOffset: 0, multimask: true, selection: 'highest predicted IoU', metrics: METRICS_NOTE },
    cache: { dir: '', dtype: 'f32' },
  };
}

/**
 * `pnpm bench ood` with no data: the brief schedule — 3 shares, the shift block fine-tuned for 20
 * steps (Table 1's brief training: Adam lr 3e-4, batch 4 objects × 10 clicks), SAM2-FT 30 steps,
 * candidates on a 32 px grid.
 */
export function defaultOodConfig(): OodConfig {
  return {
    ...base('ood-synthetic'),
    schedule: 'brief',
    data: { dataset: 'cadis', root: '', generate: { ...DEFAULT_OOD_GENERATE }, limitImages: 0, limitTrainImages: 0 },
    shiftBlock: { checkpoint: DEFAULT_SHIFT_BLOCK, heads: 8 },
    shares: [...DEFAULT_OOD_SHARES],
    training: { base: { ...BRIEF_TRAINING, maxSteps: 20, checkpointEvery: 10 }, gridStep: 32, epsilon: 0.005 },
    sam2ft: { epochs: 0, steps: 30, trainer: SAM2FT_TRAINER },
  };
}

/** A run on a CaDIS folder: the paper's shares and 50 epochs for each fine-tune. */
export function realOodConfig(root: string): OodConfig {
  return {
    ...base('ood-cadis'),
    schedule: 'paper',
    data: { dataset: 'cadis', root, generate: null, limitImages: 0, limitTrainImages: 0 },
    shiftBlock: { checkpoint: DEFAULT_SHIFT_BLOCK, heads: 8 },
    shares: [...PAPER_OOD_SHARES],
    training: { base: { shiftBlock: 'paper', epochs: 50, lr: 1e-4, checkpointEvery: 100 }, gridStep: 8, epsilon: 0.005 },
    sam2ft: { epochs: 50, steps: 0, trainer: { ...SAM2FT_TRAINER, checkpointEvery: 100 } },
  };
}

/** Checks a config (from flags or a config.json); errors name the field. */
export function validateOodConfig(c: OodConfig): void {
  const fail = (m: string): never => {
    throw new Error(`ood config: ${m}`);
  };
  if (c.format !== OOD_CONFIG_FORMAT) fail(`format ${JSON.stringify(c.format)} is not '${OOD_CONFIG_FORMAT}'`);
  if (c.version !== OOD_CONFIG_VERSION) fail(`version ${c.version}; this build reads version ${OOD_CONFIG_VERSION}`);
  if (c.kind !== 'ood') fail(`kind ${JSON.stringify(c.kind)}`);
  if (c.data.dataset !== 'cadis') fail(`data.dataset must be cadis, got ${JSON.stringify(c.data.dataset)}`);
  if (!c.data.generate && !c.data.root) fail('data.root is empty and nothing is generated (give --data <dir>)');
  if (c.data.generate && c.data.generate.domain !== 'cadis') fail('data.generate must be the cadis domain');
  if (!Array.isArray(c.shares) || c.shares.length === 0) fail('shares: give at least one');
  c.shares.forEach((s, i) => {
    if (!(s >= 0 && s < 1)) fail(`shares must be in [0, 1) (a share of 1 leaves nothing to pseudo-label), got ${s}`);
    if (i > 0 && !(s > c.shares[i - 1])) fail(`shares must be ascending and distinct, got ${c.shares.join(', ')}`);
  });
  const seeds = c.protocol.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((s) => !Number.isInteger(s)) || new Set(seeds).size !== seeds.length) fail(`protocol.seeds must be distinct integers, got ${JSON.stringify(seeds)}`);
  if (!(c.protocol.clickOffset >= 0 && c.protocol.clickOffset < 1)) fail(`protocol.clickOffset must be in [0, 1)`);
  if (c.shiftBlock.checkpoint === DEFAULT_SHIFT_BLOCK && c.sam2.weights) fail('the shipped shift block fits only the default SAM 2: give --shift-block <checkpoint> trained for --weights');
  if (!c.shiftBlock.checkpoint) fail('shiftBlock.checkpoint is empty');
  if (!Number.isInteger(c.training.gridStep) || c.training.gridStep < 1) fail(`training.gridStep must be a positive integer`);
  if (!Number.isInteger(c.sam2ft.epochs) || c.sam2ft.epochs < 0 || !Number.isInteger(c.sam2ft.steps) || c.sam2ft.steps < 0) fail('sam2ft.epochs and sam2ft.steps must be integers ≥ 0');
  if (c.sam2ft.epochs === 0 && c.sam2ft.steps === 0) fail('sam2ft: give epochs or steps');
  if (c.sam2.dtype !== 'f32') fail('sam2.dtype must be f32 (SAM2-FT trains the decoder)');
  if (c.cache.dtype !== 'f32' && c.cache.dtype !== 'f16') fail(`cache.dtype must be f32 or f16`);
}

/** "25%" (up to two decimals). */
export function shareLabel(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}

/** The evaluated methods' names at a share. */
export function oodMethodNames(share: number): { rpsam2: string; ftSam2: string; ftRpsam2: string } {
  const at = shareLabel(share);
  return { rpsam2: `RP-SAM2 @${at}`, ftSam2: `SAM2-FT (SAM 2 masks) @${at}`, ftRpsam2: `SAM2-FT (RP-SAM2 masks) @${at}` };
}
