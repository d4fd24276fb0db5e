import { describe, expect, it } from 'vitest';
import { gridPoints, selectCandidates } from '../src/candidates/candidates.js';
import { normalizeClicks, sampleClicks } from '../src/candidates/clicks.js';

describe('candidate grid', () => {
  it('takes pixel indices k·g + ⌊g/2⌋ on both axes, row-major, where the mask is set', () => {
    const h = 20;
    const w = 27;
    const mask = new Uint8Array(h * w);
    // A rectangle covering columns 3..17 and rows 5..19.
    for (let y = 5; y < 20; y++) for (let x = 3; x < 18; x++) mask[y * w + x] = 1;
    const pts = Array.from(gridPoints(mask, h, w, 8));
    // Grid x ∈ {4, 12, 20}, y ∈ {4, 12}: inside are (4, 12), (12, 12).
    expect(pts).toEqual([4, 12, 12, 12]);
    // Step 5: x ∈ {2, 7, 12, 17, 22}, y ∈ {2, 7, 12, 17}; inside x ∈ {7, 12, 17}, y ∈ {7, 12, 17}.
    const p5 = Array.from(gridPoints(mask, h, w, 5));
    expect(p5.length / 2).toBe(9);
    expect(p5.slice(0, 6)).toEqual([7, 7, 12, 7, 17, 7]);
    // Odd step: offset ⌊g/2⌋.
    expect(Array.from(gridPoints(Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1]), 3, 3, 3))).toEqual([1, 1]);
    expect(gridPoints(new Uint8Array(h * w), h, w, 8).length).toBe(0);
    expect(() => gridPoints(mask, h, w + 1, 8)).toThrow(/540 values, expected 20×28/);
  });

  it('keeps the grid points within ε of the best Dice', () => {
    expect(Array.from(selectCandidates([0.5, 0.8, 0.796, 0.795, 0.7949], 0.005))).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(selectCandidates([0.3], 0.005))).toEqual([1]);
    expect(Array.from(selectCandidates([0.1, 0.2], 0))).toEqual([0, 1]);
  });
});

describe('click sampling', () => {
  it('draws distinct mask pixels, seeded', () => {
    const h = 6;
    const w = 7;
    const mask = new Uint8Array(h * w);
    for (const i of [3, 10, 11, 17, 18, 19, 25, 30]) mask[i] = 1;
    const a = sampleClicks(mask, h, w, 5, 42);
    const b = sampleClicks(mask, h, w, 5, 42);
    const c = sampleClicks(mask, h, w, 5, 43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const idx = new Set<number>();
    for (let i = 0; i < a.length; i += 2) {
      const k = a[i + 1] * w + a[i];
      expect(mask[k]).toBe(1);
      idx.add(k);
    }
    expect(idx.size).toBe(5);
    // More clicks than mask pixels: every pixel once.
    expect(sampleClicks(mask, h, w, 50, 1).length).toBe(16);
  });

  it('normalises (x, y) pixel indices to (x/W, y/H)', () => {
    expect(Array.from(normalizeClicks([60, 249, 200, 150], 300, 400))).toEqual([0.15, 0.83, 0.5, 0.5].map(Math.fround));
  });
});
