/**
 * Opening a shift-block checkpoint from bytes (a File the user picked), for the browser.
 *
 * `openCheckpoint` in @rpsam2/rpsam2 takes a Node path only (it resolves run directories and
 * reads through node:fs). This is the byte-source counterpart built from rpsam2's exported
 * pieces: a training checkpoint (`format: rpsam2-checkpoint` metadata, config in `meta`) or a
 * plain shift-block safetensors file (config inferred from the shapes by
 * `inferShiftBlockConfig`). The tensor key prefix is read off the file (the key that ends in
 * `p_pos`), not assumed. Remove this once rpsam2 exports a ByteSource entry for `openCheckpoint`.
 */
import { SafetensorsFile, type ByteSource } from '@rpsam2/tensor';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, inferShiftBlockConfig, type CheckpointMeta, type OpenedCheckpoint } from '@rpsam2/rpsam2';

/** Thrown when a file is not a shift-block checkpoint this build can read. */
export class ShiftBlockFileError extends Error {
  constructor(label: string, why: string) {
    super(`${label}: ${why}`);
    this.name = 'ShiftBlockFileError';
  }
}

/** Opens a checkpoint or plain shift-block file from bytes; `heads` for plain files (default 8). */
export async function openShiftBlockSource(source: ByteSource, options: { heads?: number } = {}): Promise<OpenedCheckpoint> {
  const label = source.label ?? 'shift block';
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(source);
  } catch (e) {
    throw new ShiftBlockFileError(label, `not a safetensors file (${(e as Error).message}); a shift block is a training checkpoint (best.safetensors / last.safetensors) or a plain shift-block .safetensors`);
  }
  const posKey = file.keys().find((k) => k === 'p_pos' || k.endsWith('.p_pos'));
  if (!posKey) throw new ShiftBlockFileError(label, "holds no shift block (no 'p_pos' tensor); is this a SAM 2 file?");
  const prefix = posKey.slice(0, posKey.length - 'p_pos'.length);
  if (file.metadata.format === CHECKPOINT_FORMAT) {
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(file.metadata.meta);
    } catch (e) {
      throw new ShiftBlockFileError(label, `checkpoint metadata is not valid JSON (${(e as Error).message})`);
    }
    if (meta.version !== CHECKPOINT_VERSION) throw new ShiftBlockFileError(label, `checkpoint version ${meta.version}, this build reads version ${CHECKPOINT_VERSION}`);
    return { path: label, file, meta, shiftBlock: meta.shiftBlock, prefix };
  }
  return { path: label, file, meta: null, shiftBlock: inferShiftBlockConfig(file, prefix, options.heads), prefix };
}
