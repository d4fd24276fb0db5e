/** Op-vector adapters: matmul ops. */
import { matmul, linear } from '../../ops/matmul.js';
import type { OpAdapter } from './types.js';

export const matmulAdapters: Record<string, OpAdapter> = {
  matmul: ([a, b]) => matmul(a, b),
  bmm: ([a, b]) => matmul(a, b),
  mm: ([a, b]) => matmul(a, b),
  linear: ([x, w, b]) => linear(x, w, b ?? null),
};
