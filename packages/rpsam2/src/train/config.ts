/**
 * The training configuration: a JSON file whose keys override {@link DEFAULT_TRAIN_CONFIG}, then
 * `--set key=value` overrides with dotted keys (`loss.useDist=false`, `epochs=20`); values are
 * parsed as JSON when they parse, else taken as strings. Unknown keys and values of the wrong
 * type are errors that name the key.
 */
import type { Sam2Model } from '@rpsam2/sam2';
import { MAX_REFINE_STEPS, ShiftBlock, type ShiftBlockConfig, type ShiftHead } from '../shift-block/shift-block.js';
import type { DistTarget } from './step.js';

/**
 * Everything an RP-SAM2 training run is set up by (`rpsam2 train`): SAM 2, the shift block, the data,
 * the optimisation, the loss and validation; see {@link resolveTrainConfig}.
 */
export interface TrainConfig {
  /** Output directory: checkpoints/{last,best}.safetensors (+ .json), log.jsonl, config.json. */
  out: string;
  sam2: {
    /** SAM 2 weights (.pt or .safetensors); '' = the embedded default model. */
    weights: string;
    /** Size name (t, s, b+, l) or a .yaml/.json config file; '' = inferred from the weights. */
    config: string;
    /** Weight storage on the GPU. */
    dtype: 'f32' | 'f16';
  };
  /**
   * 'paper' (d = SAM 2's width, 8 heads, FFN 2048, 6 layers), 'tiny' (the fixture's: 8 heads,
   * FFN 64, 6 layers) or explicit sizes; dModel and imageTokens default to SAM 2's.
   */
  shiftBlock: 'paper' | 'tiny' | Partial<ShiftBlockConfig>;
  /** Seed of the shift block's initialisation. */
  initSeed: number;
  /** Start the shift block's output head at zero, so that it starts as the identity (no shift). */
  zeroInitHead: boolean;
  /** The shift block's output head: 'linear' (the paper's) or 'pointer' (ours; see ShiftBlockConfig.head). */
  shiftHead: ShiftHead;
  /**
   * Inference steps of a fresh block (ShiftBlockConfig.refineSteps; 1, the paper's, is stored as
   * absent). Validation applies them; training is on one step. A block from `initFrom` keeps its own.
   */
  refineSteps: number;
  /** Weight of the cover term on the pointer's attention (0: off; see StepOptions.coverWeight). */
  coverWeight: number;
  /**
   * Start from this trained shift block (a run folder, whose best checkpoint is taken, or a
   * checkpoint / plain safetensors file) instead of a fresh one: fine-tuning. Its own sizes and head
   * replace `shiftBlock`, `shiftHead` and the init settings. '' (default): a fresh block.
   */
  initFrom: string;
  /**
   * Initial image-token positions: 'random' (N(0, 0.02²), as the paper's module) or 'sam2' (SAM 2's
   * dense positional encoding: the Fourier basis in which the prompt encoder also encodes the click).
   */
  positionInit: 'random' | 'sam2';
  /** Tie each cross-attention's W_k to its W_q at init, scaled by this factor (0: off). */
  tieCrossAttention: number;
  /** 'cached': features and candidates from a feature cache; 'on-the-fly': encoder per step with augmentation. */
  mode: 'cached' | 'on-the-fly';
  data: {
    /** Feature cache directory (cached mode; `rpsam2 candidates` builds it). */
    cache: string;
    /**
     * More feature caches of the same SAM 2 whose objects join the training set (cached mode; their
     * images are never used for validation).
     */
    extraCaches: string[];
    /** Dataset (on-the-fly mode): 'synthetic:<count>[:<seed>]' or a manifest JSON (see datasets). */
    dataset: string;
    /** Validation cache / dataset (default: a split of the training data). */
    valCache: string;
    valDataset: string;
    /** Fraction of images held out for validation when no validation data is given (0: validate on the training objects). */
    valFraction: number;
  };
  epochs: number;
  /** Objects per step. */
  batchSize: number;
  /** Random clicks per object per step. */
  clicksPerObject: number;
  lr: number;
  /**
   * Clip the shift block's gradient to this global L2 norm before each Adam step (0: off). The
   * distance term grows as exp(θ·distance), so a few far clicks can dominate a batch's gradient.
   */
  clipGradNorm: number;
  /** Seed of the training stream (shuffling, clicks, augmentation). */
  seed: number;
  loss: { useDice: boolean; useDist: boolean; useOut: boolean; alpha: number; beta: number; gamma: number; theta: number };
  val: {
    /** Fixed clicks per validation object. */
    clicksPerObject: number;
    seed: number;
    /** Validate every this many epochs (and after the last). */
    every: number;
  };
  /**
   * On-the-fly mode: flips and brightness of the image before SAM 2 encodes it. Cached mode:
   * `featureHflip` / `featureVflip` mirror a cached image's features, masks and candidates (each
   * flip with probability 1/2 per object and step; no encoder pass, see `cache/mirror.ts`).
   */
  augment: { hflip: boolean; vflip: boolean; brightness: number; featureHflip: boolean; featureVflip: boolean };
  /** Candidate settings of on-the-fly mode (the cache stores its own). */
  candidates: { gridStep: number; epsilon: number };
  /**
   * Cached mode: re-select each object's candidates from the cache's per-grid Dice with this
   * tolerance ε (0: the cache's own candidates). A larger ε makes the distance term's targets
   * regions (where one click gives SAM 2 nearly its best mask) rather than a few points.
   */
  candidateEpsilon: number;
  /**
   * Distance term against the candidates a click can reach: grid points within this per-axis
   * distance (normalised units; the shift bound, 0.1, is the natural value) whose Dice is within
   * the candidate tolerance of the best in reach. 0: the object's global candidates (the paper's).
   */
  candidateReach: number;
  /**
   * The distance term's target: 'candidates' (the grid's; see `candidateReach`) or 'centroid'
   * (the point `candidateReach` towards the object's mask centroid per axis; needs
   * candidateReach > 0).
   */
  distTarget: DistTarget;
  /** Stop after this many optimizer steps in total (0: no limit; for smoke runs). */
  maxSteps: number;
  /** Also write the last checkpoint every this many steps (0: only at epoch ends and on stop). */
  checkpointEvery: number;
  /** Cached images kept on the GPU (least recently used are dropped). */
  gpuCacheImages: number;
  /** Clicks per decoder pass (0: automatic, from the binding limit). */
  decodeChunkClicks: number;
}

