/**
 * Random parameters for a model (benchmarks, memory measurements and shape tests of sizes
 * whose checkpoints are not at hand): small normal noise for weights, ones for norm scales,
 * zeros for biases, from a seeded generator so runs repeat.
 */
import { tensor, type DType } from '@rpsam2/tensor';
import type { Module } from '../nn/module.js';

export interface RandomWeightsOptions {
  /** Seed of the generator (default 0). */
  seed?: number;
  /** Standard deviation of the weight noise (default 0.02, as ViT-style initialisations). */
  std?: number;
  /** 'f16' stores the f16-capable slots as f16 (as `loadWeights`); default 'f32'. */
  dtype?: DType;
}

/** A seeded uniform generator on [0, 1): mulberry32. */
export function uniformGenerator(seed = 0): () => number {
  let a = (seed >>> 0) ^ 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded normal generator: mulberry32 uniforms through Box–Muller. */
export function normalGenerator(seed = 0): () => number {
  const uniform = uniformGenerator(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Fills every parameter of `module` (replacing loaded values): 1-D `weight`s (norm scales) are
 * ones, 1-D `bias`es zeros, everything else N(0, std²).
 */
export function initRandomWeights(module: Module, options: RandomWeightsOptions = {}): void {
  // Hundreds of millions of draws for the large sizes: index a table of 2^16 normal samples
  // with a xorshift stream instead of one Box–Muller per element (~20× faster).
  const rand = normalGenerator(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i++) table[i] = rand() * std;
  let x = ((options.seed ?? 0) * 2654435761 + 1) >>> 0 || 1;
  for (const [name, slot] of module.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (slot.shape.length === 1 && leaf === 'weight') data.fill(1);
    else if (!(slot.shape.length === 1 && leaf === 'bias')) {
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        data[i] = table[x & 0xffff];
      }
    }
    const dtype: DType = options.dtype === 'f16' && slot.halfOk ? 'f16' : 'f32';
    slot.value?.dispose();
    slot.value = tensor(data, slot.shape, { name, dtype });
  }
}
