/**
 * The decoder's cross-attentions with few tokens on one side take a folded form (the attention
 * moved into the long side's projections, `Attention.fewKeys` / `fewQueries`); it must give the
 * textbook form's outputs and gradients (inputs and every weight) at SAM 2's real size
 * (d = 256, 8 heads, internal dim 128), for one sample (the fused-bias path) and several.
 */
import { describe, expect, it } from 'vitest';
import { backward, relL2Error, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { Attention } from '../src/model/two-way-transformer.js';

function rand(n: number, seed: number, scale = 1): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 2 ** 32 - 0.5) * 2 * scale;
  });
}

async function run(attn: Attention, form: 'forward' | 'plain', shapes: number[][], seed: number) {
  const params = attn.namedParams();
  params.forEach(([, slot], i) => {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    slot.value = tensor(rand(n, 100 + i, 1 / Math.sqrt(slot.shape[slot.shape.length - 1])), [...slot.shape], { requiresGrad: true });
  });
  const [q, k, v] = shapes.map((s, i) => tensor(rand(s.reduce((a, b) => a * b, 1), seed + i), s, { requiresGrad: true }));
  const y = tidy(() => (form === 'forward' ? attn.forward(q, k, v) : attn.plain(q, k, v)));
  const g = tensor(rand(y.size, seed + 9), y.shape);
  tidy(() => backward(y, { grad: g }));
  const leaves: Tensor[] = [q, k, v, ...params.map(([, s]) => s.value!)];
  // Every leaf gets a gradient, the key bias included (optimizers skip parameters without one).
  for (const t of leaves) expect(t.grad, 'a leaf without gradient').toBeTruthy();
  const out = {
    y: await y.data(),
    grads: await Promise.all(leaves.map((t) => (t.grad ? t.grad.data() : Promise.resolve(new Float32Array(t.size))))),
    names: ['q', 'k', 'v', ...params.map(([n]) => n)],
  };
  for (const t of [q, k, v, y, g, ...params.map(([, s]) => s.value!)]) t.dispose();
  params.forEach(([, s]) => (s.value = null));
  return out;
}

describe('two-way transformer attention: folded form for few tokens', () => {
  const cases: [string, number[][]][] = [
    ['few keys (image → tokens), batch 1', [[1, 300, 256], [1, 7, 256], [1, 7, 256]]],
    ['few keys, batch 2', [[2, 300, 256], [2, 7, 256], [2, 7, 256]]],
    ['few queries (tokens → image), batch 1', [[1, 7, 256], [1, 300, 256], [1, 300, 256]]],
    ['few queries, batch 2', [[2, 7, 256], [2, 300, 256], [2, 300, 256]]],
  ];
  for (const [name, shapes] of cases) {
    it(`${name}: outputs and gradients match the textbook form`, async () => {
      const attn = new Attention(256, 8, 2);
      const a = await run(attn, 'forward', shapes, 1);
      const b = await run(attn, 'plain', shapes, 1);
      expect(relL2Error(a.y, b.y), 'output').toBeLessThan(1e-5);
      const maxAbs = (x: Float32Array) => x.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
      a.grads.forEach((ga, i) => {
        const gb = b.grads[i];
        // The key bias shifts a whole row of scores, which the softmax cancels: its gradient is 0
        // (rounding noise in both forms).
        if (a.names[i] === 'k_proj.bias') expect(Math.max(maxAbs(ga), maxAbs(gb)), 'grad k_proj.bias').toBeLessThan(1e-4 * maxAbs(b.grads[2]));
        else expect(relL2Error(ga, gb), `grad ${a.names[i]}`).toBeLessThan(1e-4);
      });
    });
  }
});
