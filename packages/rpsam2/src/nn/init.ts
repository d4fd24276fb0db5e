/**
 * Seeded parameter initialisation in the spirit of PyTorch's defaults, on the CPU (the values
 * are then uploaded once). A shift block trained from scratch starts from these; loading a
 * checkpoint replaces them.
 */

/** A small seeded PRNG (mulberry32): reproducible initialisation and click sampling. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** n values uniform in [−bound, bound). */
export function uniformInit(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** n values N(0, std²), truncated to ±2·std (as timm's trunc_normal_ for position embeddings). */
export function truncNormalInit(rng: Rng, n: number, std: number): Float32Array {
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
