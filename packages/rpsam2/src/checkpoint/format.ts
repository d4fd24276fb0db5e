/**
 * The checkpoint format: one safetensors file with the shift block's weights
 * (`shift_block.<param>`), the optimizer's state (`optimizer.state.<i>.exp_avg`, …, from
 * `Optimizer.stateDict`) and, in `__metadata__` (`format`, `version`, `meta` = JSON of
 * {@link CheckpointMeta}), the shift block config, the training state, the optimizer's scalars
 * and the training config. Plain shift-block files (parameter names without the prefix) are
 * read too. Only definitions here, shared by the byte reader (`checkpoint-source.ts`, any
 * platform) and the Node file side (`checkpoint.ts`).
 */
import type { SafetensorsFile } from '@rpsam2/tensor';
import type { ShiftBlockConfig } from '../shift-block/shift-block.js';

/** `__metadata__.format` of a training checkpoint. */
export const CHECKPOINT_FORMAT = 'rpsam2-checkpoint';
/** The checkpoint version this build writes and reads. */
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

/** An opened checkpoint (or plain shift-block file). */
export interface OpenedCheckpoint {
  /** The file's path (Node), or the byte source's label: what error messages name. */
  path: string;
  file: SafetensorsFile;
  /** Null for a plain shift-block file. */
  meta: CheckpointMeta | null;
  /** The shift block's config (from the metadata, or inferred from the shapes). */
  shiftBlock: ShiftBlockConfig;
  /**
   * Key prefix of the shift block's tensors: {@link SHIFT_PREFIX} in a checkpoint; in a plain
   * file '' or the prefix its `p_pos` tensor carries (e.g. a whole-model export's `shift_block.`).
   */
  prefix: string;
}
