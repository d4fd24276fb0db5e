import { mulberry32 } from './numeric.js';

/** A small seeded PRNG (mulberry32) for reproducible test data. */
export class Rng {
  private readonly uniform01: () => number;
  constructor(seed: number) {
    this.uniform01 = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.uniform01();
  }
  uniform(lo = -1, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  array(n: number, lo = -1, hi = 1): Float64Array {
    return Float64Array.from({ length: n }, () => this.uniform(lo, hi));
  }
}
