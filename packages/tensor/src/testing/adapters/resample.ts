/** Op-vector adapters: resample ops. */
import type { OpAdapter } from './types.js';

export const resampleAdapters: Record<string, OpAdapter> = {};
