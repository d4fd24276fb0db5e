/** Op-vector adapters: shape ops. */
import type { OpAdapter } from './types.js';

export const shapeAdapters: Record<string, OpAdapter> = {};
