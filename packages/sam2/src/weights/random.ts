/**
 * Random parameters for a model (benchmarks, memory measurements and shape tests of sizes
 * whose checkpoints are not at hand): small normal noise for weights, ones for norm scales,
 * zeros for biases, from a seeded generator so runs repeat.
 */
import { SeededRandom, tensor, xorshift32, type DType, type Module } from '@rpsam2/tensor';

/** Options of {@link initRandomWeights}. */
export interface RandomWeightsOptions {
  /** Seed of the generator (default 0). */
  seed?: number;
  /** Standard deviation of the weight noise (default 0.02, as ViT-style initialisations). */
  std?: number;
  /** 'f16' stores the f16-capable slots as f16 (as `loadWeights`); default 'f32'. */
  dtype?: DType;
}

/**
 * Fills every parameter of `module` (replacing loaded values): 1-D `weight`s (norm scales) are
 * ones, 1-D `bias`es zeros, everything else N(0, std²).
 */
export function initRandomWeights(module: Module, options: RandomWeightsOptions = {}): void {
  // Hundreds of millions of draws for the large sizes: index a table of 2^16 normal samples
  // with a xorshift stream instead of one Box–Muller per element (~20× faster).
  const seed = options.seed ?? 0;
  const rng = new SeededRandom(seed);
  const std = options.std ?? 0.02;
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i++) table[i] = rng.normal() * std;
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (const [name, slot] of module.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (slot.shape.length === 1 && leaf === 'weight') data.fill(1);
    else if (!(slot.shape.length === 1 && leaf === 'bias')) {
      for (let i = 0; i < n; i++) {
        x = xorshift32(x);
        data[i] = table[x & 0xffff];
      }
    }
    const dtype: DType = options.dtype === 'f16' && slot.halfOk ? 'f16' : 'f32';
    slot.value?.dispose();
    slot.value = tensor(data, slot.shape, { name, dtype });
  }
}
