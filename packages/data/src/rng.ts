/**
 * A small seeded PRNG for everything the benchmark draws at random (clicks, synthetic scenes):
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes PractRand),
 * seeded through splitmix32. Integer arithmetic only, so a seed gives the same sequence on every
 * platform and JavaScript engine.
 *
 * Streams are derived by key rather than by position (`Rng.derive(seed, 'frame', 12)`), so that
 * the click for object 3 of image 17 under seed 4 does not change when another image is added.
 */
import { splitmix32 } from '@rpsam2/tensor';

/** Mixes a list of integers and strings into one 32-bit seed (order matters). */
export function hashKey(...parts: readonly (number | string)[]): number {
  let h = 0x811c9dc5;
  const mixWord = (w: number) => {
    h = splitmix32((h ^ w) >>> 0);
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) throw new Error(`hashKey: parts must be finite numbers or strings, got ${p}`);
      // Integers in the safe range hash by their two 32-bit halves; other numbers by their text.
      if (Number.isInteger(p) && Math.abs(p) <= Number.MAX_SAFE_INTEGER) {
        mixWord(p >>> 0);
        mixWord(Math.floor(p / 4294967296) >>> 0);
      } else mixWord(hashString(String(p)));
    } else {
      mixWord(0x5f3759df);
      mixWord(hashString(p));
    }
  }
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded pseudo-random generator (sfc32). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** A generator from a 32-bit seed (any integer; taken modulo 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Rng: seed must be an integer, got ${seed}`);
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      return splitmix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
    // Discard the first outputs: sfc32 mixes its state over a few rounds.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A generator for a named sub-stream: `Rng.derive(seed, 'click', imageId, objectIndex)`. */
  static derive(...parts: readonly (number | string)[]): Rng {
    return new Rng(hashKey(...parts));
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /**
   * Uniform integer in [0, n), exactly uniform (rejection sampling on 32-bit draws, no modulo
   * bias). n must be an integer in [1, 2^32].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    if (n === 1) return 0;
    // Largest multiple of n that fits in 2^32: draws at or above it are rejected.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const u = this.u32();
      if (u < limit) return u % n;
    }
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  intIn(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.intIn: empty range [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal draw (Box–Muller, the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty array');
    return items[this.int(items.length)];
  }

  /** A uniformly random permutation of the array (Fisher–Yates; returns a new array). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}
