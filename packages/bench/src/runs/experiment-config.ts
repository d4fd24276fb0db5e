/**
 * The configuration of a benchmark run (Table 1 or an ablation), written as `config.json` into
 * the run directory before anything runs, and read back by `--resume`. Everything a run does is
 * decided here: the data (generated or a folder), the SAM 2 models, how RP-SAM2 is obtained
 * (a checkpoint, or trained in the run — one training per variant), the protocol, the figures.
 *
 * Two presets:
 * - {@link defaultRunConfig}: `pnpm bench` with no arguments — a synthetic set generated in the
 *   run, the embedded default SAM 2 with the default shift block shipped for it (no training in
 *   the run; `--steps` trains one briefly instead), the full protocol (10 seeds); sized to finish
 *   within 5 minutes on a 2-core machine with lavapipe;
 * - {@link realRunConfig}: `--data` (Cataract-1k / CaDIS / a synthetic folder), the paper's
 *   training schedule unless overridden.
 */
import { DEFAULT_TRAIN_CONFIG, shiftBlockNeededError } from '@rpsam2/rpsam2';
import type { SplitName } from '../datasets/types.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { CLICK_STREAM } from '../evaluation/protocol-clicks.js';
import type { SyntheticDatasetOptions } from '../synthetic/dataset.js';

/** Config format tag and version (bump when the meaning of a field changes). */
export const RUN_CONFIG_FORMAT = 'rpsam2-bench-run';
export const RUN_CONFIG_VERSION = 1;

/** Which experiment. */
export type ExperimentKind = 'table1' | 'ablate-loss' | 'ablate-clicks';

/** An RP-SAM2 variant: one trained shift block, one column. */
export interface VariantSpec {
  /** The method name (column header), e.g. 'RP-SAM2' or 'RP-SAM2 (Dice+Dist)'. */
  name: string;
  /** Short label for plots ('Dice+Dist', '8'). */
  label: string;
  /** Training overrides on top of `training.base`, as `rpsam2 train --set` strings. */
  set: string[];
  /** The x value of the clicks ablation (clicks per object). */
  x?: number;
}

/** A SAM 2-architecture checkpoint evaluated as an extra row (plain SAM 2 protocol). */
export interface ExtraModelSpec {
  name: string;
  weights: string;
  /** Size name or config file ('' = inferred from the weights). */
  config: string;
}

/** Synthetic data generated into the run directory (the domain and the val/test cases: the generator's defaults when absent). */
export type GenerateSpec = Required<Pick<SyntheticDatasetOptions, 'seed' | 'cases' | 'framesPerCase' | 'width' | 'height' | 'minInstruments' | 'maxInstruments'>> &
  Pick<SyntheticDatasetOptions, 'domain' | 'valCases' | 'testCases'>;

