/**
 * The `nn` building blocks: Module's parameter tree (PyTorch state-dict names, registration
 * order), ParamSlot (f16 storage widened per use), Linear and LayerNorm against their ops, and
 * the seeded CPU initialisers.
 */
import { describe, expect, it } from 'vitest';
import {
  LayerNorm,
  Linear,
  Module,
  SeededRandom,
  layerNorm,
  linear,
  linearDefaultBound,
  logit,
  maxAbsError,
  tensor,
  truncNormalInit,
  uniformInit,
  xavierBound,
  type ParamSlot,
} from '../src/index.js';

class Block extends Module {
  readonly scale: ParamSlot;
  readonly norm: LayerNorm;
  readonly layers: Linear[];
  constructor() {
    super();
    this.scale = this.param('scale', [2]);
    this.norm = this.child('norm', new LayerNorm(4));
    this.layers = this.list('layers', [new Linear(4, 3), new Linear(3, 2, false)]);
  }
}

/** Fills every slot of `m` with seeded values (f16 where the slot allows it and `half` is set). */
function fill(m: Module, seed: number, half = false): void {
  const rng = new SeededRandom(seed);
  for (const [name, slot] of m.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    slot.value = tensor(uniformInit(rng, n, 1), slot.shape, { name, dtype: half && slot.halfOk ? 'f16' : 'f32' });
  }
}

describe('Module', () => {
  it('names parameters with dotted state-dict keys in registration order and counts them', () => {
    const m = new Block();
    expect(m.namedParams().map(([n, s]) => [n, s.shape])).toEqual([
      ['scale', [2]],
      ['norm.weight', [4]],
      ['norm.bias', [4]],
      ['layers.0.weight', [3, 4]],
      ['layers.0.bias', [3]],
      ['layers.1.weight', [2, 3]],
    ]);
    expect(m.namedParams('model.')[0][0]).toBe('model.scale');
    expect(m.paramCount()).toBe(2 + 4 + 4 + 12 + 3 + 6);
    // Only Linear weights may be stored as f16.
    expect(m.namedParams().filter(([, s]) => s.halfOk).map(([n]) => n)).toEqual(['layers.0.weight', 'layers.1.weight']);
  });

  it('a slot without a value throws naming it; dispose frees every value', () => {
    const m = new Block();
    expect(() => m.scale.get('scale')).toThrow(/scale \[2\] has no value: load weights first/);
    fill(m, 1);
    const values = m.namedParams().map(([, s]) => s.get());
    m.dispose();
    expect(m.namedParams().every(([, s]) => s.value === null)).toBe(true);
    expect(values.every((t) => t.isDisposed)).toBe(true);
  });
});

describe('Linear and LayerNorm', () => {
  it('Linear matches the linear op (with and without bias), also from an f16-stored weight', async () => {
    for (const half of [false, true]) {
      const m = new Block();
      fill(m, 2, half);
      const x = tensor(Array.from({ length: 20 }, (_, i) => Math.sin(i)), [5, 4]);
      const [l0, l1] = m.layers;
      expect(l0.weight.get().dtype).toBe(half ? 'f16' : 'f32');
      const y0 = l0.forward(x);
      const y = l1.forward(y0);
      const w0 = l0.weight.f32();
      const w1 = l1.weight.f32();
      const h = linear(x, w0, l0.bias!.get());
      const ref = linear(h, w1, null);
      expect(maxAbsError(await y.data(), await ref.data()).err).toBe(0);
      expect(y.shape).toEqual([5, 2]);
      for (const t of [y0, y, h, ref, x]) t.dispose();
      l0.weight.release(w0);
      l1.weight.release(w1);
      m.dispose();
    }
  });

  it('LayerNorm matches the layerNorm op with its eps', async () => {
    const norm = new LayerNorm(4, 1e-3);
    fill(norm, 4);
    const x = tensor([1, 2, 3, 4, -1, 0, 5, 2], [2, 4]);
    const y = norm.forward(x);
    const ref = layerNorm(x, norm.weight.get(), norm.bias.get(), 1e-3);
    expect(maxAbsError(await y.data(), await ref.data()).err).toBe(0);
    for (const t of [x, y, ref]) t.dispose();
    norm.dispose();
  });
});

describe('init', () => {
  it('uniformInit and truncNormalInit stay in bounds and repeat with the seed', () => {
    const u = uniformInit(new SeededRandom(7), 1000, 0.25);
    expect(u.every((v) => v >= -0.25 && v < 0.25)).toBe(true);
    expect(uniformInit(new SeededRandom(7), 1000, 0.25)).toEqual(u);
    const t = truncNormalInit(new SeededRandom(8), 1000, 0.02);
    expect(t.every((v) => Math.abs(v) <= 0.04)).toBe(true);
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    expect(Math.abs(mean)).toBeLessThan(0.003);
  });

  it('bounds and logit follow PyTorch', () => {
    expect(linearDefaultBound(16)).toBe(0.25);
    expect(linearDefaultBound(0)).toBe(0);
    expect(xavierBound(2, 4)).toBeCloseTo(1, 12);
    expect(1 / (1 + Math.exp(-logit(0.1)))).toBeCloseTo(0.1, 12);
    expect(() => logit(1)).toThrow(RangeError);
  });
});
