/**
 * Reading a checkpoint from bytes, on any platform: a training checkpoint or a plain
 * shift-block safetensors file from a ByteSource (`bytesSource`, `blobSource` for a File the
 * user picked, or `fileSource` in Node), the shift block it holds, and the optimizer state to
 * resume from. Nothing here imports Node modules, so browsers bundle it as is; paths and run
 * directories are `openCheckpoint` (checkpoint.ts), which resolves them and then comes here.
 */
import { SafetensorsFile, type ByteSource, type Optimizer } from '@rpsam2/tensor';
import { loadWeights, type WeightSource } from '@rpsam2/sam2';
import { MAX_REFINE_STEPS, ShiftBlock, refineStepsOf, type ShiftBlockConfig } from '../shift-block/shift-block.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, OPTIM_PREFIX, SHIFT_PREFIX, type CheckpointMeta, type OpenedCheckpoint } from './format.js';

/**
 * A file that is not a checkpoint or shift-block file this build can read (not safetensors,
 * no shift block in it, bad or unknown checkpoint metadata). The message starts with the
 * file's label; callers can tell "wrong file" from other failures by the class.
 */
export class CheckpointFileError extends Error {
  constructor(
    /** The path or byte-source label of the file. */
    readonly label: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${label}: ${detail}`, options);
    this.name = 'CheckpointFileError';
  }
}

/** Options of {@link openCheckpointSource}. */
export interface OpenCheckpointSourceOptions {
  /** Heads of a plain shift-block file when its metadata has no `heads` (not in the shapes; default 8). */
  heads?: number;
  /** The name errors and `OpenedCheckpoint.path` use; default the source's label. */
  label?: string;
}

/**
 * The shift block config of a plain weights file from its shapes: d and T from `p_pos`
 * [1, T, d], image tokens from `i_pos`, FFN width from `layers.0.linear1.weight`, the layer
 * count from the keys. The head count is not in the shapes: metadata `heads`, else `heads`
 * (default 8). Throws a {@link CheckpointFileError} naming the first missing tensor.
 */
export function inferShiftBlockConfig(source: WeightSource & { metadata?: Record<string, string> }, prefix = '', heads = 8): ShiftBlockConfig {
  const keys = source.keys();
  const need = (k: string) => {
    if (!keys.includes(prefix + k)) throw new CheckpointFileError(source.label, `not a shift block file (no '${prefix + k}')`);
    return source.entry(prefix + k).shape;
  };
  const pPos = need('p_pos');
  const iPos = need('i_pos');
  const ffn = need('layers.0.linear1.weight')[0];
  let layers = 0;
  const layerKey = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}layers\\.(\\d+)\\.`);
  for (const k of keys) {
    const m = layerKey.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  const h = Number(source.metadata?.heads ?? heads);
  const config: ShiftBlockConfig = { dModel: pPos[2], tokens: pPos[1], imageTokens: iPos[1], ffn, layers, heads: h, scaleInit: 0.1 };
  if (keys.includes(prefix + 'pointer_q.weight')) config.head = 'pointer';
  // Inference steps are not in the shapes either: metadata `refineSteps` (absent: 1).
  const steps = source.metadata?.refineSteps;
  if (steps !== undefined) {
    const n = Number(steps);
    try {
      if (n !== 1) config.refineSteps = refineStepsOf({ refineSteps: n });
    } catch {
      throw new CheckpointFileError(source.label, `metadata refineSteps must be an integer in 1…${MAX_REFINE_STEPS}, got ${JSON.stringify(steps)}`);
    }
  }
  return config;
}

/**
 * Opens a training checkpoint (`format: rpsam2-checkpoint` metadata: config, training and
 * optimizer state) or a plain shift-block safetensors file (config inferred by
 * {@link inferShiftBlockConfig}; its tensors top-level or under one prefix) from bytes. Only the
 * header is read here; the weights are read by {@link loadShiftBlockFrom}. Throws a
 * {@link CheckpointFileError} naming the label for a file that is not one of those.
 */
export async function openCheckpointSource(source: ByteSource, options: OpenCheckpointSourceOptions = {}): Promise<OpenedCheckpoint> {
  const label = options.label ?? source.label ?? 'shift block checkpoint';
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(source, label);
  } catch (e) {
    // SafetensorsFile's messages already start with the label: keep them as they are.
    const msg = (e as Error).message ?? String(e);
    const detail = msg.startsWith(`${label}: `) ? msg.slice(label.length + 2) : msg;
    throw new CheckpointFileError(label, `${detail} (expected a training checkpoint or a plain shift-block .safetensors)`, { cause: e });
  }
  if (file.metadata.format === CHECKPOINT_FORMAT) {
    const meta = parseMeta(file.metadata.meta, label);
    if (!file.keys().includes(SHIFT_PREFIX + 'p_pos')) throw new CheckpointFileError(label, `checkpoint holds no shift block (no '${SHIFT_PREFIX}p_pos' tensor)`);
    return { path: label, file, meta, shiftBlock: meta.shiftBlock, prefix: SHIFT_PREFIX };
  }
  const prefix = plainPrefix(file, label);
  return { path: label, file, meta: null, shiftBlock: inferShiftBlockConfig(file, prefix, options.heads), prefix };
}

