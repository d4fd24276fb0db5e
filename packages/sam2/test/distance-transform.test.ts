/**
 * The exact squared EDT (Felzenszwalb–Huttenlocher) against brute force, with and without the
 * ring of features outside the image, plus hand-computed values and the input checks.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@rpsam2/tensor';
import { squaredDistanceTransform } from '../src/image/distance-transform.js';

/** Brute force: min over feature pixels (and the 1-pixel ring around the image when `ring`). */
function brute(features: Uint8Array, w: number, h: number, ring: boolean): number[] {
  const out: number[] = [];
  const r = ring ? 1 : 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = Infinity;
      for (let v = -r; v < h + r; v++) {
        for (let u = -r; u < w + r; u++) {
          const inside = u >= 0 && v >= 0 && u < w && v < h;
          if (!inside || features[v * w + u]) best = Math.min(best, (u - x) ** 2 + (v - y) ** 2);
        }
      }
      out.push(best);
    }
  }
  return out;
}

describe('squaredDistanceTransform', () => {
  it('equals brute force on random features of several densities and awkward sizes', () => {
    const rng = new SeededRandom(7);
    const next = () => rng.next();
    const sizes = [[1, 1], [1, 9], [13, 1], [9, 4], [4, 11], [17, 11], [33, 29]] as const;
    for (const [w, h] of sizes) {
      for (const density of [0.02, 0.3, 0.9]) {
        const features = Uint8Array.from({ length: w * h }, () => (next() < density ? 1 : 0));
        for (const ring of [false, true]) {
          const got = squaredDistanceTransform(features, w, h, { outsideIsFeature: ring });
          expect(Array.from(got), `${w}×${h} density ${density} ring ${ring}`).toEqual(brute(features, w, h, ring));
        }
      }
    }
  });

  it('is Infinity everywhere without features, the squared distance to the border with the ring', () => {
    expect([...squaredDistanceTransform(new Uint8Array(6), 3, 2)]).toEqual(Array(6).fill(Infinity));
    // 5×3, no features: min(x + 1, y + 1, 5 − x, 3 − y)².
    expect([...squaredDistanceTransform(new Uint8Array(15), 5, 3, { outsideIsFeature: true })]).toEqual([
      1, 1, 1, 1, 1,
      1, 4, 4, 4, 1,
      1, 1, 1, 1, 1,
    ]);
  });

  it('gives hand-computed values around one feature pixel', () => {
    const f = new Uint8Array(4 * 3);
    f[1 * 4 + 1] = 1; // (1, 1)
    expect([...squaredDistanceTransform(f, 4, 3)]).toEqual([
      2, 1, 2, 5,
      1, 0, 1, 4,
      2, 1, 2, 5,
    ]);
    // The ring caps each value at the squared distance to the border: column 3 becomes 1.
    expect([...squaredDistanceTransform(f, 4, 3, { outsideIsFeature: true })]).toEqual([
      1, 1, 1, 1,
      1, 0, 1, 1,
      1, 1, 1, 1,
    ]);
  });

  it('accepts any non-zero value as a feature', () => {
    const f = Uint8Array.from([0, 255, 0]);
    expect([...squaredDistanceTransform(f, 3, 1)]).toEqual([1, 0, 1]);
  });

  it('names the problem on bad input', () => {
    expect(() => squaredDistanceTransform(new Uint8Array(5), 3, 2)).toThrow(/5 feature values for a 3×2 grid \(expected 6\)/);
    expect(() => squaredDistanceTransform(new Uint8Array(0), -1, 0)).toThrow(/grid size -1×0/);
    expect(() => squaredDistanceTransform([0, 1] as unknown as Uint8Array, 2, 1)).toThrow(/must be a Uint8Array/);
  });
});
