/**
 * The training loop's random stream: mulberry32 (as `Rng` in nn/init.ts) with its 32-bit state
 * readable and settable, so that a checkpoint can store it and a resumed run draws exactly the
 * numbers the uninterrupted run would have drawn.
 */

/** A seeded PRNG whose whole state is one u32 ({@link TrainRng.state}). */
export class TrainRng {
  private s: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`TrainRng: seed ${seed} must be a finite number`);
    this.s = seed >>> 0;
  }

  /** The state as an unsigned 32-bit integer (save it to resume the stream). */
  get state(): number {
    return this.s;
  }

  set state(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`TrainRng: state ${v} must be an unsigned 32-bit integer`);
    this.s = v;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A fresh seed for a sub-generator (e.g. `sampleClicks`' `Rng`). */
  seed(): number {
    return this.nextU32();
  }
}

/** A seeded Fisher–Yates permutation of 0…n−1 (stateless: the same seed gives the same order). */
export function permutation(n: number, seed: number): number[] {
  const rng = new TrainRng(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Mixes two integers into a 32-bit seed (for per-epoch streams derived from the run seed). */
export function mixSeed(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ 0x85ebca6b, 0xc2b2ae35) ^ Math.imul((b >>> 0) + 0x9e3779b9, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
