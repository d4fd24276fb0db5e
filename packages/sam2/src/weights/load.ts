/**
 * Building a ready-to-use SAM 2 image model from weights: open (`.pt` or safetensors, sniffed),
 * find the key prefix, pick the config (given, by size name, or inferred from the trunk's
 * shapes; the mask decoder, SAM 2's or HQ-SAM2's, from the keys), check every key and shape before reading any data, load (f32 or f16), prepare.
 */
import { getBackend } from '@rpsam2/tensor';
import { presetConfig, type Sam2Config } from '../config.js';
import { loadWeights, type WeightSource } from './load-weights.js';
import { Sam2Model, isVideoOnlyKey } from '../model/sam2-model.js';
import { detectPrefix, hasHqDecoder, inferSize, openWeights, type WeightsInput } from './source.js';
import { initRandomWeights } from './random.js';

/** Storage type of the weights on the GPU (compute is always f32). */
export type WeightDType = 'f32' | 'f16';

/** Random weights instead of a file (benchmarks, memory measurements, shape tests). */
export interface RandomWeightsSpec {
  random: { seed?: number; std?: number };
}

/** What {@link loadSam2} loads: the configuration (or size), the weights and how to store them. */
export interface LoadSam2Options {
  /** The model configuration; or give `size`; or leave both out to infer an official size from the weights. */
  config?: Sam2Config;
  /** An official size: 't', 's', 'b+', 'l' (or 'tiny', 'small', 'base_plus', 'large'). */
  size?: string;
  /** A path (Node), a ByteSource (sniffed: `.pt` zip or safetensors), an open WeightSource, or `{ random: {...} }`. */
  weights: WeightsInput | RandomWeightsSpec;
  /**
   * 'f16' keeps the Linear/Conv weights (≈99.9% of the parameters) as f16 on the GPU: half the
   * weight memory, outputs within f16 rounding of f32 (tiny256 fixture: ≤ 7.8e-4 of scale).
   * Works on every adapter (the f16↔f32 conversion uses integer bit operations, not the
   * shader-f16 feature). Gradients w.r.t. inputs (clicks, embeddings) still flow; f16 weights
   * themselves cannot require grad (fine-tuning needs f32). Default 'f32'.
   */
  dtype?: WeightDType;
  /** When false, keys that are neither model nor known video-path keys are reported, not an error. Default true. */
  strict?: boolean;
  /** Progress per loaded tensor. */
  onProgress?: (done: number, total: number, key: string) => void;
}

/** What `loadSam2` did. */
export interface Sam2LoadReport {
  /** Path or label of the weights ('random' for random weights). */
  source: string;
  format: 'pt' | 'safetensors' | 'reader' | 'random';
  /** Prefix in front of the model keys in the file ('' for official checkpoints). */
  prefix: string;
  /** Config name and where it came from. */
  config: string;
  /** The mask decoder: SAM 2's, or HQ-SAM2's (from the config or the checkpoint's keys). */
  maskDecoder: Sam2Config['maskDecoder'];
  configFrom: 'given' | 'size' | 'inferred';
  dtype: WeightDType;
  /** Tensors loaded. */
  loaded: number;
  /** Parameter elements of the model. */
  parameters: number;
  /** Parameter elements stored as f16. */
  f16Parameters: number;
  /** GPU bytes of the loaded weights (before pool rounding). */
  weightBytes: number;
  /** Keys of the video path (memory attention/encoder, object pointers, …): recognised, not loaded. */
  skippedVideoKeys: string[];
  /** Keys neither of the model nor of the video path (only with `strict: false`). */
  unexpected: string[];
  /** Wall time of the load in ms. */
  ms: number;
}

/** The weights do not fit the model; lists every offending key. */
export class Sam2WeightsError extends Error {
  constructor(
    readonly source: string,
    /** Model keys (with prefix) that the file lacks. */
    readonly missing: string[],
    /** File keys that are neither model nor video-path keys. */
    readonly unexpected: string[],
    /** `key: file has [..], model expects [..]` lines. */
    readonly mismatched: string[],
    hint = '',
  ) {
    const show = (l: string[]) => l.slice(0, 25).join('\n    ') + (l.length > 25 ? `\n    … and ${l.length - 25} more` : '');
    const parts: string[] = [];
    if (missing.length) parts.push(`  missing keys (${missing.length}):\n    ${show(missing)}`);
    if (mismatched.length) parts.push(`  shape mismatches (${mismatched.length}):\n    ${show(mismatched)}`);
    if (unexpected.length) parts.push(`  unexpected keys (${unexpected.length}):\n    ${show(unexpected)}`);
    super(`${source}: weights do not match the SAM 2 model${hint}\n${parts.join('\n')}`);
    this.name = 'Sam2WeightsError';
  }
}

