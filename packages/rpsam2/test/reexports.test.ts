/**
 * The seeded initialisers moved to @rpsam2/tensor; this package keeps exporting them, and its
 * layers are @rpsam2/tensor modules.
 */
import { describe, expect, it } from 'vitest';
import * as tensor from '@rpsam2/tensor';
import * as rpsam2 from '@rpsam2/rpsam2';

describe('re-exports from @rpsam2/tensor', () => {
  it('the init helpers are the tensor package’s own', () => {
    for (const name of ['uniformInit', 'truncNormalInit', 'linearDefaultBound', 'xavierBound', 'logit'] as const) expect(rpsam2[name], name).toBe(tensor[name]);
    expect(new rpsam2.MultiheadAttention(8, 2)).toBeInstanceOf(tensor.Module);
  });
});
