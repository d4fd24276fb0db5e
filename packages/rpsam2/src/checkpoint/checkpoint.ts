/**
 * Training checkpoints on the file system (Node): writing them, and opening one by path or run
 * directory. The format is defined in format.ts: one safetensors file with the shift block's
 * weights (`shift_block.<param>`), the optimizer's state and, in `__metadata__`, the shift block
 * config, the training state (epoch, step, RNG state, best validation Dice), the optimizer's
 * scalars and the training config; plus a JSON file beside it (`<name>.json`) with the same
 * metadata in readable form. The safetensors file is authoritative and self-contained: it is
 * written first (atomically), the JSON second, so an interruption between the two leaves a
 * complete checkpoint. Both files are written with the trainer skeleton's `writeFileAtomically`
 * (@rpsam2/sam2: parent folder created, temporary file renamed over the old one).
 *
 * Reading goes through the byte reader (checkpoint-source.ts: `openCheckpointSource`, which also
 * serves browsers), so a path and a File open the same way. Plain shift-block files (the
 * parameter names without prefix, as the fixture's `shift_block.safetensors` or a PyTorch
 * export) load too: their config is read from the shapes. Node modules are reached only through
 * node-io.ts, and only from the functions here that take paths.
 */
import { saveTensors, type Optimizer, type Tensor } from '@rpsam2/tensor';
import { writeFileAtomically } from '@rpsam2/sam2';
import type { ShiftBlock } from '../shift-block/shift-block.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, OPTIM_PREFIX, SHIFT_PREFIX, type CheckpointMeta, type OpenedCheckpoint, type TrainState } from './format.js';
import { openCheckpointSource } from './checkpoint-source.js';
import { fileByteSource, exists, joinPath, nodeFs } from './node-io.js';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, OPTIM_PREFIX, SHIFT_PREFIX, type CheckpointMeta, type OpenedCheckpoint, type TrainState } from './format.js';
export {
  CheckpointFileError,
  inferShiftBlockConfig,
  loadShiftBlockFrom,
  openCheckpointSource,
  restoreOptimizer,
  type OpenCheckpointSourceOptions,
} from './checkpoint-source.js';

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
    await writeFileAtomically(path, bytes);
    await writeFileAtomically(checkpointJsonPath(path), JSON.stringify(meta, null, 2) + '\n');
    return meta;
  } finally {
    if (sd) for (const t of Object.values(sd.tensors)) t.dispose();
  }
}

/**
 * Opens a checkpoint file, or a directory holding `best.safetensors` / `last.safetensors` (or
 * `checkpoints/…`; `prefer` picks which first, default best) or an exported block's
 * `weights.safetensors`, by path (Node only). The file is
 * then read as {@link openCheckpointSource} reads bytes; errors name the path.
 */
export async function openCheckpoint(pathOrDir: string, options: { prefer?: 'best' | 'last'; heads?: number } = {}): Promise<OpenedCheckpoint> {
  const path = await resolveCheckpointPath(pathOrDir, options.prefer ?? 'best');
  return openCheckpointSource(await fileByteSource(path), { heads: options.heads, label: path });
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
  // An exported block's folder (e.g. the shipped packages/rpsam2/models/synthetic).
  const exported = joinPath(p, 'weights.safetensors');
  if (await exists(exported)) return exported;
  throw new Error(`shift block checkpoint ${p}: a directory without best.safetensors or last.safetensors (nor in checkpoints/) or an exported weights.safetensors`);
}