/** The whole run configuration (config.json). */
export interface ExperimentConfig {
  format: typeof RUN_CONFIG_FORMAT;
  version: number;
  kind: ExperimentKind;
  /** The run's name (the run folder's suffix). */
  name: string;
  data: {
    /** Loader: Cataract-1k layout (also synthetic sets) or CaDIS. */
    dataset: 'cataract1k' | 'cadis' | 'synthetic';
    /** Dataset root ('' when generated: `<run>/data`). */
    root: string;
    /** Generated into the run directory (null: read `root`). */
    generate: GenerateSpec | null;
    /** Cataract-1k annotations to read. */
    annotations: 'supervisely' | 'coco';
    /** The evaluated split. */
    evalSplit: SplitName;
    /** The split RP-SAM2 trains on (when it is trained in the run). */
    trainSplit: SplitName;
    /** Validation split for checkpoint selection ('' = none: the last checkpoint is evaluated). */
    valSplit: SplitName | '';
    /** At most this many evaluated frames (0 = all), the first in dataset order. */
    limitImages: number;
    /** At most this many training frames (0 = all). */
    limitTrainImages: number;
  };
  /** The main SAM 2 (the SAM 2 column, and what RP-SAM2 runs on). */
  sam2: Sam2Spec;
  /** Extra SAM 2 rows. */
  extras: ExtraModelSpec[];
  rpsam2: {
    /**
     * A trained shift block (checkpoint file or run folder) to evaluate; {@link DEFAULT_SHIFT_BLOCK}
     * = the one shipped for the default SAM 2; '' = train in the run.
     */
    shiftBlock: string;
    /** Attention heads of a plain shift-block file (not in its shapes). */
    heads: number;
    /** The variants trained in the run (one for Table 1). */
    variants: VariantSpec[];
  };
  training: {
    /** Overrides of rpsam2's DEFAULT_TRAIN_CONFIG shared by every variant (`out`, `mode`, `data` are set by the run). */
    base: Record<string, unknown>;
    /** Candidate grid step (px) and tolerance of the training feature cache (and of the validation cache). */
    gridStep: number;
    epsilon: number;
    /**
     * Cache the training split of `data.generate` features only (grid {@link FEATURES_ONLY_GRID_STEP}:
     * features and masks, next to no candidate decodes) instead of with candidates at `gridStep`;
     * the validation cache keeps `gridStep`. Needs a loss that reads no candidates (see
     * {@link featuresOnlyLossError}). Absent: false.
     */
    featuresOnlyTrain?: boolean;
    /**
     * More synthetic sets whose *train* split also trains the block (after the run's own train
     * split; their val and test splits are not used). Each is generated into `<run>/extra-<seed>/data`
     * and its train split cached features only into `<run>/extra-<seed>/cache/<SAM 2>/train-train-g4096`
     * (the layout of a run's own training cache at that grid step, so a cache built by an earlier
     * run of the same set can be copied there). Needs a generated synthetic `data.generate`.
     * Absent: none.
     */
    extraTrainSets?: GenerateSpec[];
  };
  protocol: {
    /** Click seeds: one click per object and seed. */
    seeds: number[];
    /** Name of the random stream the clicks are derived from. */
    clickStream: string;
    /** Added to the drawn pixel index before prompting (0: pixel index; 0.5: pixel centre). */
    clickOffset: number;
    multimask: true;
    selection: 'highest predicted IoU';
    metrics: string;
  };
  figures: {
    /** Objects with a click heatmap (0: none). */
    heatmapObjects: number;
    /** About this many grid clicks per heatmap. */
    heatmapClicks: number;
    /** Classes drawn first, each by its most click-sensitive object (absent in older configs: none). */
    heatmapClasses?: string[];
  };
  /** Feature caches ('' = `<run>/cache`); `dtype` of the stored features. */
  cache: { dir: string; dtype: 'f32' | 'f16' };
}

/**
 * The candidate grid step (px) of a features-only training cache: larger than any image, so each
 * object gets the one grid point its (halved) grid first puts inside the mask — the cache holds the
 * image features and the object masks, with one or a few SAM 2 decodes per object instead of a
 * full candidate grid (~1 s a 1024×768 frame instead of ~11 s at 16 px). What a features-only
 * cache supports: a loss that reads no candidates (see {@link featuresOnlyLossError}).
 */
export const FEATURES_ONLY_GRID_STEP = 4096;

/**
 * Why a training config cannot train on a features-only cache ('' when it can): the distance
 * term against the grid's candidates (`distTarget: 'candidates'`) needs real candidate sets; the
 * Dice and out terms and the centroid target read only the masks.
 */
export function featuresOnlyLossError(t: { loss?: unknown; distTarget?: unknown }): string {
  const useDist = (t.loss as { useDist?: unknown } | undefined)?.useDist;
  if (useDist === false) return '';
  if (t.distTarget === 'centroid') return '';
  return "the distance term against the grid's candidates needs candidate sets: set training.base.distTarget 'centroid' (with candidateReach > 0) or loss.useDist false";
}

/** The metric conventions, as recorded in the config. */
export const METRICS_NOTE =
  'Dice and HD95 (MONAI: max of the two directed 95th percentiles of boundary distances, pixels) at the original resolution; empty prediction: Dice 0, HD95 = image diagonal (enters the means)';

/** Seeds 0 … n−1. */
export function seedRange(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`seeds: need a positive integer count, got ${n}`);
  return Array.from({ length: n }, (_, i) => i);
}

