import { describe, expect, it } from 'vitest';
import { squaredDistanceTransform } from '../src/image/distance-transform.js';
import {
  correctionClick,
  firstClick,
  noisyBox,
  tightBox,
  type PromptMask,
  type PromptRng,
} from '../src/train/prompt-sampler.js';
import { mulberry32 } from '../../tensor/test/support/numeric.js';
import { maskOf } from './support.js';

/** mulberry32, seeded. */
function rngOf(seed: number): PromptRng {
  return { next: mulberry32(seed) };
}

/** Pearson's χ² of observed counts against equal expected counts. */
function chiSquare(counts: Map<number, number>, cells: number, draws: number): number {
  const e = draws / cells;
  let chi = 0;
  for (const c of counts.values()) chi += (c - e) ** 2 / e;
  // Cells never hit contribute e each.
  chi += (cells - counts.size) * e;
  return chi;
}

// χ²(df) 0.999 quantiles: a fair sampler fails these with probability 0.001 (the seed is fixed).
const CHI2_999: Record<number, number> = { 3: 16.27, 4: 18.47, 11: 31.26 };

describe('firstClick', () => {
  // 12 foreground pixels of an irregular shape.
  const mask = maskOf(['#......', '.##....', '.###..#', '..#...#', '....###']);

  it('is uniform over the object, label 1, integer pixel coordinates', () => {
    const rng = rngOf(1);
    const draws = 12_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const c = firstClick(mask, rng);
      expect(c.label).toBe(1);
      expect(Number.isInteger(c.x) && Number.isInteger(c.y)).toBe(true);
      const idx = c.y * mask.width + c.x;
      expect(mask.data[idx], `click (${c.x}, ${c.y}) outside the object`).toBe(1);
      counts.set(idx, (counts.get(idx) ?? 0) + 1);
    }
    expect(counts.size).toBe(12);
    expect(chiSquare(counts, 12, draws)).toBeLessThan(CHI2_999[11]);
  });

  it('maps rng values to pixels in row-major order (one draw per click)', () => {
    // The k-th foreground pixel in row-major order gets u in [k/12, (k+1)/12).
    const fg: [number, number][] = [];
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) fg.push([i % mask.width, Math.floor(i / mask.width)]);
    expect(fg).toHaveLength(12);
    for (const [u, k] of [[0, 0], [0.0834, 1], [0.5, 6], [0.9999, 11]] as const) {
      const c = firstClick(mask, { next: () => u });
      expect([c.x, c.y]).toEqual(fg[k]);
    }
  });

  it('throws on an empty mask, a bad mask or a bad rng', () => {
    expect(() => firstClick(maskOf(['...', '...']), rngOf(1))).toThrow(/3×2 mask is empty/);
    expect(() => firstClick({ width: 3, height: 2, data: new Uint8Array(5) }, rngOf(1))).toThrow(/5 values for 3×2/);
    expect(() => firstClick({ width: 0, height: 2, data: new Uint8Array(0) }, rngOf(1))).toThrow(/positive integers/);
    expect(() => firstClick(mask, { next: () => 1 })).toThrow(/rng.next\(\) returned 1/);
  });
});