const CONFIG_FIELDS = ['dModel', 'heads', 'ffn', 'layers', 'tokens', 'imageTokens', 'scaleInit'] as const;

/** The checkpoint metadata, checked for what reading it relies on (version, shift block config). */
function parseMeta(json: string | undefined, label: string): CheckpointMeta {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(json ?? '');
  } catch (e) {
    throw new CheckpointFileError(label, `checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new CheckpointFileError(label, `checkpoint metadata is not a JSON object (got ${JSON.stringify(meta)})`);
  if (meta.version !== CHECKPOINT_VERSION) throw new CheckpointFileError(label, `checkpoint version ${meta.version}, this build reads version ${CHECKPOINT_VERSION}`);
  const sb = meta.shiftBlock as unknown as Record<string, unknown> | undefined;
  const bad = CONFIG_FIELDS.filter((k) => typeof sb?.[k] !== 'number' || !Number.isFinite(sb[k]));
  if (bad.length) throw new CheckpointFileError(label, `checkpoint metadata's shiftBlock config has no valid ${bad.join(', ')} (got ${JSON.stringify(sb)})`);
  return meta;
}

/**
 * The key prefix of a plain file's shift block: '' when `p_pos` is top-level, else the prefix
 * of the one key ending in `.p_pos` (a whole-model export).
 */
function plainPrefix(file: SafetensorsFile, label: string): string {
  const keys = file.keys();
  if (keys.includes('p_pos')) return '';
  const found = keys.filter((k) => k.endsWith('.p_pos'));
  if (found.length === 1) return found[0].slice(0, -'p_pos'.length);
  if (found.length > 1) throw new CheckpointFileError(label, `holds ${found.length} shift blocks (${found.map((k) => `'${k}'`).join(', ')}); save the one to use on its own`);
  // The first clause is the message of a missing tensor (inferShiftBlockConfig's), then why.
  const first = keys.length ? `; first: '${keys[0]}'` : '';
  throw new CheckpointFileError(label, `not a shift block file (no 'p_pos'): it has no 'p_pos' tensor, top-level or prefixed, among its ${keys.length} tensors${first} (a SAM 2 checkpoint?)`);
}

/** A shift block with the checkpoint's weights (frozen unless `trainable`). */
export async function loadShiftBlockFrom(ck: OpenedCheckpoint, options: { trainable?: boolean } = {}): Promise<ShiftBlock> {
  const block = new ShiftBlock(ck.shiftBlock);
  try {
    await loadWeights(block, ck.file, { prefix: ck.prefix });
  } catch (e) {
    block.dispose();
    throw e;
  }
  if (options.trainable) block.setTrainable(true);
  return block;
}

/** Restores an optimizer's state from a checkpoint (throws when the file has none). */
export async function restoreOptimizer(optimizer: Optimizer, ck: OpenedCheckpoint): Promise<void> {
  if (!ck.meta?.optimizer) throw new Error(`${ck.path}: holds no optimizer state (a weights-only file); cannot resume from it`);
  if (ck.meta.optimizer.name !== optimizer.name) throw new Error(`${ck.path}: optimizer state of ${ck.meta.optimizer.name}, this run uses ${optimizer.name}`);
  const tensors: Record<string, Float32Array> = {};
  for (const key of ck.file.keys()) if (key.startsWith(OPTIM_PREFIX)) tensors[key.slice(OPTIM_PREFIX.length)] = await ck.file.readF32(key);
  optimizer.loadStateDict({ tensors, scalars: ck.meta.optimizer.scalars });
}
