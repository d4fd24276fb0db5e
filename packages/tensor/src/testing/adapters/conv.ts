/** Op-vector adapters: conv ops. */
import type { OpAdapter } from './types.js';

export const convAdapters: Record<string, OpAdapter> = {};
