/**
 * The shared seeded generators against independent references: BigInt re-implementations of the
 * integer steps (no 32-bit tricks to share bugs with), copies of the generators they replaced
 * (whose streams must not change: SAM 2's initialisation and training depend on them), a few
 * pinned values, resumption from `state`, and the moments of `normal()`.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom, mixSeed, permutation, splitmix32, xorshift32 } from '../src/index.js';
import { mulberry32 } from './support/numeric.js';

const M = 0xffffffffn;
const imul = (a: bigint, b: bigint) => (a * b) & M;
const u32 = (x: number) => BigInt(x >>> 0);

/** mulberry32 on a BigInt state: returns [next state, output]. */
function mulberryRef(s: bigint): [bigint, bigint] {
  s = (s + 0x6d2b79f5n) & M;
  let t = s;
  t = imul(t ^ (t >> 15n), t | 1n);
  t = t ^ ((t + imul(t ^ (t >> 7n), t | 61n)) & M);
  return [s, t ^ (t >> 14n)];
}

function splitmixRef(x: bigint): bigint {
  let z = (x + 0x9e3779b9n) & M;
  z = imul(z ^ (z >> 16n), 0x21f0aaadn);
  z = imul(z ^ (z >> 15n), 0x735a2d97n);
  return z ^ (z >> 15n);
}

function xorshiftRef(x: bigint): bigint {
  x ^= (x << 13n) & M;
  x ^= x >> 17n;
  x ^= (x << 5n) & M;
  return x;
}

function mixSeedRef(seed: bigint, step: bigint): bigint {
  let h = (imul(seed ^ 0x9e3779b9n, 0x85ebca6bn) + imul((step + 1n) & M, 0xc2b2ae35n)) & M;
  h ^= h >> 16n;
  h = imul(h, 0x7feb352dn);
  return h ^ (h >> 15n);
}

/**
 * @rpsam2/sam2's former `uniformGenerator` (its stream must be kept bit for bit): the tests'
 * own mulberry32 from the state `(seed >>> 0) ^ 0x9e3779b9`.
 */
function oldUniformGenerator(seed = 0): () => number {
  return mulberry32((seed >>> 0) ^ 0x9e3779b9);
}

/** Copy of @rpsam2/sam2's former `normalGenerator`. */
function oldNormalGenerator(seed = 0): () => number {
  const uniform = oldUniformGenerator(seed);
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

const SEEDS = [0, 1, 2, 7, 42, 12345, 0x5bd1e995, 0x5bd1e995 + 3, 0xffffffff, 2 ** 32 + 5, -1, -123456, 3.7];

describe('SeededRandom', () => {
  it('is mulberry32 from (seed >>> 0) ^ 0x9e3779b9 (BigInt reference)', () => {
    for (const seed of SEEDS) {
      const r = new SeededRandom(seed);
      let s = u32(seed) ^ 0x9e3779b9n;
      expect(BigInt(r.state)).toBe(s);
      for (let i = 0; i < 200; i++) {
        const [ns, out] = mulberryRef(s);
        s = ns;
        expect(BigInt(r.nextU32())).toBe(out);
        expect(BigInt(r.state)).toBe(s);
      }
    }
  });

  it('pins its first values (seed 0 and 1)', () => {
    const a = new SeededRandom(0);
    expect([a.nextU32(), a.nextU32(), a.nextU32()]).toEqual([PINNED_0[0], PINNED_0[1], PINNED_0[2]]);
    const b = new SeededRandom(1);
    expect(b.nextU32()).toBe(PINNED_1);
  });

  it('reproduces the former SAM 2 uniform and normal generators bit for bit', () => {
    for (const seed of SEEDS) {
      const [oldU, r] = [oldUniformGenerator(seed), new SeededRandom(seed)];
      for (let i = 0; i < 1000; i++) expect(r.next()).toBe(oldU());
      const [oldN, q] = [oldNormalGenerator(seed), new SeededRandom(seed)];
      for (let i = 0; i < 1001; i++) expect(q.normal()).toBe(oldN());
    }
  });

  it('uniform, int and seed stay in range and follow the stream', () => {
    const [r, ref] = [new SeededRandom(9), new SeededRandom(9)];
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(-3, 5);
      expect(u).toBe(-3 + 8 * ref.next());
      expect(u >= -3 && u < 5).toBe(true);
      const k = r.int(7);
      expect(k).toBe(Math.floor(ref.next() * 7));
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      expect(r.seed()).toBe(ref.nextU32());
    }
    expect(new SeededRandom(3).int(1)).toBe(0);
  });

  it('resumes from a saved state; setting the state drops a pending normal spare', () => {
    const a = new SeededRandom(42);
    a.next();
    a.normal();
    a.normal(); // an even number of normals: no spare pending
    const saved = a.state;
    const expected = [a.next(), a.normal(), a.normal(), a.int(100), a.nextU32()];
    const b = new SeededRandom(0);
    b.state = saved;
    expect([b.next(), b.normal(), b.normal(), b.int(100), b.nextU32()]).toEqual(expected);

    const c = new SeededRandom(5);
    const s0 = c.state;
    const first = c.normal(); // leaves its spare pending
    c.state = s0;
    expect(c.normal()).toBe(first); // a fresh pair from s0, not the stale spare
  });

  it('normal() has the moments of N(0, 1) over 1e5 draws', () => {
    const r = new SeededRandom(2024);
    const n = 100_000;
    let [m1, m2, m3, m4, nonFinite] = [0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      if (!Number.isFinite(x)) nonFinite++;
      m1 += x;
      m2 += x * x;
      m3 += x * x * x;
      m4 += x * x * x * x;
    }
    expect(nonFinite).toBe(0);
    const mean = m1 / n;
    const variance = m2 / n - mean * mean;
    // Standard errors at n = 1e5: mean 0.003, variance 0.0045, skewness 0.008, kurtosis 0.015.
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(variance - 1)).toBeLessThan(0.025);
    expect(Math.abs(m3 / n)).toBeLessThan(0.04);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.08);
  });

  it('names a bad seed, state or range', () => {
    for (const bad of [NaN, Infinity, -Infinity, '3' as unknown as number, undefined as unknown as number]) {
      expect(() => new SeededRandom(bad)).toThrow(RangeError);
    }
    expect(() => new SeededRandom(NaN)).toThrow(/seed NaN must be a finite number/);
    const r = new SeededRandom(0);
    for (const bad of [-1, 2 ** 32, 1.5, NaN]) expect(() => (r.state = bad)).toThrow(/unsigned 32-bit integer/);
    expect(r.state).toBe(0x9e3779b9); // unchanged by the refused assignments
    for (const bad of [0, -2, 2.5, 2 ** 32 + 1]) expect(() => r.int(bad)).toThrow(/integer in \[1, 2\^32\]/);
  });
});