describe("correctionClick, 'uniform' (the official training rule)", () => {
  const gt = maskOf(['.####...', '.####...', '........', '........']);
  const pred = maskOf(['.##.....', '.####.##', '.......#', '........']);
  // FN: (3,0) (4,0) → positive; FP: (6,1) (7,1) (7,2) → negative: 5 error pixels.

  it('is uniform over FN ∪ FP, positive on FN and negative on FP', () => {
    const rng = rngOf(7);
    const draws = 10_000;
    const counts = new Map<number, number>();
    let positives = 0;
    for (let i = 0; i < draws; i++) {
      const c = correctionClick(gt, pred, rng);
      const idx = c.y * gt.width + c.x;
      const isFn = gt.data[idx] === 1 && pred.data[idx] === 0;
      const isFp = gt.data[idx] === 0 && pred.data[idx] === 1;
      expect(isFn || isFp, `click (${c.x}, ${c.y}) is not an error pixel`).toBe(true);
      expect(c.label).toBe(isFn ? 1 : 0);
      positives += c.label;
      counts.set(idx, (counts.get(idx) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    expect(chiSquare(counts, 5, draws)).toBeLessThan(CHI2_999[4]);
    // The error type is picked in proportion to its area: 2 of 5.
    expect(Math.abs(positives / draws - 0.4)).toBeLessThan(0.02);
  });

  it('with pred null samples from the ground truth (as firstClick, same draw)', () => {
    for (let s = 0; s < 20; s++) expect(correctionClick(gt, null, rngOf(s))).toEqual(firstClick(gt, rngOf(s)));
  });

  it('when the prediction is exact, clicks a negative uniformly over the background', () => {
    const rng = rngOf(3);
    const counts = new Map<number, number>();
    const draws = 9_000;
    const g = maskOf(['###', '#..', '#.#', '##.']); // 4 background pixels
    const bg = [...g.data].filter((v) => v === 0).length;
    for (let i = 0; i < draws; i++) {
      const c = correctionClick(g, g, rng);
      expect(c.label).toBe(0);
      expect(g.data[c.y * g.width + c.x]).toBe(0);
      counts.set(c.y * g.width + c.x, (counts.get(c.y * g.width + c.x) ?? 0) + 1);
    }
    expect(counts.size).toBe(4);
    expect(chiSquare(counts, bg, draws)).toBeLessThan(CHI2_999[3]);
  });

  it('throws on size mismatches, a whole-image exact mask and an unknown mode', () => {
    expect(() => correctionClick(gt, maskOf(['..', '..']), rngOf(1))).toThrow(/pred is 2×2 but gt is 8×4/);
    const fullMask = maskOf(['##', '##']);
    expect(() => correctionClick(fullMask, fullMask, rngOf(1))).toThrow(/no error and no background/);
    expect(() => correctionClick(fullMask, fullMask, rngOf(1), 'center')).toThrow(/no error and no background/);
    expect(() => correctionClick(gt, pred, rngOf(1), 'max' as never)).toThrow(/mode must be 'uniform' or 'center'/);
  });
});

describe("correctionClick, 'center' (the official evaluation rule, RITM)", () => {
  it('takes the FN pixel farthest from the boundary of a 5×5 missed square', () => {
    const gt = maskOf(['.........', '.#####...', '.#####...', '.#####...', '.#####...', '.#####...', '.........']);
    const c = correctionClick(gt, null, rngOf(1), 'center');
    expect(c).toEqual({ x: 3, y: 3, label: 1 });
  });

  it('prefers the region whose centre is deeper; FP wins ties, as the official strict comparison', () => {
    // FN: a 3×3 square (depth² 4); FP: a 5×3 bar (depth² 4 too) → tie → negative, first FP maximum.
    const gt = maskOf(['###.......', '###.......', '###.......', '..........']);
    const predTie = maskOf(['....#####.', '....#####.', '....#####.', '..........']);
    expect(correctionClick(gt, predTie, rngOf(1), 'center')).toEqual({ x: 5, y: 1, label: 0 });
    // A 2×2 FN corner (depth² 1) loses to the FP bar (depth² 4, first reached at (5, 2)).
    const gtSmall = maskOf(['##........', '##........', '..........', '..........']);
    const predBar = maskOf(['..........', '....#####.', '....#####.', '....#####.']);
    expect(correctionClick(gtSmall, predBar, rngOf(1), 'center')).toEqual({ x: 5, y: 2, label: 0 });
    // A 3×3 FN block (depth² 4) beats a one-pixel-thick FP line (depth² 1).
    const gt2 = maskOf(['.....', '.###.', '.###.', '.###.', '.....', '.....']);
    const pred2 = maskOf(['#####', '.....', '.....', '.....', '.....', '.....']);
    expect(correctionClick(gt2, pred2, rngOf(1), 'center')).toEqual({ x: 2, y: 2, label: 1 });
  });

  it('counts the image border as boundary (the official 1-pixel zero padding)', () => {
    // A missed 5×5 block in the top-left corner of a 10×7 image: without the padding the corner
    // pixel would be deepest; with it the block's centre (2, 2) is.
    const rows = Array.from({ length: 7 }, (_, y) => (y < 5 ? '#####.....' : '..........'));
    expect(correctionClick(maskOf(rows), null, rngOf(1), 'center')).toEqual({ x: 2, y: 2, label: 1 });
  });

  it('uses no randomness', () => {
    const gt = maskOf(['.###.', '.###.', '.....']);
    const pred = maskOf(['.#...', '.....', '##...']);
    const never: PromptRng = { next: () => { throw new Error('drew a number'); } };
    expect(correctionClick(gt, pred, never, 'center')).toEqual(correctionClick(gt, pred, rngOf(5), 'center'));
  });

  it('falls back to the background pixel farthest from the object when the prediction is exact', () => {
    const g = maskOf(['##.......', '##.......', '.........', '.........', '.........']);
    // Background depth with the border counted: at most 3 (rows 2 is 3 from both padded borders),
    // reached at (4..6, 2) (≥ 3 from the object and from the right border); the first is (4, 2).
    const c = correctionClick(g, g, rngOf(1), 'center');
    const d = squaredDistanceTransform(g.data, g.width, g.height, { outsideIsFeature: true });
    const best = Math.max(...d);
    expect(c.label).toBe(0);
    expect(d[c.y * g.width + c.x]).toBe(best);
    expect(d.findIndex((v) => v === best)).toBe(c.y * g.width + c.x);
    expect(best).toBe(9);
    expect(c).toEqual({ x: 4, y: 2, label: 0 });
  });
});

describe('tightBox and noisyBox', () => {
  const mask = maskOf(['..........', '..###.....', '...####...', '....#.....', '..........']);

  it('tightBox is the inclusive pixel box', () => {
    expect(tightBox(mask)).toEqual([2, 1, 6, 3]);
    expect(tightBox(maskOf(['...', '.#.']))).toEqual([1, 1, 1, 1]);
    expect(() => tightBox(maskOf(['...']))).toThrow(/mask is empty/);
  });

  it('noise 0 returns the tight box and draws nothing', () => {
    const never: PromptRng = { next: () => { throw new Error('drew a number'); } };
    expect(noisyBox(mask, never, 0)).toEqual([2, 1, 6, 3]);
  });

  it('moves each coordinate by (2u − 1)·min(noise·side, maxNoise), drawn in the order x0, y0, x1, y1', () => {
    const us = [0, 0.75, 0.5, 0.999];
    let i = 0;
    const box = noisyBox(mask, { next: () => us[i++] }, 0.25);
    // side x = 4, y = 2: dx = 1, dy = 0.5.
    expect(box[0]).toBeCloseTo(2 - 1, 12);
    expect(box[1]).toBeCloseTo(1 + 0.5 * 0.5, 12);
    expect(box[2]).toBeCloseTo(6, 12);
    expect(box[3]).toBeCloseTo(3 + 0.998 * 0.5, 12);
    expect(i).toBe(4);
  });

  it('stays within ±noise·side, capped at maxNoise pixels, clamped to the image, and spans that range', () => {
    // A 301×41 box in a 400×60 image touching the left border: x jitter capped at 20 px, y at 4.
    const w = 400;
    const h = 60;
    const data = new Uint8Array(w * h);
    for (let y = 10; y <= 50; y++) for (let x = 0; x <= 300; x++) data[y * w + x] = 1;
    const m = { width: w, height: h, data };
    const rng = rngOf(9);
    const lo = [Infinity, Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity, -Infinity];
    for (let k = 0; k < 4000; k++) {
      const b = noisyBox(m, rng);
      b.forEach((v, j) => {
        lo[j] = Math.min(lo[j], v);
        hi[j] = Math.max(hi[j], v);
      });
    }
    // x0 = 0 ± 20 clamped to [0, 20]; y0 = 10 ± 4; x1 = 300 ± 20; y1 = 50 ± 4.
    expect(lo[0]).toBe(0);
    expect(hi[0]).toBeLessThanOrEqual(20);
    expect(hi[0]).toBeGreaterThan(19.9);
    expect(lo[1]).toBeGreaterThanOrEqual(6);
    expect(lo[1]).toBeLessThan(6.1);
    expect(hi[1]).toBeLessThanOrEqual(14);
    expect(hi[1]).toBeGreaterThan(13.9);
    expect(lo[2]).toBeGreaterThanOrEqual(280);
    expect(lo[2]).toBeLessThan(280.1);
    expect(hi[2]).toBeLessThanOrEqual(320);
    expect(hi[2]).toBeGreaterThan(319.9);
    expect(lo[3]).toBeGreaterThanOrEqual(46);
    expect(hi[3]).toBeLessThanOrEqual(54);
    expect(hi[3]).toBeGreaterThan(53.9);
    // Clamping at the far border: a box ending at the last column never goes past width − 1.
    const edge = maskOf(['....##', '....##']);
    for (let k = 0; k < 200; k++) expect(noisyBox(edge, rng, 0.5)[2]).toBeLessThanOrEqual(5);
  });

  it('is deterministic for a seed and throws on bad input', () => {
    expect(noisyBox(mask, rngOf(4))).toEqual(noisyBox(mask, rngOf(4)));
    expect(() => noisyBox(maskOf(['...']), rngOf(1))).toThrow(/mask is empty/);
    expect(() => noisyBox(mask, rngOf(1), -0.1)).toThrow(/noise must be a finite number ≥ 0/);
    expect(() => noisyBox(mask, rngOf(1), 0.1, -1)).toThrow(/maxNoise must be ≥ 0/);
  });
});
