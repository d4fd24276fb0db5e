/** The seeded RNG and the click sampler: uniform, seeded, inside the mask. */
import { describe, expect, it } from 'vitest';
import { Rng, hashKey } from '@rpsam2/data';
import { sampleClicks } from '../src/protocol/clicks.js';

/** χ² statistic of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const e = n / counts.length;
  return counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
}

describe('Rng', () => {
  it('is deterministic and platform-independent (golden values)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = [a.u32(), a.u32(), a.u32()];
    expect([b.u32(), b.u32(), b.u32()]).toEqual(xs);
    // Integer-only arithmetic: these values must never change (they define every seeded run).
    expect(xs).toEqual([2994371298, 4264712499, 3019001590]);
    expect(new Rng(43).u32()).not.toBe(xs[0]);
  });

  it('derives independent streams by key', () => {
    expect(hashKey('click', 3, 'case_1/a.png')).toBe(hashKey('click', 3, 'case_1/a.png'));
    expect(hashKey('click', 3)).not.toBe(hashKey('click', 4));
    expect(hashKey('a', 'b')).not.toBe(hashKey('ab'));
    expect(Rng.derive(1, 'x').u32()).toBe(Rng.derive(1, 'x').u32());
  });

  it('int(n) is uniform (χ² over 7 bins, 70 000 draws) and next() is in [0, 1)', () => {
    const rng = new Rng(5);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[rng.int(7)]++;
    // 6 degrees of freedom: P(χ² > 22.46) = 0.001.
    expect(chiSquare(counts)).toBeLessThan(22.46);
    for (let i = 0; i < 1000; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
    }
    expect(() => rng.int(0)).toThrow(/integer in \[1, 2\^32\]/);
  });
});

describe('sampleClicks', () => {
  // An L-shaped mask of 12 pixels in a 7×5 image.
  const w = 7;
  const h = 5;
  const data = new Uint8Array(w * h);
  const fg: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if ((x === 1 && y >= 0) || (y === 4 && x >= 1 && x <= 6) || (x === 6 && y === 3)) {
        data[y * w + x] = 1;
        fg.push(y * w + x);
      }
    }
  }
  const mask = { width: w, height: h, data };

  it('draws clicks inside the mask, integer pixel coordinates', () => {
    const clicks = sampleClicks(mask, 500, new Rng(1));
    expect(clicks).toHaveLength(500);
    for (const c of clicks) {
      expect(Number.isInteger(c.x) && Number.isInteger(c.y)).toBe(true);
      expect(data[c.y * w + c.x]).toBe(1);
    }
  });

  it('is seeded: same seed, same clicks; another seed, other clicks', () => {
    const a = sampleClicks(mask, 20, new Rng(9));
    expect(sampleClicks(mask, 20, new Rng(9))).toEqual(a);
    expect(sampleClicks(mask, 20, new Rng(10))).not.toEqual(a);
  });

  it('is uniform over the foreground pixels (χ², 60 000 draws)', () => {
    const clicks = sampleClicks(mask, 60000, new Rng(2));
    const counts = new Map<number, number>(fg.map((i) => [i, 0]));
    for (const c of clicks) counts.set(c.y * w + c.x, counts.get(c.y * w + c.x)! + 1);
    expect(counts.size).toBe(fg.length);
    // 11 degrees of freedom: P(χ² > 31.26) = 0.001.
    expect(chiSquare([...counts.values()])).toBeLessThan(31.26);
  });

  it('refuses an empty mask and a bad n', () => {
    expect(() => sampleClicks({ width: 3, height: 2, data: new Uint8Array(6) }, 1, new Rng(0))).toThrow(/3×2 mask is empty/);
    expect(() => sampleClicks(mask, -1, new Rng(0))).toThrow(/non-negative integer/);
    expect(sampleClicks(mask, 0, new Rng(0))).toEqual([]);
  });
});
