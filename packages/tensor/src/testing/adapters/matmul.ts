/** Op-vector adapters: matmul ops. */
import type { OpAdapter } from './types.js';

export const matmulAdapters: Record<string, OpAdapter> = {};
