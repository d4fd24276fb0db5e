/**
 * Modules: a tree of named parameters, mirroring PyTorch's state-dict names so official
 * checkpoints load by key. A parameter slot knows its expected shape; weights are loaded from any
 * {@link WeightSource} (safetensors or a `.pt` checkpoint) and checked by name and shape.
 */
import { cast, Tensor, tensor, type DType } from '@rpsam2/tensor';

/** A readable set of named tensors (SafetensorsFile and TorchCheckpoint both fit). */
export interface WeightSource {
  keys(): string[];
  entry(name: string): { shape: number[]; dtype: string };
  readF32(name: string): Promise<Float32Array>;
  readonly label: string;
}

/** One parameter: its full shape and, once loaded or initialised, its tensor. */
export class ParamSlot {
  value: Tensor | null = null;
  /**
   * @param halfOk whether the owning layer widens an f16 value itself on use (via
   *   {@link ParamSlot.f32}); only such slots are stored as f16 when weights load with
   *   `dtype: 'f16'`, every other slot stays f32.
   */
  constructor(
    readonly shape: readonly number[],
    readonly halfOk = false,
  ) {}

  /** The loaded tensor (f16 for an f16-stored slot); throws naming the parameter if weights were never loaded. */
  get(name = 'parameter'): Tensor {
    if (!this.value) throw new Error(`${name} ${JSON.stringify(this.shape)} has no value: load weights first`);
    return this.value;
  }

  /**
   * The value as f32: the stored tensor itself, or for an f16-stored slot a widened copy that
   * the caller gives back with {@link ParamSlot.release} right after the op that reads it.
   */
  f32(): Tensor {
    const v = this.get();
    return v.dtype === 'f32' ? v : cast(v, 'f32');
  }

  /**
   * Frees a copy made by {@link ParamSlot.f32} (no-op for the stored tensor). Safe right after
   * the op is recorded: kernels are ordered on the queue and autograd keeps its own reference
   * to the tensors it saves.
   */
  release(t: Tensor): void {
    if (t !== this.value) t.dispose();
  }
}

export abstract class Module {
  private readonly slots = new Map<string, ParamSlot>();
  private readonly children = new Map<string, Module>();

  /**
   * Registers a parameter under `name` (a state-dict key segment). `halfOk`: the module reads
   * it through {@link ParamSlot.f32}, so it may be stored as f16.
   */
  protected param(name: string, shape: readonly number[], halfOk = false): ParamSlot {
    const slot = new ParamSlot(shape, halfOk);
    this.slots.set(name, slot);
    return slot;
  }

  /** Registers a child module (its parameters get `name.` as prefix). */
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Registers children `name.0`, `name.1`, … (a PyTorch ModuleList). */
  protected list<M extends Module>(name: string, ms: M[]): M[] {
    ms.forEach((m, i) => this.children.set(`${name}.${i}`, m));
    return ms;
  }

  /** Every parameter with its full dotted name, in registration order. */
  namedParams(prefix = ''): [string, ParamSlot][] {
    const out: [string, ParamSlot][] = [];
    for (const [n, s] of this.slots) out.push([prefix + n, s]);
    for (const [n, c] of this.children) out.push(...c.namedParams(`${prefix}${n}.`));
    return out;
  }

  /** Number of parameter elements. */
  paramCount(): number {
    return this.namedParams().reduce((n, [, s]) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Frees every loaded parameter (and whatever subclasses hold, via their own dispose). */
  dispose(): void {
    for (const s of this.slots.values()) {
      s.value?.dispose();
      s.value = null;
    }
    for (const c of this.children.values()) c.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Result of {@link loadWeights}. */
export interface LoadReport {
  loaded: number;
  /** Source keys under the prefix that the module does not have (and that are not ignored). */
  unexpected: string[];
  /** Source keys that were recognised as not used (e.g. the video path's memory modules). */
  ignored: string[];
}

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