/** `rpsam2.shiftBlock` naming the shift block shipped with @rpsam2/rpsam2 for the default SAM 2. */
export const DEFAULT_SHIFT_BLOCK = 'default';

/** The Table 1 variant: RP-SAM2 with the base training config. */
export const TABLE1_VARIANT: VariantSpec = { name: 'RP-SAM2', label: 'RP-SAM2', set: [] };

/**
 * The brief training schedule of the default run (synthetic data, default model): the paper's
 * shift block architecture at the model's width, batch 4 objects × 10 clicks, 30 Adam steps at
 * lr 3e-4 (the paper: 1e-4 for 1500 epochs; the run has minutes), checkpoints every 10 steps for
 * resumption, and the output head starting at zero so that the block starts as the identity.
 * Why the last two: from PyTorch's default initialisation the untrained block already shifts a
 * click by up to 0.1 of the image (most clicks then leave a thin instrument, where the out term
 * has no gradient), and 30 steps at lr 1e-3 drove the shift to that bound for every click:
 * RP-SAM2 0.720 vs SAM 2 0.830 mDSC on this run. Identity start + lr 1e-3: 0.817; + lr 3e-4:
 * 0.829 (2026-11-27, the default model of session 5). 30 steps take 2–4 minutes on a 2-core
 * machine with lavapipe (the decoder's forward and backward dominate).
 */
export const BRIEF_TRAINING: Record<string, unknown> = {
  shiftBlock: 'paper',
  epochs: 1000,
  maxSteps: 30,
  lr: 3e-4,
  zeroInitHead: true,
  batchSize: 4,
  clicksPerObject: 10,
  checkpointEvery: 10,
  seed: 0,
  initSeed: 0,
};

/**
 * The synthetic set of the default run: 2 cases × 30 frames (train | test), 1024×768, 1–2
 * instruments per frame — about 45 instrument objects in the test split, enough for the Wilcoxon
 * test to see a 2-point difference (the train case is used only when the run trains).
 */
export const DEFAULT_GENERATE: GenerateSpec = { seed: 0, cases: 2, framesPerCase: 30, width: 1024, height: 768, minInstruments: 1, maxInstruments: 2 };

function baseConfig(kind: ExperimentKind, name: string): Omit<ExperimentConfig, 'data' | 'training'> {
  return {
    format: RUN_CONFIG_FORMAT,
    version: RUN_CONFIG_VERSION,
    kind,
    name,
    sam2: { weights: '', config: '', dtype: 'f32' },
    extras: [],
    rpsam2: { shiftBlock: '', heads: 8, variants: [TABLE1_VARIANT] },
    protocol: { seeds: seedRange(10), clickStream: CLICK_STREAM, clickOffset: 0, multimask: true, selection: 'highest predicted IoU', metrics: METRICS_NOTE },
    figures: { heatmapObjects: 2, heatmapClicks: 100 },
    cache: { dir: '', dtype: 'f32' },
  };
}

/**
 * `pnpm bench` with no arguments (see the module comment): Table 1 evaluates the shipped default
 * shift block; the ablations train their variants. Sized by measurement on the 2-core lavapipe
 * machine: when a run trains, the candidate grid is 32 px (≈ 10–40 grid clicks per instrument at
 * 1024×768, each a SAM 2 decode) and 30 training steps; 64 grid clicks per heatmap.
 */
export function defaultRunConfig(kind: ExperimentKind = 'table1'): ExperimentConfig {
  const base = baseConfig(kind, kind === 'table1' ? 'default' : `${kind}-synthetic`);
  return {
    ...base,
    data: { dataset: 'synthetic', root: '', generate: { ...DEFAULT_GENERATE }, annotations: 'supervisely', evalSplit: 'test', trainSplit: 'train', valSplit: '', limitImages: 0, limitTrainImages: 0 },
    rpsam2: { ...base.rpsam2, shiftBlock: kind === 'table1' ? DEFAULT_SHIFT_BLOCK : '' },
    training: { base: { ...BRIEF_TRAINING }, gridStep: 32, epsilon: 0.005 },
    figures: { ...base.figures, heatmapObjects: 3, heatmapClicks: 64, heatmapClasses: ['LI'] },
  };
}

