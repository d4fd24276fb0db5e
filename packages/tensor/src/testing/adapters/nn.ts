/** Op-vector adapters: nn ops. */
import type { OpAdapter } from './types.js';

export const nnAdapters: Record<string, OpAdapter> = {};
