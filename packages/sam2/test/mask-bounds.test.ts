/** maskBounds (inclusive tight box, undefined when empty) and unionBounds, against hand values and a brute-force scan. */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@rpsam2/tensor';
import { maskBounds, unionBounds, type MaskBounds } from '../src/image/mask-bounds.js';
import { maskOf } from './support.js';

describe('maskBounds', () => {
  it('is the inclusive tight box of the foreground', () => {
    expect(maskBounds(maskOf(['..........', '..###.....', '...####...', '....#.....', '..........']))).toEqual({ x0: 2, y0: 1, x1: 6, y1: 3 });
    // A single pixel: x0 = x1, y0 = y1.
    expect(maskBounds(maskOf(['...', '.#.']))).toEqual({ x0: 1, y0: 1, x1: 1, y1: 1 });
    // The leftmost pixel on a later row than the topmost one; opposite corners.
    expect(maskBounds(maskOf(['..#.', '....', '#...']))).toEqual({ x0: 0, y0: 0, x1: 2, y1: 2 });
    expect(maskBounds(maskOf(['#..', '...', '..#']))).toEqual({ x0: 0, y0: 0, x1: 2, y1: 2 });
    expect(maskBounds(maskOf(['##', '##']))).toEqual({ x0: 0, y0: 0, x1: 1, y1: 1 });
  });

  it('is undefined for an empty mask (including a 0×0 one)', () => {
    expect(maskBounds(maskOf(['...', '...']))).toBeUndefined();
    expect(maskBounds({ width: 0, height: 0, data: new Uint8Array(0) })).toBeUndefined();
  });

  it('matches a brute-force scan on random masks', () => {
    const rng = new SeededRandom(12345);
    const next = () => rng.next();
    for (let trial = 0; trial < 40; trial++) {
      const width = 1 + Math.floor(next() * 12);
      const height = 1 + Math.floor(next() * 12);
      const density = next() * 0.2;
      const data = Uint8Array.from({ length: width * height }, () => (next() < density ? 7 : 0));
      let want: MaskBounds | undefined;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!data[y * width + x]) continue;
          want = want
            ? { x0: Math.min(want.x0, x), y0: Math.min(want.y0, y), x1: Math.max(want.x1, x), y1: Math.max(want.y1, y) }
            : { x0: x, y0: y, x1: x, y1: y };
        }
      }
      expect(maskBounds({ width, height, data }), `trial ${trial}`).toEqual(want);
    }
  });

  it('names the problem on a malformed mask', () => {
    expect(() => maskBounds({ width: 3, height: 2, data: new Uint8Array(5) })).toThrow(/5 values for a 3×2 mask \(expected 6\)/);
    expect(() => maskBounds({ width: 1.5, height: 2, data: new Uint8Array(3) })).toThrow(/mask size 1\.5×2/);
  });
});

describe('unionBounds', () => {
  it('is the smallest box holding both, ignoring an undefined side', () => {
    const a = { x0: 1, y0: 4, x1: 3, y1: 6 };
    const b = { x0: 2, y0: 0, x1: 8, y1: 5 };
    expect(unionBounds(a, b)).toEqual({ x0: 1, y0: 0, x1: 8, y1: 6 });
    expect(unionBounds(a, undefined)).toEqual(a);
    expect(unionBounds(undefined, b)).toEqual(b);
    expect(unionBounds(undefined, undefined)).toBeUndefined();
  });
});
