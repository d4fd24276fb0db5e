/**
 * Training checkpoints: one safetensors file with the shift block's weights
 * (`shift_block.<param>`), the optimizer's state (`optimizer.state.<i>.exp_avg`, …, from
 * `Optimizer.stateDict`) and, in `__metadata__`, the shift block config, the training state
 * (epoch, step, RNG state, best validation Dice), the optimizer's scalars (step counts,
 * hyperparameters) and the training config; plus a JSON file beside it (`<name>.json`) with the
 * same metadata in readable form. The safetensors file is authoritative and self-contained: it is
 * written first (atomically), the JSON second, so an interruption between the two leaves a
 * complete checkpoint.
 *
 * Plain shift-block files (the parameter names without prefix, as the fixture's
 * `shift_block.safetensors` or a PyTorch export) load too: their config is read from the shapes.
 */
import { SafetensorsFile, saveTensors, type Optimizer, type Tensor } from '@rpsam2/tensor';
import { loadWeights, type WeightSource } from '@rpsam2/sam2';
import { ShiftBlock, type ShiftBlockConfig } from '../shift-block/shift-block.js';
import { fileByteSource, exists, joinPath, nodeFs, writeAtomic } from './node-io.js';

export const CHECKPOINT_FORMAT = 'rpsam2-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** Prefix of the shift block's tensors in a checkpoint. */
export const SHIFT_PREFIX = 'shift_block.';
/** Prefix of the optimizer's tensors in a checkpoint. */
export const OPTIM_PREFIX = 'optimizer.';

/** Where training stands (enough to continue exactly). */
export interface TrainState {
  /** Epoch in progress (0-based); equals the epoch count when training finished. */
  epoch: number;
  /** Steps of that epoch already done. */
  stepInEpoch: number;
  /** Optimizer steps since the start. */
  globalStep: number;
  /** The training RNG's state after the last step. */
  rngState: number;
  /** Best validation Dice so far and its epoch (null before the first validation). */
  bestValDice: number | null;
  bestEpoch: number | null;
}

/** The metadata of a checkpoint (also the JSON beside it). */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** 'last' or 'best' (or another label). */
  kind: string;
  shiftBlock: ShiftBlockConfig;
  /** Trainable elements of the shift block. */
  parameters: number;
  state: TrainState;
  /** Optimizer class name and scalars (step counts, lr, betas, …); absent in weights-only files. */
  optimizer: { name: string; scalars: Record<string, number> } | null;
  /** The training config the run used (opaque here). */
  config: unknown;
  /** Validation metrics at this point, if any. */
  metrics?: Record<string, number | null>;
  savedAt: string;
}

/** The JSON path beside a checkpoint file. */
export function checkpointJsonPath(path: string): string {
  return path.replace(/\.safetensors$/i, '') + '.json';
}

/**
 * Writes a checkpoint (see the module comment). Tensors are read back from the GPU one at a
 * time; both files are replaced atomically.
 */
export async function saveCheckpoint(
  path: string,
  parts: { block: ShiftBlock; optimizer?: Optimizer | null; state: TrainState; config: unknown; kind?: string; metrics?: Record<string, number | null> },
): Promise<CheckpointMeta> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, slot] of parts.block.namedParams()) tensors[SHIFT_PREFIX + name] = slot.get(name);
  const sd = parts.optimizer ? parts.optimizer.stateDict() : null;
  try {
    if (sd) for (const [k, t] of Object.entries(sd.tensors)) tensors[OPTIM_PREFIX + k] = t;
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      kind: parts.kind ?? 'last',
      shiftBlock: { ...parts.block.config },
      parameters: parts.block.paramCount(),
      state: { ...parts.state },
      optimizer: sd && parts.optimizer ? { name: parts.optimizer.name, scalars: sd.scalars } : null,
      config: parts.config,
      metrics: parts.metrics,
      savedAt: new Date().toISOString(),
    };
    const bytes = await saveTensors(tensors, {
      format: CHECKPOINT_FORMAT,
      version: String(CHECKPOINT_VERSION),
      meta: JSON.stringify(meta),
    });
    const fs = await nodeFs();
    await fs.mkdir(path.replace(/[/\\][^/\\]*$/, '') || '.', { recursive: true });
    await writeAtomic(path, bytes);
    await writeAtomic(checkpointJsonPath(path), JSON.stringify(meta, null, 2) + '\n');
    return meta;
  } finally {
    if (sd) for (const t of Object.values(sd.tensors)) t.dispose();
  }
}