/**
 * The defaults that a config file and `--set` overrides start from (the paper's settings: 1500 epochs,
 * 4 objects × 10 clicks per step, lr 1e-4, every loss term on; cached mode).
 */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  out: 'runs/rpsam2',
  sam2: { weights: '', config: '', dtype: 'f32' },
  shiftBlock: 'paper',
  initSeed: 0,
  zeroInitHead: false,
  shiftHead: 'linear',
  refineSteps: 1,
  coverWeight: 0,
  initFrom: '',
  positionInit: 'random',
  tieCrossAttention: 0,
  mode: 'cached',
  data: { cache: '', extraCaches: [], dataset: '', valCache: '', valDataset: '', valFraction: 0.1 },
  epochs: 1500,
  batchSize: 4,
  clicksPerObject: 10,
  lr: 1e-4,
  clipGradNorm: 0,
  seed: 0,
  loss: { useDice: true, useDist: true, useOut: true, alpha: 1, beta: 0.1, gamma: 1, theta: 15 },
  val: { clicksPerObject: 1, seed: 1234, every: 1 },
  augment: { hflip: true, vflip: false, brightness: 0.2, featureHflip: false, featureVflip: false },
  candidates: { gridStep: 8, epsilon: 0.005 },
  candidateEpsilon: 0,
  candidateReach: 0,
  distTarget: 'candidates',
  maxSteps: 0,
  checkpointEvery: 0,
  gpuCacheImages: 64,
  decodeChunkClicks: 0,
} as TrainConfig);

