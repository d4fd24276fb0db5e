import { describe, expect, it } from 'vitest';
import { meanHeadroom, objectHeadroom } from '../src/candidates/headroom.js';

// A 10×40 image (H×W) with a horizontal bar in rows 4–5 over x 0–39; grid points every 10 px on
// row 5 whose Dice rises towards the middle — a long instrument whose ends are poor clicks.
const H = 10;
const W = 40;
const mask = new Uint8Array(H * W);
for (let y = 4; y < 6; y++) for (let x = 0; x < W; x++) mask[y * W + x] = 1;
const gridPx = Float32Array.from([5, 5, 15, 5, 25, 5, 35, 5]);
const dice = [0.2, 0.8, 0.9, 0.4];

describe('objectHeadroom: what a better click could gain', () => {
  it('mean, spread, best and the reach-limited best by hand', () => {
    // reach 0.25 → 10 px in x: each point sees its neighbours.
    const r = objectHeadroom({ gridPx, dice, mask }, [H, W], 0.25)!;
    expect(r.clicks).toBe(4);
    expect(r.mean).toBeCloseTo(0.575, 12);
    expect(r.spread).toBeCloseTo(Math.sqrt((0.375 ** 2 + 0.225 ** 2 + 0.325 ** 2 + 0.175 ** 2) / 4), 12);
    expect(r.best).toBe(0.9);
    // in reach: 0.8, 0.9, 0.9, 0.9
    expect(r.reachBest).toBeCloseTo((0.8 + 0.9 + 0.9 + 0.9) / 4, 12);
    // Centroid x = 19.5; moves of ≤ 10 px: 5 → 15, 15 → 19.5, 25 → 19.5, 35 → 25. The grid point
    // nearest to 19.5 is 15 (4.5 px vs 5.5): Dice 0.8, 0.8, 0.8, 0.9.
    expect(r.towardCentroid).toBeCloseTo((0.8 + 0.8 + 0.8 + 0.9) / 4, 12);
  });

  it('reach 0 changes nothing; a reach over the whole image gives the best everywhere', () => {
    const none = objectHeadroom({ gridPx, dice, mask }, [H, W], 0)!;
    expect(none.reachBest).toBeCloseTo(none.mean, 12);
    expect(none.towardCentroid).toBeCloseTo(none.mean, 12);
    expect(objectHeadroom({ gridPx, dice, mask }, [H, W], 1)!.reachBest).toBeCloseTo(0.9, 12);
  });

  it('no grid points: null; inconsistent inputs: errors that name them', () => {
    expect(objectHeadroom({ gridPx: new Float32Array(0), dice: [], mask }, [H, W], 0.1)).toBeNull();
    expect(() => objectHeadroom({ gridPx, dice: [0.1], mask }, [H, W], 0.1)).toThrow(/4 grid points for 1 Dice values/);
    expect(() => objectHeadroom({ gridPx, dice, mask }, [H, W + 1], 0.1)).toThrow(/mask has 400 values for 10×41/);
    expect(() => objectHeadroom({ gridPx, dice, mask }, [H, W], -1)).toThrow(/reach -1 must be ≥ 0/);
  });

  it('meanHeadroom weighs objects equally', () => {
    const a = objectHeadroom({ gridPx, dice, mask }, [H, W], 0.25)!;
    const b = { ...a, clicks: 1, mean: 0.1, reachBest: 0.2 };
    const m = meanHeadroom([a, b]);
    expect(m.objects).toBe(2);
    expect(m.clicks).toBe(5);
    expect(m.mean).toBeCloseTo((0.575 + 0.1) / 2, 12);
    expect(m.reachBest).toBeCloseTo((a.reachBest + 0.2) / 2, 12);
  });
});
