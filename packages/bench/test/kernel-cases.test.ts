/**
 * `bench kernels`' paired cases time the same work: imageTokens and the add + permute it
 * replaces give the same tokens, and the cases leave the GPU buffer pool as they found it.
 */
import { describe, expect, it } from 'vitest';
import { tidy, type Tensor } from '@rpsam2/tensor';
import { kernelCases } from '../src/kernels/cases.js';

describe('bench kernels: image-tokens cases', () => {
  it('imageTokens and the ops it replaces give the same tokens [1, 4096, 256]', async () => {
    const cases = kernelCases().filter((c) => c.group === 'image-tokens');
    expect(cases.map((c) => c.id)).toEqual(['image-tokens', 'image-tokens-ops']);
    const outs: Float32Array[] = [];
    for (const c of cases) {
      const s = c.setup();
      if ('skip' in s) throw new Error(`${c.id} skipped: ${s.skip}`);
      const y = tidy(() => s.run()) as Tensor;
      expect(y.shape).toEqual([1, 4096, 256]);
      outs.push(await y.data());
      y.dispose();
      s.dispose();
    }
    expect(outs[0]).toEqual(outs[1]);
  });
});