/** A run on a dataset folder with the paper's training schedule (DEFAULT_TRAIN_CONFIG) unless overridden. */
export function realRunConfig(kind: ExperimentKind, root: string, dataset: ExperimentConfig['data']['dataset']): ExperimentConfig {
  return {
    ...baseConfig(kind, `${kind}-${dataset}`),
    data: { dataset, root, generate: null, annotations: 'supervisely', evalSplit: 'test', trainSplit: 'train', valSplit: 'val', limitImages: 0, limitTrainImages: 0 },
    training: { base: { shiftBlock: DEFAULT_TRAIN_CONFIG.shiftBlock, checkpointEvery: 100 }, gridStep: DEFAULT_TRAIN_CONFIG.candidates.gridStep, epsilon: DEFAULT_TRAIN_CONFIG.candidates.epsilon },
  };
}

/** Checks a config (from flags or a config.json); errors name the field. */
export function validateExperimentConfig(c: ExperimentConfig): void {
  const fail = (m: string): never => {
    throw new Error(`run config: ${m}`);
  };
  if (c.format !== RUN_CONFIG_FORMAT) fail(`format ${JSON.stringify(c.format)} is not '${RUN_CONFIG_FORMAT}'`);
  if (c.version !== RUN_CONFIG_VERSION) fail(`version ${c.version}; this build reads version ${RUN_CONFIG_VERSION}`);
  if (!['table1', 'ablate-loss', 'ablate-clicks'].includes(c.kind)) fail(`kind ${JSON.stringify(c.kind)}`);
  if (!['cataract1k', 'cadis', 'synthetic'].includes(c.data.dataset)) fail(`data.dataset must be cataract1k, cadis or synthetic, got ${JSON.stringify(c.data.dataset)}`);
  if (!c.data.generate && !c.data.root) fail('data.root is empty and nothing is generated (give --data <dir>)');
  if (c.data.generate && c.data.dataset !== 'synthetic') fail('data.generate needs data.dataset synthetic');
  for (const k of ['limitImages', 'limitTrainImages'] as const) if (!Number.isInteger(c.data[k]) || c.data[k] < 0) fail(`data.${k} must be an integer ≥ 0, got ${c.data[k]}`);
  if (!['supervisely', 'coco'].includes(c.data.annotations)) fail(`data.annotations must be supervisely or coco`);
  const seeds = c.protocol.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((s) => !Number.isInteger(s)) || new Set(seeds).size !== seeds.length) fail(`protocol.seeds must be distinct integers, got ${JSON.stringify(seeds)}`);
  if (!(c.protocol.clickOffset >= 0 && c.protocol.clickOffset < 1)) fail(`protocol.clickOffset must be in [0, 1), got ${c.protocol.clickOffset}`);
  if (!c.rpsam2.shiftBlock && c.rpsam2.variants.length === 0) fail('no RP-SAM2 variant to train and no shift block given');
  if (c.rpsam2.shiftBlock && c.kind !== 'table1') fail(`${c.kind} trains its variants; a --shift-block cannot be given`);
  if (c.rpsam2.shiftBlock === DEFAULT_SHIFT_BLOCK && c.sam2.weights) fail(`${shiftBlockNeededError(c.sam2.weights).message} (in pnpm bench: leave --shift-block out to train one in the run)`);
  const names = ['SAM 2', ...(c.rpsam2.shiftBlock ? [TABLE1_VARIANT.name] : c.rpsam2.variants.map((v) => v.name)), ...c.extras.map((e) => e.name)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) fail(`method name '${dup}' is used twice (extra rows need their own names)`);
  for (const e of c.extras) if (!e.name || !e.weights) fail(`extra rows need a name and weights (name=path[:config]), got ${JSON.stringify(e)}`);
  if (!Number.isInteger(c.training.gridStep) || c.training.gridStep < 1) fail(`training.gridStep must be a positive integer, got ${c.training.gridStep}`);
  validateTrainingData(c, fail);
  if (!Number.isInteger(c.figures.heatmapObjects) || c.figures.heatmapObjects < 0) fail(`figures.heatmapObjects must be an integer ≥ 0`);
  if (!(c.figures.heatmapClicks >= 1)) fail(`figures.heatmapClicks must be ≥ 1`);
  if (c.sam2.dtype !== 'f32' && c.sam2.dtype !== 'f16') fail(`sam2.dtype must be f32 or f16`);
  if (c.cache.dtype !== 'f32' && c.cache.dtype !== 'f16') fail(`cache.dtype must be f32 or f16`);
}

