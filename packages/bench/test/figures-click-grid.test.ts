/** Grid clicks over hand-made masks. */
import { describe, expect, it } from 'vitest';
import type { BinaryMask } from '@rpsam2/data';
import { clickGrid, clickGridWithSpacing, gridPositions } from '../src/figures/click-grid.js';

/** A W×H mask whose foreground is where `inside(x, y)` holds. */
function maskOf(w: number, h: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (inside(x, y)) data[y * w + x] = 1;
  return { width: w, height: h, data };
}

const rect = (w: number, h: number, x0: number, y0: number, x1: number, y1: number) => maskOf(w, h, (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1);

describe('gridPositions', () => {
  it('centres the grid on the span', () => {
    expect(gridPositions(10, 30, 5)).toEqual([10, 15, 20, 25, 30]);
    // Span 22: 5 columns cover 20, 1 px left over on each side.
    expect(gridPositions(10, 32, 5)).toEqual([11, 16, 21, 26, 31]);
    // A single column sits in the middle (12.5 rounds half up).
    expect(gridPositions(10, 15, 10)).toEqual([13]);
    expect(gridPositions(4, 4, 3)).toEqual([4]);
  });
});

describe('clickGrid', () => {
  it('covers a rectangle row-major at the given spacing', () => {
    const m = rect(40, 20, 10, 5, 30, 15);
    const xs = [10, 15, 20, 25, 30];
    const expected = [5, 10, 15].flatMap((y) => xs.map((x) => ({ x, y })));
    expect(clickGrid(m, 5)).toEqual(expected);
  });

  it('is centred on the bounding box (mean of the grid = box centre)', () => {
    const m = rect(50, 30, 10, 3, 32, 25); // x span 22, y span 22
    const clicks = clickGrid(m, 5);
    expect(clicks.length).toBe(25);
    const mx = clicks.reduce((s, c) => s + c.x, 0) / clicks.length;
    const my = clicks.reduce((s, c) => s + c.y, 0) / clicks.length;
    expect(mx).toBe((10 + 32) / 2);
    expect(my).toBe((3 + 25) / 2);
  });

  it('keeps exactly the grid points that fall inside the mask (disk)', () => {
    const inDisk = (x: number, y: number) => (x - 20) ** 2 + (y - 20) ** 2 <= 100;
    const m = maskOf(41, 41, inDisk);
    const clicks = clickGrid(m, 4);
    // Bounding box 10..30 on both axes, span 20 → columns 10, 14, …, 30 (no offset).
    const ref: { x: number; y: number }[] = [];
    for (let y = 10; y <= 30; y += 4) for (let x = 10; x <= 30; x += 4) if (inDisk(x, y)) ref.push({ x, y });
    expect(clicks).toEqual(ref);
    expect(ref.length).toBeLessThan(36); // the corners of the grid are outside
    for (const c of clicks) expect(m.data[c.y * 41 + c.x]).toBe(1);
  });

  it('skips grid points in the notch of an L shape', () => {
    // L: a 21×21 box minus its top-right 11×11 quarter.
    const m = maskOf(30, 30, (x, y) => x >= 0 && x <= 20 && y >= 0 && y <= 20 && !(x > 10 && y < 10));
    const clicks = clickGrid(m, 10);
    expect(clicks).toEqual([
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 0, y: 10 },
      { x: 10, y: 10 },
      { x: 20, y: 10 },
      { x: 0, y: 20 },
      { x: 10, y: 20 },
      { x: 20, y: 20 },
    ]);
  });

  it('halves the spacing until at least 8 points fall inside', () => {
    // 6×6 square at x 3..8, y 2..7 (span 5): spacing 10 gives 1 point, 5 gives 4, 2.5 gives 9.
    const m = rect(12, 10, 3, 2, 8, 7);
    const r = clickGridWithSpacing(m, 10);
    expect(r.spacing).toBe(2.5);
    // Positions 3, 5.5 → 6, 8 and 2, 4.5 → 5, 7 (halves round up).
    expect(r.clicks).toEqual([2, 5, 7].flatMap((y) => [3, 6, 8].map((x) => ({ x, y }))));
    // Already enough points: the spacing stays.
    expect(clickGridWithSpacing(rect(40, 20, 10, 5, 30, 15), 5).spacing).toBe(5);
  });

  it('stops at 1 px, returning every pixel of a tiny mask', () => {
    const m = maskOf(8, 8, (x, y) => (x === 2 && y === 3) || (x === 3 && y === 3) || (x === 3 && y === 4));
    const r = clickGridWithSpacing(m, 16);
    expect(r.spacing).toBe(1);
    expect(r.clicks).toEqual([
      { x: 2, y: 3 },
      { x: 3, y: 3 },
      { x: 3, y: 4 },
    ]);
  });

  it('rejects empty masks and bad spacings', () => {
    expect(() => clickGrid(maskOf(5, 5, () => false), 4)).toThrow(/5×5 mask is empty/);
    expect(() => clickGrid(rect(5, 5, 1, 1, 3, 3), 0.5)).toThrow(/spacing must be a finite number ≥ 1/);
    expect(() => clickGrid(rect(5, 5, 1, 1, 3, 3), Number.NaN)).toThrow(/spacing/);
    expect(() => clickGrid({ width: 4, height: 4, data: new Uint8Array(3) }, 2)).toThrow(/3 values for a 4×4 mask/);
  });
});
