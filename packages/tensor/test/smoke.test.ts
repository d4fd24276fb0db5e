import { describe, expect, it } from 'vitest';
import { tensor, add, mul, sum, tidy, backward, exp, mean, amax, gelu } from '../src/index.js';

describe('smoke', () => {
  it('adds with broadcasting and backprops', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = tensor([10, 20, 30], [3], { requiresGrad: true });
    const loss = tidy(() => sum(mul(add(a, b), a)));
    expect(await loss.item()).toBeCloseTo([11, 22, 33, 14, 25, 36].reduce((s, v, i) => s + v * (i + 1), 0), 3);
    backward(loss);
    // d/da (a+b)*a = 2a + b ; d/db = sum_rows a
    expect(Array.from(await a.grad!.data())).toEqual([12, 24, 36, 18, 30, 42]);
    expect(Array.from(await b.grad!.data())).toEqual([5, 7, 9]);
    loss.dispose();
    a.dispose();
    b.dispose();
  });
  it('reductions', async () => {
    const x = tensor(Array.from({ length: 600 }, (_, i) => Math.sin(i)), [2, 300]);
    const s = sum(x, -1);
    const m = mean(x, 0);
    const mx = amax(x);
    const e = tidy(() => gelu(exp(x)));
    const d = await s.data();
    let r = 0;
    for (let i = 0; i < 300; i++) r += Math.sin(i);
    expect(d[0]).toBeCloseTo(r, 3);
    expect((await m.data()).length).toBe(300);
    expect(await mx.item()).toBeCloseTo(Math.max(...Array.from({ length: 600 }, (_, i) => Math.sin(i))), 5);
    for (const t of [x, s, m, mx, e]) t.dispose();
  });
});
