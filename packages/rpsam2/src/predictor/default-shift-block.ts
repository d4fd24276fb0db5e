/**
 * The default shift block: trained by this project (`pnpm bench train-rpsam2`) for the embedded
 * default SAM 2 (`sam2.1-synthetic`) on synthetic surgical frames, shipped inside this package
 * under `models/synthetic/` (plain safetensors weights, its config, a model card). It fits that
 * SAM 2 only (its width and token grid); other SAM 2 weights need a block trained for them.
 *
 * Node: {@link defaultShiftBlockPaths} finds the files next to the installed package. Browsers:
 * fetch `@rpsam2/rpsam2/models/synthetic/weights.safetensors` (an `exports` entry) and pass the
 * bytes (`bytesSource`) as the `shiftBlock` of `RpSam2Predictor.load`.
 */
import { DEFAULT_MODEL_NAME, importNode, packagedPaths } from '@rpsam2/sam2';

/** Files of the default shift block, relative to the package root. */
export const DEFAULT_SHIFT_BLOCK_FILES = {
  weights: 'models/synthetic/weights.safetensors',
  config: 'models/synthetic/config.json',
  card: 'models/synthetic/MODEL_CARD.md',
} as const;

/** The SAM 2 the default shift block was trained for (the embedded default model). */
export const DEFAULT_SHIFT_BLOCK_SAM2 = DEFAULT_MODEL_NAME;

/** Absolute paths of the default shift block's files (Node). */
export interface DefaultShiftBlockPaths {
  dir: string;
  weights: string;
  config: string;
  card: string;
}

/** Thrown when the default shift block's files are missing (with the command that rebuilds them). */
export class DefaultShiftBlockMissingError extends Error {
  constructor(path: string) {
    super(`the default shift block is missing (${path}); reinstall @rpsam2/rpsam2 or retrain it with: pnpm bench train-rpsam2 --export packages/rpsam2/models/synthetic`);
    this.name = 'DefaultShiftBlockMissingError';
  }
}

/** Absolute paths of the default shift block's files (Node); they need not exist. */
export async function defaultShiftBlockPaths(): Promise<DefaultShiftBlockPaths> {
  return packagedPaths('@rpsam2/rpsam2', import.meta.url, 'models/synthetic', DEFAULT_SHIFT_BLOCK_FILES);
}

/** The default shift block's file paths (Node), its weights checked to exist. */
export async function defaultShiftBlockSpec(): Promise<DefaultShiftBlockPaths> {
  const fs = await importNode<typeof import('node:fs')>('node:fs');
  const p = await defaultShiftBlockPaths();
  if (!fs.existsSync(p.weights)) throw new DefaultShiftBlockMissingError(p.weights);
  return p;
}

/** The line CLIs print when they fall back to the default shift block. */
export function defaultShiftBlockNotice(card: string): string {
  return `no shift block given: using the default shift block trained by this project for '${DEFAULT_SHIFT_BLOCK_SAM2}' on synthetic surgical frames (what it is and how well it does: ${card})`;
}

/**
 * The error for SAM 2 weights of the user's own with no shift block: the shipped block fits the
 * default model only.
 */
export function shiftBlockNeededError(sam2Label: string): Error {
  return new Error(
    `no shift block given for SAM 2 weights ${sam2Label}: the shipped default shift block fits only the embedded default model '${DEFAULT_SHIFT_BLOCK_SAM2}'. ` +
      'Train one for these weights (rpsam2 candidates, then rpsam2 train with sam2.weights set to them; or pnpm bench table1 --data <dir> --weights <them>) and pass it as the shift block, or leave the SAM 2 weights out to use the default pair.',
  );
}