const SHIFT_KEYS = ['dModel', 'heads', 'ffn', 'layers', 'tokens', 'imageTokens', 'scaleInit', 'eps'];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of `over` into `base`, checking keys and types against `base` (the defaults). */
function merge(base: unknown, over: unknown, path: string): unknown {
  if (path === 'shiftBlock') {
    if (over === 'paper' || over === 'tiny') return over;
    if (!isObj(over)) throw new Error(`config: shiftBlock must be 'paper', 'tiny' or an object of sizes, got ${JSON.stringify(over)}`);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(over)) {
      if (!SHIFT_KEYS.includes(k)) throw new Error(`config: unknown key shiftBlock.${k} (expected ${SHIFT_KEYS.join(', ')})`);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config: shiftBlock.${k} must be a number, got ${JSON.stringify(v)}`);
      out[k] = v;
    }
    return out;
  }
  if (isObj(base)) {
    if (!isObj(over)) throw new Error(`config: ${path || 'the config'} must be an object, got ${JSON.stringify(over)}`);
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in base)) throw new Error(`config: unknown key '${p}' (known: ${Object.keys(base).map((x) => (path ? `${path}.${x}` : x)).join(', ')})`);
      out[k] = merge(base[k], v, p);
    }
    return out;
  }
  if (typeof base !== typeof over) throw new Error(`config: ${path} must be a ${typeof base}, got ${JSON.stringify(over)}`);
  return over;
}

/** Parses `key=value` (dotted key; value as JSON, else a string) into a nested object. */
export function parseOverride(text: string): Record<string, unknown> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--set '${text}': expected key=value (e.g. epochs=20 or loss.useDist=false)`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new Error(`--set '${text}': bad key '${key}'`);
  const root: Record<string, unknown> = {};
  let cur = root;
  parts.slice(0, -1).forEach((p) => {
    cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  });
  cur[parts[parts.length - 1]] = value;
  return root;
}

/** Checks ranges; throws naming the key. */
export function validateTrainConfig(c: TrainConfig): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`config: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(c.epochs, 'epochs', 1);
  int(c.batchSize, 'batchSize', 1);
  int(c.clicksPerObject, 'clicksPerObject', 1);
  int(c.seed, 'seed', 0);
  int(c.initSeed, 'initSeed', 0);
  int(c.refineSteps, 'refineSteps', 1);
  if (c.refineSteps > MAX_REFINE_STEPS) throw new Error(`config: refineSteps must be at most ${MAX_REFINE_STEPS}, got ${c.refineSteps}`);
  int(c.val.clicksPerObject, 'val.clicksPerObject', 1);
  int(c.val.every, 'val.every', 1);
  int(c.maxSteps, 'maxSteps', 0);
  int(c.checkpointEvery, 'checkpointEvery', 0);
  int(c.gpuCacheImages, 'gpuCacheImages', 1);
  int(c.decodeChunkClicks, 'decodeChunkClicks', 0);
  int(c.candidates.gridStep, 'candidates.gridStep', 1);
  if (!(c.lr > 0)) throw new Error(`config: lr must be > 0, got ${c.lr}`);
  if (!(c.candidateReach >= 0 && c.candidateReach <= 1)) throw new Error(`config: candidateReach must be in [0, 1] (0: the global candidates), got ${c.candidateReach}`);
  if (c.distTarget !== 'candidates' && c.distTarget !== 'centroid') throw new Error(`config: distTarget must be 'candidates' or 'centroid', got ${JSON.stringify(c.distTarget)}`);
  if (c.distTarget === 'centroid' && !(c.candidateReach > 0)) throw new Error('config: distTarget \'centroid\' needs candidateReach > 0 (how far a click may move towards the centroid; the shift bound, 0.1, is natural)');
  if (!(c.candidateEpsilon >= 0 && c.candidateEpsilon < 1)) throw new Error(`config: candidateEpsilon must be in [0, 1) (0: the cache's candidates), got ${c.candidateEpsilon}`);
  if (!(c.clipGradNorm >= 0)) throw new Error(`config: clipGradNorm must be ≥ 0 (0: off), got ${c.clipGradNorm}`);
  if (!(c.data.valFraction >= 0 && c.data.valFraction < 1)) throw new Error(`config: data.valFraction must be in [0, 1), got ${c.data.valFraction}`);
  if (!(c.augment.brightness >= 0 && c.augment.brightness < 1)) throw new Error(`config: augment.brightness must be in [0, 1), got ${c.augment.brightness}`);
  for (const k of ['featureHflip', 'featureVflip'] as const) {
    if (typeof c.augment[k] !== 'boolean') throw new Error(`config: augment.${k} must be true or false, got ${JSON.stringify(c.augment[k])}`);
  }
  if ((c.augment.featureHflip || c.augment.featureVflip) && c.mode !== 'cached') {
    throw new Error("config: augment.featureHflip / featureVflip mirror cached features (mode 'cached'); on the fly, use augment.hflip / vflip");
  }
  if (c.shiftHead !== 'linear' && c.shiftHead !== 'pointer') throw new Error(`config: shiftHead must be 'linear' or 'pointer', got ${JSON.stringify(c.shiftHead)}`);
  if (!(c.coverWeight >= 0)) throw new Error(`config: coverWeight must be ≥ 0 (0: off), got ${c.coverWeight}`);
  if (c.coverWeight > 0 && c.shiftHead !== 'pointer') throw new Error("config: coverWeight > 0 needs shiftHead 'pointer' (the cover term trains the pointer's attention)");
  if (c.positionInit !== 'random' && c.positionInit !== 'sam2') throw new Error(`config: positionInit must be 'random' or 'sam2', got ${JSON.stringify(c.positionInit)}`);
  if (!(c.tieCrossAttention >= 0)) throw new Error(`config: tieCrossAttention must be ≥ 0 (0: off), got ${c.tieCrossAttention}`);
  if (!Array.isArray(c.data.extraCaches) || c.data.extraCaches.some((p) => typeof p !== 'string' || !p)) {
    throw new Error(`config: data.extraCaches must be a list of feature-cache folders, got ${JSON.stringify(c.data.extraCaches)}`);
  }
  if (c.data.extraCaches.length && c.mode !== 'cached') throw new Error('config: data.extraCaches needs mode \'cached\' (on-the-fly mode encodes one dataset)');
  if (c.mode !== 'cached' && c.mode !== 'on-the-fly') throw new Error(`config: mode must be 'cached' or 'on-the-fly', got ${JSON.stringify(c.mode)}`);
  if (c.sam2.dtype !== 'f32' && c.sam2.dtype !== 'f16') throw new Error(`config: sam2.dtype must be 'f32' or 'f16', got ${JSON.stringify(c.sam2.dtype)}`);
  if (!c.loss.useDice && !c.loss.useDist && !c.loss.useOut) throw new Error('config: every loss term is switched off (loss.useDice, loss.useDist, loss.useOut)');
  if (!c.out) throw new Error('config: out (the output directory) is empty');
}

/** Defaults ← file contents ← overrides, validated. */
export function resolveTrainConfig(file: unknown = {}, overrides: readonly string[] = []): TrainConfig {
  let c = merge(DEFAULT_TRAIN_CONFIG, file, '') as TrainConfig;
  for (const o of overrides) c = merge(c, parseOverride(o), '') as TrainConfig;
  validateTrainConfig(c);
  return c;
}

/** The shift block config for a SAM 2 of width `dim` and grid g×g. */
export function shiftBlockConfigFor(spec: TrainConfig['shiftBlock'], dim: number, grid: number, head: ShiftHead = 'linear', refineSteps = 1): ShiftBlockConfig {
  const base: ShiftBlockConfig = {
    dModel: dim,
    heads: 8,
    ffn: 2048,
    layers: 6,
    tokens: 2,
    imageTokens: grid * grid,
    scaleInit: 0.1,
    ...(head === 'pointer' ? { head } : {}),
    ...(refineSteps !== 1 ? { refineSteps } : {}),
  };
  if (spec === 'paper') return base;
  if (spec === 'tiny') return { ...base, ffn: 64 };
  return { ...base, ...spec };
}

/**
 * The freshly initialised shift block a training config asks for, on a SAM 2 of width `dim` and
 * grid g×g: sizes from `shiftBlock`, draws from `initSeed`, the identity start from `zeroInitHead`,
 * the tied cross-attention from `tieCrossAttention`; with `positionInit: 'sam2'` the image-token
 * positions are `positions` (token-major, {@link sam2TokenPositions}), which must then be given.
 */
export function newShiftBlockFor(
  c: Pick<TrainConfig, 'shiftBlock' | 'initSeed' | 'zeroInitHead'> & Partial<Pick<TrainConfig, 'positionInit' | 'tieCrossAttention' | 'shiftHead' | 'refineSteps'>>,
  dim: number,
  grid: number,
  positions?: Float32Array,
): ShiftBlock {
  if (c.positionInit === 'sam2' && !positions) throw new Error("newShiftBlockFor: positionInit 'sam2' needs SAM 2's token positions (sam2TokenPositions(model))");
  return new ShiftBlock(shiftBlockConfigFor(c.shiftBlock, dim, grid, c.shiftHead, c.refineSteps)).init(c.initSeed, {
    zeroHead: c.zeroInitHead,
    positions: c.positionInit === 'sam2' ? positions : undefined,
    tieCrossAttention: c.tieCrossAttention ?? 0,
  });
}

/** SAM 2's dense positional encoding of its image tokens, token-major [g·g·d] (the shift block's `i_pos` layout). */
export async function sam2TokenPositions(model: Sam2Model): Promise<Float32Array> {
  const pe = model.promptEncoder.denseEncoding(); // [1, d, g, g]
  const [, d, h, w] = pe.shape;
  const src = await pe.data();
  const out = new Float32Array(d * h * w);
  for (let c = 0; c < d; c++) for (let t = 0; t < h * w; t++) out[t * d + c] = src[c * h * w + t];
  return out;
}

/** {@link newShiftBlockFor} on a SAM 2 model (its width, grid and — when asked for — token positions). */
export async function newShiftBlockForModel(c: Parameters<typeof newShiftBlockFor>[0], model: Sam2Model): Promise<ShiftBlock> {
  return newShiftBlockFor(c, model.dim, model.gridSize, c.positionInit === 'sam2' ? await sam2TokenPositions(model) : undefined);
}
