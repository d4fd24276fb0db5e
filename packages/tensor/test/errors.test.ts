import { describe, expect, it } from 'vitest';
import { acquireDevice, NoAdapterError, tensor, add, exp, sum, reshape, backward } from '../src/index.js';

describe('errors name the problem', () => {
  it('no adapter: names the fix', async () => {
    const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu: fakeGpu })).rejects.toThrow(NoAdapterError);
    await expect(acquireDevice({ gpu: fakeGpu })).rejects.toThrow(/install-lavapipe/);
    await expect(acquireDevice({ gpu: undefined })).rejects.toThrow(/navigator.gpu/);
  });

  it('shape mismatch names both shapes', () => {
    const a = tensor([1, 2, 3], [3], { name: 'a' });
    const b = tensor([1, 2], [2], { name: 'b' });
    expect(() => add(a, b)).toThrow(/\[3\] and \[2\]/);
    a.dispose();
    b.dispose();
  });

  it('data length and shape disagree', () => {
    expect(() => tensor([1, 2, 3], [2, 2], { name: 'w' })).toThrow(/'w': 3 values given for shape \[2, 2\]/);
  });

  it('use after dispose names the tensor', () => {
    const a = tensor([1], [1], { name: 'weights' });
    a.dispose();
    expect(() => exp(a)).toThrow(/'weights' \[1\] f32\) was used after dispose/);
  });

  it('wrong dtype', () => {
    const i = tensor([1, 2], [2], { dtype: 'i32', name: 'idx' });
    expect(() => exp(i)).toThrow(/'idx' \[2\] i32\) must have dtype f32/);
    i.dispose();
  });

  it('bad reshape and bad axis', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => reshape(a, [4, -1])).toThrow(/cannot infer -1/);
    expect(() => sum(a, 2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
    a.dispose();
  });

  it('gradient of non-float inputs is refused', () => {
    expect(() => tensor([1], [1], { dtype: 'i32', requiresGrad: true })).toThrow(/only f32 tensors can require grad/);
    const x = tensor([1], [1]);
    expect(() => backward(x)).toThrow(/does not require grad/);
    x.dispose();
  });
});