describe('permutation', () => {
  it('is a seeded permutation of 0…n−1 (Fisher–Yates on the seed stream)', () => {
    const p = permutation(50, 5);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(permutation(50, 5)).toEqual(p);
    expect(permutation(50, 6)).not.toEqual(p);
    // The same shuffle by hand.
    const r = new SeededRandom(5);
    const q = Array.from({ length: 50 }, (_, i) => i);
    for (let i = 49; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [q[i], q[j]] = [q[j], q[i]];
    }
    expect(p).toEqual(q);
    expect(permutation(0, 1)).toEqual([]);
    expect(permutation(1, 1)).toEqual([0]);
    expect(() => permutation(-1, 0)).toThrow(/non-negative integer/);
  });
});

describe('mixSeed', () => {
  it('matches the BigInt reference and differs across steps and seeds', () => {
    for (const seed of [0, 1, 7, 0x5eed, 0xffffffff, -5]) {
      const seen = new Set<number>();
      for (let step = 0; step < 1000; step++) {
        const h = mixSeed(seed, step);
        expect(BigInt(h)).toBe(mixSeedRef(u32(seed), BigInt(step)));
        seen.add(h);
      }
      expect(seen.size).toBe(1000);
    }
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(0, 0)).toBe(PINNED_MIX_0_0);
  });
});

describe('splitmix32 and xorshift32', () => {
  it('match their BigInt references', () => {
    let x = 0;
    for (let i = 0; i < 2000; i++) {
      expect(BigInt(splitmix32(x))).toBe(splitmixRef(u32(x)));
      x = (x + 0x9e3779b9 * 7 + i) >>> 0;
    }
    let s = 1;
    let ref = 1n;
    for (let i = 0; i < 2000; i++) {
      s = xorshift32(s);
      ref = xorshiftRef(ref);
      expect(BigInt(s)).toBe(ref);
    }
    expect(splitmix32(0)).toBe(PINNED_SPLITMIX_0);
    expect(xorshift32(1)).toBe(270369);
    expect(xorshift32(0)).toBe(0);
  });

  it('xorshift32 reproduces the inline loops it replaced (signed or unsigned state)', () => {
    // The former loops kept `s` as a signed int32 (`s ^= s << 13; …`) and read bits from it.
    let signed = 0xdeadbeef | 1;
    let state = signed >>> 0;
    for (let i = 0; i < 5000; i++) {
      signed ^= signed << 13;
      signed ^= signed >>> 17;
      signed ^= signed << 5;
      state = xorshift32(state);
      expect(state).toBe(signed >>> 0);
      expect(state & 0xffff).toBe(signed & 0xffff);
      expect((state >>> 16) & 0xffff).toBe((signed >>> 16) & 0xffff);
    }
  });
});

// Values computed once from the BigInt references above (guards against both drifting together).
const PINNED_0 = [1541420728, 454851044, 2900350524];
const PINNED_1 = 814657751;
const PINNED_MIX_0_0 = 3007938117;
const PINNED_SPLITMIX_0 = 1684164658;