/** Compares a weight source's keys and shapes with the model's; reads no tensor data. */
export function checkWeights(
  model: Sam2Model,
  source: WeightSource,
  prefix: string,
): { missing: string[]; unexpected: string[]; mismatched: string[]; video: string[] } {
  const have = new Set(source.keys());
  const missing: string[] = [];
  const mismatched: string[] = [];
  const known = new Set<string>();
  for (const [name, slot] of model.namedParams()) {
    const key = prefix + name;
    known.add(key);
    if (!have.has(key)) {
      missing.push(key);
      continue;
    }
    const shape = source.entry(key).shape;
    if (shape.length !== slot.shape.length || shape.some((d, i) => d !== slot.shape[i])) {
      mismatched.push(`${key}: file has [${shape.join(', ')}], model expects [${slot.shape.join(', ')}]`);
    }
  }
  const unexpected: string[] = [];
  const video: string[] = [];
  for (const key of source.keys()) {
    if (known.has(key)) continue;
    if (key.startsWith(prefix) && isVideoOnlyKey(key.slice(prefix.length))) video.push(key);
    else unexpected.push(key);
  }
  return { missing, unexpected, mismatched, video };
}

function resolveConfig(options: LoadSam2Options, source: WeightSource | null, prefix: string): { cfg: Sam2Config; from: Sam2LoadReport['configFrom'] } {
  const r = resolveArchitecture(options, source, prefix);
  // The HQ decoder's keys decide the decoder: HQ-SAM2 checkpoints are often paired with SAM 2's
  // own yaml or a size name, which say nothing about it.
  if (source && hasHqDecoder(source, prefix) && r.cfg.maskDecoder !== 'hq') {
    const name = r.from === 'given' ? r.cfg.name : r.cfg.name.replace(/^sam2(\.1)?_hiera/, (m) => m.replace('hiera', 'hq_hiera'));
    return { cfg: { ...r.cfg, maskDecoder: 'hq', name }, from: r.from };
  }
  return r;
}

function resolveArchitecture(options: LoadSam2Options, source: WeightSource | null, prefix: string): { cfg: Sam2Config; from: Sam2LoadReport['configFrom'] } {
  if (options.config) return { cfg: options.config, from: 'given' };
  if (options.size) return { cfg: presetConfig(options.size), from: 'size' };
  const inferred = source ? inferSize(source, prefix) : null;
  if (!inferred) {
    throw new Error(
      `SAM 2: give a config or a size (t, s, b+, l)${source ? `: ${source.label} does not match an official size by its trunk shapes` : ' for random weights'}`,
    );
  }
  return { cfg: presetConfig(inferred), from: 'inferred' };
}

/**
 * Builds a SAM 2 image model and loads its weights. Every key and shape is checked before any
 * tensor is read: a mismatch throws a {@link Sam2WeightsError} naming the missing, unexpected
 * and mismatched keys. The video path's keys of official checkpoints are recognised and skipped.
 * The returned model is ready for `new Sam2ImagePredictor(model)`; dispose it when done.
 */
export async function loadSam2(options: LoadSam2Options): Promise<{ model: Sam2Model; report: Sam2LoadReport }> {
  const t0 = performance.now();
  const dtype = options.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new TypeError(`loadSam2: dtype must be 'f32' or 'f16', got ${JSON.stringify(dtype)}`);
  const w = options.weights as WeightsInput | RandomWeightsSpec;
  const random = typeof w === 'object' && w !== null && 'random' in w ? (w as RandomWeightsSpec).random : null;

  let source: WeightSource | null = null;
  let format: Sam2LoadReport['format'] = 'random';
  let label = 'random';
  let prefix = '';
  if (!random) {
    const opened = await openWeights(w as WeightsInput);
    source = opened.source;
    format = opened.format;
    label = opened.label;
    prefix = detectPrefix(source.keys()) ?? '';
  }
  const { cfg, from } = resolveConfig(options, source, prefix);
  const model = new Sam2Model(cfg);
  let skipped: string[] = [];
  let unexpected: string[] = [];
  let loaded = 0;
  try {
    if (random) {
      initRandomWeights(model, { seed: random.seed, std: random.std, dtype });
      loaded = model.namedParams().length;
    } else {
      const check = checkWeights(model, source!, prefix);
      const strict = options.strict ?? true;
      if (check.missing.length || check.mismatched.length || (strict && check.unexpected.length)) {
        const guess = inferSize(source!, prefix);
        const hint = guess && guess !== options.size && from !== 'inferred' ? ` (config '${cfg.name}'; the file looks like size '${guess}')` : ` (config '${cfg.name}')`;
        throw new Sam2WeightsError(label, check.missing, strict ? check.unexpected : [], check.mismatched, hint);
      }
      skipped = check.video;
      unexpected = check.unexpected;
      const ignore = new Set([...skipped, ...unexpected].map((k) => k.slice(prefix.length)));
      const r = await loadWeights(model, source!, { prefix, dtype, ignore: (k) => ignore.has(k), onProgress: options.onProgress });
      loaded = r.loaded;
    }
    await model.promptEncoder.prepare();
  } catch (e) {
    model.dispose();
    throw e;
  }
  let parameters = 0;
  let f16Parameters = 0;
  let weightBytes = 0;
  for (const [, slot] of model.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    const half = slot.value?.dtype === 'f16';
    if (half) f16Parameters += n;
    weightBytes += n * (half ? 2 : 4);
  }
  // Settle the uploads so `ms` covers them.
  await getBackend().sync();
  return {
    model,
    report: {
      source: label,
      format,
      prefix,
      config: cfg.name,
      maskDecoder: cfg.maskDecoder,
      configFrom: from,
      dtype,
      loaded,
      parameters,
      f16Parameters,
      weightBytes,
      skippedVideoKeys: skipped,
      unexpected,
      ms: performance.now() - t0,
    },
  };
}
