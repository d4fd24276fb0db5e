/**
 * The generic `nn` building blocks moved to @rpsam2/tensor; this package keeps exporting them
 * (the same classes, so `instanceof` and subclassing work across both import paths).
 */
import { describe, expect, it } from 'vitest';
import * as tensor from '@rpsam2/tensor';
import * as sam2 from '@rpsam2/sam2';

describe('re-exports from @rpsam2/tensor', () => {
  it('Module, ParamSlot, Linear and LayerNorm are the tensor package’s own', () => {
    for (const name of ['Module', 'ParamSlot', 'Linear', 'LayerNorm'] as const) expect(sam2[name], name).toBe(tensor[name]);
    expect(new sam2.MLP(4, 8, 2, 2).layers[0]).toBeInstanceOf(tensor.Linear);
  });
});