/** An opened checkpoint (or plain shift-block file). */
export interface OpenedCheckpoint {
  path: string;
  file: SafetensorsFile;
  /** Null for a plain shift-block file. */
  meta: CheckpointMeta | null;
  /** The shift block's config (from the metadata, or inferred from the shapes). */
  shiftBlock: ShiftBlockConfig;
  /** '' for a plain shift-block file, else {@link SHIFT_PREFIX}. */
  prefix: string;
}

/**
 * The shift block config of a plain weights file from its shapes: d and T from `p_pos`
 * [1, T, d], image tokens from `i_pos`, FFN width from `layers.0.linear1.weight`, the layer
 * count from the keys. The head count is not in the shapes: metadata `heads`, else `heads`
 * (default 8).
 */
export function inferShiftBlockConfig(source: WeightSource & { metadata?: Record<string, string> }, prefix = '', heads = 8): ShiftBlockConfig {
  const need = (k: string) => {
    if (!source.keys().includes(prefix + k)) throw new Error(`${source.label}: not a shift block file (no '${prefix + k}')`);
    return source.entry(prefix + k).shape;
  };
  const pPos = need('p_pos');
  const iPos = need('i_pos');
  const ffn = need('layers.0.linear1.weight')[0];
  let layers = 0;
  for (const k of source.keys()) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}layers\\.(\\d+)\\.`).exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  const h = Number(source.metadata?.heads ?? heads);
  return { dModel: pPos[2], tokens: pPos[1], imageTokens: iPos[1], ffn, layers, heads: h, scaleInit: 0.1 };
}

/** Opens a checkpoint file, or a directory holding `best.safetensors` / `last.safetensors` (or `checkpoints/…`). */
export async function openCheckpoint(pathOrDir: string, options: { prefer?: 'best' | 'last'; heads?: number } = {}): Promise<OpenedCheckpoint> {
  const path = await resolveCheckpointPath(pathOrDir, options.prefer ?? 'best');
  const file = await SafetensorsFile.open(await fileByteSource(path));
  if (file.metadata.format === CHECKPOINT_FORMAT) {
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(file.metadata.meta);
    } catch (e) {
      throw new Error(`${path}: checkpoint metadata is not valid JSON (${(e as Error).message})`);
    }
    if (meta.version !== CHECKPOINT_VERSION) throw new Error(`${path}: checkpoint version ${meta.version}, this build reads version ${CHECKPOINT_VERSION}`);
    return { path, file, meta, shiftBlock: meta.shiftBlock, prefix: SHIFT_PREFIX };
  }
  return { path, file, meta: null, shiftBlock: inferShiftBlockConfig(file, '', options.heads), prefix: '' };
}

async function resolveCheckpointPath(p: string, prefer: 'best' | 'last'): Promise<string> {
  const fs = await nodeFs();
  let st;
  try {
    st = await fs.stat(p);
  } catch {
    throw new Error(`shift block checkpoint ${p}: no such file or directory`);
  }
  if (st.isFile()) return p;
  const order = prefer === 'best' ? ['best', 'last'] : ['last', 'best'];
  for (const dir of [p, joinPath(p, 'checkpoints')]) {
    for (const name of order) {
      const f = joinPath(dir, `${name}.safetensors`);
      if (await exists(f)) return f;
    }
  }
  throw new Error(`shift block checkpoint ${p}: a directory without best.safetensors or last.safetensors (nor in checkpoints/)`);
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
