/** Op-vector adapters: loss ops. */
import type { OpAdapter } from './types.js';

export const lossAdapters: Record<string, OpAdapter> = {};
