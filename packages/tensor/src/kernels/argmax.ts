/**
 * The argmax kernel over the last axis (run by ops/argmax.ts): one thread per row of `params.k`
 * elements (`params.n` rows), the index of the first maximum as i32 (`index`) or as a one-hot f32
 * row (`onehot`). Pure generator: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

/** X → Y. */
export function argmaxKernel(mode: 'index' | 'onehot', p: Params): Kernel {
  const write =
    mode === 'index'
      ? '  Y[i] = i32(best);'
      : '  for (var j = 0u; j < params.k; j++) { Y[i * params.k + j] = select(0.0, 1.0, j == best); }';
  return {
    key: `argmax:${mode}`,
    wgsl: () => `${bindings(['X'], ['Y'], { Y: mode === 'index' ? 'i32' : 'f32' })}\n${p.wgsl(2)}
${linearMain(`  let base = i * params.k;
  var best = 0u;
  var m = X[base];
  // Strictly greater keeps the first maximum on ties; NaN never wins.
  for (var j = 1u; j < params.k; j++) { let v = X[base + j]; if (v > m) { m = v; best = j; } }
${write}`)}`,
  };
}
