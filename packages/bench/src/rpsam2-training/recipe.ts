/**
 * The recipe of the shipped default shift block (`packages/rpsam2/models/synthetic`): the data it
 * is trained, chosen and tested on, and its training schedule. `bench train-rpsam2` runs it as a
 * Table 1 run (train on the train split, keep the checkpoint that validates best on the val
 * split, report on the test split), so every piece — generation, feature caches, training,
 * evaluation, resumption — is the bench's own.
 *
 * The data is a synthetic set of its own seed ({@link RPSAM2_DATA_SEED}), distinct from the
 * default SAM 2's training and held-out streams and from every `pnpm bench` evaluation set, so
 * that neither the block's choice nor its test touches frames it was trained on.
 */
import { CLICK_STREAM } from '../evaluation/protocol-clicks.js';
import { METRICS_NOTE, RUN_CONFIG_FORMAT, RUN_CONFIG_VERSION, seedRange, TABLE1_VARIANT, type ExperimentConfig, type GenerateSpec } from '../runs/experiment-config.js';

/** Seed of the shift block's synthetic set (SAM 2's own streams are 1001 and 2002; `pnpm bench` uses 0). */
export const RPSAM2_DATA_SEED = 3003;

/**
 * The shift block's synthetic set: 15 cases × 10 frames at 1024×768 with 1–3 instruments, split
 * by case 9 / 3 / 3 (train / val / test) — about 180 training objects.
 */
export const RPSAM2_DATA: GenerateSpec = { seed: RPSAM2_DATA_SEED, cases: 15, framesPerCase: 10, width: 1024, height: 768, minInstruments: 1, maxInstruments: 3 };

/**
 * Training settings on top of rpsam2's DEFAULT_TRAIN_CONFIG (the paper's: 6 layers, batch 4
 * objects, Adam, shift bound 0.1, α = 1, β = 0.1, γ = 1, θ = 15). Deviations, each measured on
 * val and stated in the model card:
 * - a localised, identity start: the output head at zero (`zeroInitHead`), the image-token
 *   positions from SAM 2's dense positional encoding (`positionInit: 'sam2'`, the basis the click
 *   is encoded in) and each cross-attention's W_k tied to its W_q ×2 (`tieCrossAttention`), so
 *   that a click first attends to the image around it. From PyTorch's init the random head pushed
 *   clicks off the instruments (val 0.774 vs 0.805 raw after 215 steps), and with random positions
 *   nothing localises in a short schedule;
 * - the Dice term is off (`loss.useDice: false`): it is the only term that runs SAM 2's decoder,
 *   which makes a step ~6× slower here; the distance term points at the clicks where SAM 2's Dice
 *   is within ε of its best;
 * - gradients clipped to norm 1 (`clipGradNorm`): the distance term grows as exp(θ·d), so one far
 *   click can dominate a batch; lr 3e-4 for a schedule ~40× shorter than the paper's;
 * - 5 epochs (215 steps): a run of this recipe validated 0.8053 after 5 epochs and 0.8052 after
 *   10 (raw clicks 0.8045), so longer schedules of it buy nothing here; validation every 5 epochs
 *   on 3 fixed clicks per val object.
 *
 * What this recipe does NOT do yet is the paper's effect: the block it makes is within 0.001 of
 * SAM 2 on val (see the model card for what was tried and why the distance term misleads here).
 */
export const RPSAM2_RECIPE: Record<string, unknown> = {
  shiftBlock: 'paper',
  zeroInitHead: true,
  positionInit: 'sam2',
  tieCrossAttention: 2,
  initSeed: 0,
  seed: 0,
  epochs: 5,
  batchSize: 4,
  clicksPerObject: 10,
  lr: 3e-4,
  clipGradNorm: 1,
  loss: { useDice: false, useDist: true, useOut: true },
  val: { clicksPerObject: 3, seed: 1234, every: 5 },
  checkpointEvery: 100,
};

/** Candidate grid step (px) of the training caches: 16 (the paper's 8 costs 4× the decodes here). */
export const RPSAM2_GRID_STEP = 16;

/** The run configuration of `bench train-rpsam2` (a Table 1 run that trains, validates and tests the block). */
export function rpsam2TrainingRunConfig(): ExperimentConfig {
  return {
    format: RUN_CONFIG_FORMAT,
    version: RUN_CONFIG_VERSION,
    kind: 'table1',
    name: 'rpsam2-synthetic',
    data: { dataset: 'synthetic', root: '', generate: { ...RPSAM2_DATA }, annotations: 'supervisely', evalSplit: 'test', trainSplit: 'train', valSplit: 'val', limitImages: 0, limitTrainImages: 0 },
    sam2: { weights: '', config: '', dtype: 'f32' },
    extras: [],
    rpsam2: { shiftBlock: '', heads: 8, variants: [TABLE1_VARIANT] },
    training: { base: structuredClone(RPSAM2_RECIPE), gridStep: RPSAM2_GRID_STEP, epsilon: 0.005 },
    protocol: { seeds: seedRange(10), clickStream: CLICK_STREAM, clickOffset: 0, multimask: true, selection: 'highest predicted IoU', metrics: METRICS_NOTE },
    figures: { heatmapObjects: 4, heatmapClicks: 100, heatmapClasses: ['LI'] },
    cache: { dir: '', dtype: 'f32' },
  };
}
