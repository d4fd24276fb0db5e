/**
 * Seeded parameter initialisation in the spirit of PyTorch's defaults, on the CPU (the values
 * are then uploaded once into a parameter slot). A layer trained from scratch starts from
 * these; loading a checkpoint replaces them.
 */
import type { SeededRandom } from '../random.js';

/** n values uniform in [−bound, bound). */
export function uniformInit(rng: SeededRandom, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** n values N(0, std²), truncated to ±2·std (as timm's trunc_normal_ for position embeddings). */
export function truncNormalInit(rng: SeededRandom, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal();
    while (Math.abs(v) > 2) v = rng.normal();
    out[i] = v * std;
  }
  return out;
}

/**
 * nn.Linear's default: kaiming_uniform(a = √5) on the weight, i.e. U(±1/√fan_in), and the
 * bias U(±1/√fan_in).
 */
export function linearDefaultBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

/** xavier_uniform_ bound for a [fanOut, fanIn] matrix: √(6 / (fanIn + fanOut)). */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/** log(p / (1 − p)): the pre-sigmoid value whose sigmoid is p. */
export function logit(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`logit: ${p} must lie strictly between 0 and 1`);
  return Math.log(p / (1 - p));
}
