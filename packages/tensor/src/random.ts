/**
 * Seeded pseudo-random numbers for every package: one mulberry32 generator (initialisation,
 * prompt and click sampling, shuffles), seed mixing for per-step and per-epoch streams, and the
 * two integer hash steps (splitmix32, xorshift32) that hot loops inline. Integer arithmetic only
 * (`Math.imul`, 32-bit shifts), so a seed gives the same numbers on every engine and platform.
 */

/** 2^32 / φ: offsets the seed (SeededRandom) and the splitmix32 counter. */
const GOLDEN = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/**
 * A seeded generator (mulberry32) whose whole state is one u32, so a checkpoint can store it and
 * a resumed run draws exactly what the uninterrupted run would have drawn.
 */
export class SeededRandom {
  private s: number;
  /** The second Box–Muller value, returned by the next {@link normal} call. */
  private spare: number | null = null;

  /**
   * A generator from any finite number: it is taken modulo 2^32 and offset by 0x9e3779b9, so
   * seeds 0, 1, 2, … start far apart in the state space.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new RangeError(`SeededRandom: seed ${seed} must be a finite number`);
    this.s = ((seed >>> 0) ^ GOLDEN) >>> 0;
  }

  /**
   * The state as an unsigned 32-bit integer. It does not include a pending {@link normal} spare
   * (setting it discards one), so a stream meant to be resumed saves its state between whole
   * draws: after an even number of `normal()` calls, or when it does not use `normal()`.
   */
  get state(): number {
    return this.s;
  }

  set state(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`SeededRandom: state ${v} must be an unsigned 32-bit integer`);
    this.s = v;
    this.spare = null;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) (32 random bits). */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n), n an integer in [1, 2^32] (one draw; bias below 2^-32·n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`SeededRandom.int: n must be an integer in [1, 2^32], got ${n}`);
    return Math.floor(this.next() * n);
  }

  /**
   * Standard normal (Box–Muller on two uniforms; the sine value is kept for the next call). The
   * first uniform is flipped to (0, 1] so that the logarithm is finite.
   */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A fresh u32 seed for a sub-generator (one draw of this stream). */
  seed(): number {
    return this.nextU32();
  }
}

/** A seeded Fisher–Yates permutation of 0…n−1 (stateless: the same seed gives the same order). */
export function permutation(n: number, seed: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be a non-negative integer, got ${n}`);
  const rng = new SeededRandom(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/**
 * Mixes a seed and a stream index (a step, an epoch) into a well-spread u32 seed, for streams
 * derived from a run seed. Not symmetric: `mixSeed(a, b)` and `mixSeed(b, a)` differ.
 */
export function mixSeed(seed: number, index: number): number {
  // SAM 2 training runs in progress derive their per-step prompt streams from this exact formula.
  let h = (Math.imul(seed ^ GOLDEN, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** One splitmix32 output for counter value `x`: a well-mixed u32 (the counter advances outside). */
export function splitmix32(x: number): number {
  let z = (x + GOLDEN) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * One xorshift32 step (shifts 13, 17, 5): the next state as a u32, also the output. The state
 * must be nonzero (zero maps to zero). Cheap enough to index lookup tables in hot loops.
 */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
