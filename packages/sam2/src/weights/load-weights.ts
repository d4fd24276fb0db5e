/**
 * Loading a module's parameters from a set of named tensors (a state dict: safetensors or a `.pt`
 * checkpoint), by the PyTorch names {@link Module.namedParams} gives, checking every name and
 * shape before reading any data.
 */
import { tensor, type DType, type Module, type Tensor } from '@rpsam2/tensor';

/** A readable set of named tensors (SafetensorsFile and TorchCheckpoint both fit). */
export interface WeightSource {
  /** Names of all tensors in the source. */
  keys(): string[];
  /** The shape and dtype of tensor `name`. */
  entry(name: string): { shape: number[]; dtype: string };
  /** Reads tensor `name` as f32, row-major. */
  readF32(name: string): Promise<Float32Array>;
  /** A label for messages (usually the path). */
  readonly label: string;
}

/** Result of {@link loadWeights}. */
export interface LoadReport {
  loaded: number;
  /** Source keys under the prefix that the module does not have (and that are not ignored). */
  unexpected: string[];
  /** Source keys that were recognised as not used (e.g. the video path's memory modules). */
  ignored: string[];
}

/** Options of {@link loadWeights}: the key prefix, keys to skip, the storage dtype and a progress callback. */
export interface LoadOptions {
  /** Prefix of the module's keys in the source (e.g. "" or "model."). */
  prefix?: string;
  /** Keys (after the prefix) that are recognised but not loaded. */
  ignore?: (key: string) => boolean;
  /**
   * 'f16' stores the parameters of slots marked `halfOk` (the weights of Linear, Conv2d and
   * ConvTranspose2d layers: almost all parameters) as f16 on the GPU, halving their memory; the
   * layers widen them to f32 per op. Other parameters (norms, biases, embeddings, positional
   * tables) stay f32. Default 'f32'.
   */
  dtype?: DType;
  /** Called after each tensor (for progress output). */
  onProgress?: (done: number, total: number, key: string) => void;
}

/**
 * Loads every parameter of `module` from `source`, checking names and shapes before reading any
 * data; a missing key, a shape mismatch or an unexpected key is an error that names them all.
 * Nothing is changed when the check fails.
 */
export async function loadWeights(module: Module, source: WeightSource, options: LoadOptions = {}): Promise<LoadReport> {
  const prefix = options.prefix ?? '';
  const params = module.namedParams();
  const have = new Set(source.keys());
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, slot] of params) {
    const key = prefix + name;
    if (!have.has(key)) {
      missing.push(key);
      continue;
    }
    const shape = source.entry(key).shape;
    if (shape.length !== slot.shape.length || shape.some((d, i) => d !== slot.shape[i])) {
      mismatched.push(`${key}: file has [${shape}], model expects [${slot.shape}]`);
    }
  }
  const known = new Set(params.map(([n]) => prefix + n));
  const unexpected: string[] = [];
  const ignored: string[] = [];
  for (const key of source.keys()) {
    if (!key.startsWith(prefix) || known.has(key)) continue;
    if (options.ignore?.(key.slice(prefix.length))) ignored.push(key);
    else unexpected.push(key);
  }
  if (missing.length || mismatched.length || unexpected.length) {
    const parts: string[] = [];
    const show = (l: string[]) => l.slice(0, 20).join('\n    ') + (l.length > 20 ? `\n    … and ${l.length - 20} more` : '');
    if (missing.length) parts.push(`  missing keys (${missing.length}):\n    ${show(missing)}`);
    if (mismatched.length) parts.push(`  shape mismatches (${mismatched.length}):\n    ${show(mismatched)}`);
    if (unexpected.length) parts.push(`  unexpected keys (${unexpected.length}):\n    ${show(unexpected)}`);
    throw new Error(`${source.label}: weights do not match the model\n${parts.join('\n')}`);
  }
  const loaded: Tensor[] = [];
  try {
    let done = 0;
    for (const [name, slot] of params) {
      const key = prefix + name;
      const dtype: DType = options.dtype === 'f16' && slot.halfOk ? 'f16' : 'f32';
      const t = tensor(await source.readF32(key), slot.shape, { name: key, dtype });
      loaded.push(t);
      options.onProgress?.(++done, params.length, key);
    }
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
  params.forEach(([, slot], i) => {
    slot.value?.dispose();
    slot.value = loaded[i];
  });
  return { loaded: loaded.length, unexpected, ignored };
}
