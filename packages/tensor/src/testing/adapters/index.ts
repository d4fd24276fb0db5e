/** Every op-vector adapter, by PyTorch op name. */
import type { OpAdapter } from './types.js';
import { elementwiseAdapters } from './elementwise.js';
import { matmulAdapters } from './matmul.js';
import { nnAdapters } from './nn.js';
import { convAdapters } from './conv.js';
import { resampleAdapters } from './resample.js';
import { shapeAdapters } from './shape.js';
import { lossAdapters } from './loss.js';

/**
 * The op adapters by the PyTorch op name of an op-vector case (`OpCase.op`): how `check-ops` runs each
 * case with this library.
 */
export const OP_ADAPTERS: Record<string, OpAdapter> = {
  ...elementwiseAdapters,
  ...matmulAdapters,
  ...nnAdapters,
  ...convAdapters,
  ...resampleAdapters,
  ...shapeAdapters,
  ...lossAdapters,
};
export type { OpAdapter, OpCase } from './types.js';