const GENERATE_KEYS = ['seed', 'cases', 'framesPerCase', 'width', 'height', 'minInstruments', 'maxInstruments'] as const;

/** `training.featuresOnlyTrain` and `training.extraTrainSets` (see ExperimentConfig). */
function validateTrainingData(c: ExperimentConfig, fail: (m: string) => never): void {
  const t = c.training;
  if (t.featuresOnlyTrain !== undefined && typeof t.featuresOnlyTrain !== 'boolean') fail(`training.featuresOnlyTrain must be true or false, got ${JSON.stringify(t.featuresOnlyTrain)}`);
  const extra = t.extraTrainSets;
  if (extra === undefined) {
    // Nothing more to check.
  } else if (!Array.isArray(extra)) {
    fail(`training.extraTrainSets must be a list of generate specs ({ seed, cases, framesPerCase, width, height, minInstruments, maxInstruments }), got ${JSON.stringify(extra)}`);
  } else if (extra.length) {
    if (c.data.dataset !== 'synthetic' || !c.data.generate) {
      fail(`training.extraTrainSets needs a generated synthetic data set (data.dataset synthetic with data.generate); this run reads ${c.data.dataset} from ${JSON.stringify(c.data.root)} — remove training.extraTrainSets`);
    }
    if (c.rpsam2.shiftBlock) fail('training.extraTrainSets trains the block in the run; it cannot go with a given shift block (rpsam2.shiftBlock) — remove one of them');
    const seeds = new Set<number>([c.data.generate!.seed]);
    extra.forEach((e, i) => {
      const at = `training.extraTrainSets[${i}]`;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(`${at} must be a generate spec object, got ${JSON.stringify(e)}`);
      for (const k of GENERATE_KEYS) if (!Number.isInteger(e[k])) fail(`${at}.${k} must be an integer, got ${JSON.stringify(e[k])}`);
      if (e.cases < 1 || e.framesPerCase < 1) fail(`${at}: cases and framesPerCase must be ≥ 1`);
      if (e.domain !== undefined && e.domain !== 'cataract1k') fail(`${at}.domain must be cataract1k (the run reads its sets in the Cataract-1k layout), got ${JSON.stringify(e.domain)}`);
      if (!(e.minInstruments >= 1 && e.minInstruments <= e.maxInstruments && e.maxInstruments <= 4)) fail(`${at}: instruments must satisfy 1 ≤ minInstruments ≤ maxInstruments ≤ 4, got ${e.minInstruments}–${e.maxInstruments}`);
      if (e.seed === c.data.generate!.seed) fail(`${at}.seed ${e.seed} is data.generate's seed: an extra set must be other frames than the run's own (give it another seed)`);
      if (seeds.has(e.seed)) fail(`${at}.seed ${e.seed} is used by another extra set: each extra set needs its own seed`);
      seeds.add(e.seed);
    });
  }
  if (t.featuresOnlyTrain || (extra?.length ?? 0) > 0) {
    const why = featuresOnlyLossError(t.base);
    if (why) fail(`${t.featuresOnlyTrain ? 'training.featuresOnlyTrain' : 'training.extraTrainSets'} caches features only, and ${why}`);
  }
}

/** The method names in column order: SAM 2, the RP-SAM2 column(s), the extra rows. */
export function methodNames(c: ExperimentConfig): string[] {
  return ['SAM 2', ...(c.rpsam2.shiftBlock ? [TABLE1_VARIANT.name] : c.rpsam2.variants.map((v) => v.name)), ...c.extras.map((e) => e.name)];
}
