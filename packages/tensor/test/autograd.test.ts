import { describe, expect, it } from 'vitest';
import { tensor, add, mul, sum, exp, tidy, backward, noGrad, isGradEnabled, reshape, getBackend, mulScalar, type Tensor } from '../src/index.js';

const data = async (t: Tensor | null) => Array.from(await t!.data());

describe('autodiff', () => {
  it('accumulates gradients over a shared subgraph (diamond) once per path', async () => {
    // y = x·x ; z = y + y·x ; dz/dx = 2x + 3x² … computed by the walk, not per path re-walks.
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const z = tidy(() => {
      const y = mul(x, x);
      return sum(add(y, mul(y, x)));
    });
    backward(z);
    expect(await data(x.grad)).toEqual([2 + 3, 4 + 12, 6 + 27]);
    z.dispose();
    x.dispose();
  });

  it('runs each node once even for a deep chain of shared nodes (no path explosion)', async () => {
    const x = tensor([0.5], [1], { requiresGrad: true });
    const before = getBackend().dispatchCount;
    const y = tidy(() => {
      let h = x;
      // h_{k+1} = h_k + h_k: 2^30 paths, 30 nodes.
      for (let k = 0; k < 30; k++) h = add(h, h);
      return sum(h);
    });
    const forward = getBackend().dispatchCount - before;
    backward(y);
    const back = getBackend().dispatchCount - before - forward;
    expect(await data(x.grad)).toEqual([2 ** 30]);
    expect(back).toBeLessThan(forward * 6);
    y.dispose();
    x.dispose();
  });

  it('adds into existing .grad across backward calls', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    for (let i = 0; i < 3; i++) {
      const y = tidy(() => sum(mulScalar(x, 2)));
      backward(y);
      y.dispose();
    }
    expect(await data(x.grad)).toEqual([6, 6]);
    x.dispose();
  });

  it('does not record under noGrad, nor when no input requires grad', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const c = tensor([1, 2], [2]);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return exp(x);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = exp(c);
    expect(z.node).toBeNull();
    for (const t of [x, c, y, z]) t.dispose();
  });

  it('frees saved tensors after backward; a second backward names the problem', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const live0 = getBackend().stats().liveBytes;
    const y = tidy(() => sum(exp(mul(x, x))));
    const liveGraph = getBackend().stats().liveBytes;
    backward(y);
    // saved inputs of mul/exp are released: only y and x.grad remain
    expect(getBackend().stats().liveBytes).toBeLessThan(liveGraph + 64);
    expect(() => backward(y)).toThrow(/already freed/);
    y.dispose();
    x.grad!.dispose();
    x.grad = null;
    expect(getBackend().stats().liveBytes).toBe(live0);
    x.dispose();
  });

  it('retainGraph allows a second backward', async () => {
    const x = tensor([3], [1], { requiresGrad: true });
    const y = tidy(() => sum(mul(x, x)));
    backward(y, { retainGraph: true });
    backward(y);
    expect(await data(x.grad)).toEqual([12]);
    y.dispose();
    x.dispose();
  });

  it('releases an unused graph when its output is disposed', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const live0 = getBackend().stats().liveBytes;
    const y = tidy(() => exp(mul(x, x)));
    y.dispose();
    expect(getBackend().stats().liveBytes).toBe(live0);
    x.dispose();
  });

  it('keeps inputs needed by backward alive even if the user disposes them', async () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const w = tensor([3, 4], [2]);
    const y = tidy(() => sum(mul(x, w)));
    w.dispose();
    backward(y);
    expect(await data(x.grad)).toEqual([3, 4]);
    y.dispose();
    x.dispose();
  });

  it('reshape shares storage and routes gradients back to the original shape', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const y = tidy(() => sum(mul(reshape(x, [3, -1]), tensor([1, 2], [2]))));
    backward(y);
    expect(x.grad!.shape).toEqual([2, 3]);
    expect(await data(x.grad)).toEqual([1, 2, 1, 2, 1, 2]);
    y.dispose();
    x.dispose();
  });

  it('backward needs a scalar or an explicit gradient, and a graph', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const c = tensor([1, 2], [2]);
    const y = exp(x);
    expect(() => backward(y)).toThrow(/not a scalar/);
    expect(() => backward(c)).toThrow(/does not require grad/);
    for (const t of [x, c, y]) t.dispose();
  });
});

describe('tidy scopes', () => {
  it('disposes intermediates and keeps returned tensors (nested)', () => {
    const live0 = getBackend().stats().liveBytes;
    const x = tensor([1, 2, 3], [3]);
    const { a, list } = tidy(() => {
      const t = exp(x);
      const inner = tidy(() => add(t, exp(t)));
      return { a: mul(inner, x), list: [inner] };
    });
    expect(a.isDisposed).toBe(false);
    expect(list[0].isDisposed).toBe(false);
    a.dispose();
    list[0].dispose();
    x.dispose();
    expect(getBackend().stats().liveBytes).toBe(live0);
  });

  it('disposes everything when fn throws', () => {
    const live0 = getBackend().stats().liveBytes;
    expect(() =>
      tidy(() => {
        exp(tensor([1], [1]));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(getBackend().stats().liveBytes).toBe(live0);
  });
});
