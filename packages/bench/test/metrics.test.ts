/**
 * Dice / HD95: against the shared fixture (../shared/fixtures/metrics), hand-computed cases, a
 * brute-force reference on random masks, the empty-mask policy, and the speed at 1024×768.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '@rpsam2/data';
import {
  dice,
  emptyMaskHd95,
  maskBoundary,
  maskMetrics,
  percentile,
  surfaceDistances,
  type BinaryMask,
} from '../src/metrics/index.js';
import { checkMetricsFolder, formatCaseCheck } from '../src/metrics/fixture-check.js';

const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/metrics/', import.meta.url));

function mask(w: number, h: number, pixels: [number, number][]): BinaryMask {
  const data = new Uint8Array(w * h);
  for (const [x, y] of pixels) data[y * w + x] = 1;
  return { width: w, height: h, data };
}

function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number): BinaryMask {
  const px: [number, number][] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) px.push([x, y]);
  return mask(w, h, px);
}

/** numpy-style percentile written independently (sorted copy, explicit formula). */
function refPercentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** HD95 by brute force: boundaries by definition, all pairwise distances. */
function bruteHd95(a: BinaryMask, b: BinaryMask): { hd95: number; pooled: number } {
  const { width: w, height: h } = a;
  const edge = (m: BinaryMask) => {
    const pts: [number, number][] = [];
    const at = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && m.data[y * w + x] !== 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (at(x, y) && !(at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1))) pts.push([x, y]);
    return pts;
  };
  const ea = edge(a);
  const eb = edge(b);
  const dir = (p: [number, number][], q: [number, number][]) => p.map(([x, y]) => Math.sqrt(Math.min(...q.map(([u, v]) => (x - u) ** 2 + (y - v) ** 2))));
  const ab = dir(ea, eb);
  const ba = dir(eb, ea);
  return { hd95: Math.max(refPercentile(ab, 95), refPercentile(ba, 95)), pooled: refPercentile([...ab, ...ba], 95) };
}

function randomBlobMask(rng: Rng, w: number, h: number): BinaryMask {
  const data = new Uint8Array(w * h);
  const blobs = rng.intIn(1, 3);
  for (let k = 0; k < blobs; k++) {
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const rx = rng.uniform(1, w / 3);
    const ry = rng.uniform(1, h / 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1) data[y * w + x] = 1;
  }
  if (rng.chance(0.3)) data[rng.int(w * h)] = 1; // a stray pixel
  return { width: w, height: h, data };
}

describe('shared fixture (../shared/fixtures/metrics)', () => {
  it.skipIf(!existsSync(FIXTURE))('every pair matches metrics.json (Dice 1e-6, HD95 1e-3 px; null → policy)', async () => {
    const results = await checkMetricsFolder(FIXTURE);
    expect(results.length).toBe(24);
    const failed = results.filter((r) => !r.ok).map(formatCaseCheck);
    expect(failed).toEqual([]);
    const emptyPred = results.find((r) => r.name === 'empty_pred')!;
    expect(emptyPred.metrics).toMatchObject({ dice: 0, hd95: 160, hd95Pooled: 160, empty: 'pred' }); // √(96² + 128²) = 160
    const both = results.find((r) => r.name === 'both_empty')!;
    expect(both.metrics).toMatchObject({ dice: 1, hd95: 0, hd95Pooled: 0, empty: 'both' });
  });
});

describe('percentile', () => {
  it("matches numpy's linear interpolation on hand-computed values", () => {
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12); // index 2.85
    expect(percentile([0, 1, 2], 95)).toBeCloseTo(1.9, 12); // index 1.9
    expect(percentile([0, 0, 1, 2], 95)).toBeCloseTo(1.85, 12); // index 2.85
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(() => percentile([], 95)).toThrow(/no values/);
  });
});

describe('boundary (MONAI: XOR with the 4-connected erosion, outside = background)', () => {
  it('is the ring of a square and includes pixels on the image border', () => {
    const sq = rect(5, 5, 1, 1, 3, 3);
    expect(Array.from(maskBoundary(sq)).reduce((a, b) => a + b, 0)).toBe(8);
    const full = rect(3, 3, 0, 0, 2, 2); // the whole image: every pixel but the centre touches the outside
    expect(Array.from(maskBoundary(full))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
  });
});

describe('Dice and HD95, hand-computed', () => {
  it('two single pixels 3-4-5 apart', () => {
    const m = maskMetrics(mask(10, 10, [[0, 0]]), mask(10, 10, [[3, 4]]));
    expect(m).toEqual({ dice: 0, hd95: 5, hd95Pooled: 5, empty: 'none' });
  });

  it('a pixel against a 3-pixel bar', () => {
    // gt boundary: all 3 bar pixels (distances to pred 0, 1, 2); pred→gt: [0].
    // hd95 = max(p95[0], p95[0, 1, 2]) = 1.9; pooled p95[0, 0, 1, 2] = 1.85; Dice 2·1/(1 + 3).
    const m = maskMetrics(mask(6, 4, [[0, 0]]), mask(6, 4, [[0, 0], [1, 0], [2, 0]]));
    expect(m.dice).toBe(0.5);
    expect(m.hd95).toBeCloseTo(1.9, 12);
    expect(m.hd95Pooled).toBeCloseTo(1.85, 12);
  });

  it('identical masks: Dice 1, HD95 0', () => {
    const a = rect(20, 15, 3, 4, 12, 10);
    expect(maskMetrics(a, a)).toEqual({ dice: 1, hd95: 0, hd95Pooled: 0, empty: 'none' });
  });

  it('a 4×4 square against the same square shifted right by 2', () => {
    // Dice: overlap 8 of 16 + 16. Boundaries: 12 pixels each; every boundary pixel of one is 0 or
    // 1 or 2 from the other's boundary; checked against brute force below as well.
    const a = rect(12, 8, 2, 2, 5, 5);
    const b = rect(12, 8, 4, 2, 7, 5);
    expect(dice(a, b)).toBe(0.5);
    const bf = bruteHd95(a, b);
    const m = maskMetrics(a, b);
    expect(m.hd95).toBeCloseTo(bf.hd95, 12);
    expect(m.hd95Pooled).toBeCloseTo(bf.pooled, 12);
  });
});

describe('empty-mask policy', () => {
  it('both empty: Dice 1, HD95 0; one empty: Dice 0, HD95 = image diagonal', () => {
    const e = mask(30, 40, []);
    const a = rect(30, 40, 1, 1, 4, 4);
    expect(maskMetrics(e, e)).toEqual({ dice: 1, hd95: 0, hd95Pooled: 0, empty: 'both' });
    expect(maskMetrics(e, a)).toEqual({ dice: 0, hd95: 50, hd95Pooled: 50, empty: 'pred' });
    expect(maskMetrics(a, e)).toEqual({ dice: 0, hd95: 50, hd95Pooled: 50, empty: 'gt' });
    expect(emptyMaskHd95(1024, 768, 'pred')).toBe(1280);
  });

  it('is larger than any HD95 a non-empty pair can have', () => {
    // Opposite corners: the largest possible distance is √((W−1)² + (H−1)²) < √(W² + H²).
    const m = maskMetrics(mask(30, 40, [[0, 0]]), mask(30, 40, [[29, 39]]));
    expect(m.hd95).toBeLessThan(emptyMaskHd95(30, 40, 'pred'));
  });

  it('surfaceDistances refuses empty masks', () => {
    expect(() => surfaceDistances(mask(5, 5, []), mask(5, 5, [[1, 1]]))).toThrow(/empty/);
  });
});

describe('against brute force on random masks', () => {
  it('HD95 and pooled HD95 equal brute force (100 pairs, awkward sizes)', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 100; k++) {
      const w = rng.intIn(3, 37);
      const h = rng.intIn(3, 29);
      const a = randomBlobMask(rng, w, h);
      const b = randomBlobMask(rng, w, h);
      const bf = bruteHd95(a, b);
      const m = maskMetrics(a, b);
      // Equal up to the last bit of the interpolation formula (numpy's _lerp vs a + (b − a)·t).
      expect(Math.abs(m.hd95 - bf.hd95)).toBeLessThan(1e-12 * Math.max(1, bf.hd95));
      expect(Math.abs(m.hd95Pooled - bf.pooled)).toBeLessThan(1e-12 * Math.max(1, bf.pooled));
    }
  });

  it('refuses masks of different sizes', () => {
    expect(() => maskMetrics(mask(4, 4, [[0, 0]]), mask(5, 4, [[0, 0]]))).toThrow(/differ in size/);
  });
});

describe('speed', () => {
  it('a 1024×768 pair of large objects takes well under a second', () => {
    const rng = new Rng(3);
    const w = 1024;
    const h = 768;
    const a = new Uint8Array(w * h);
    const b = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (((x - 500) / 300) ** 2 + ((y - 380) / 200) ** 2 < 1) a[y * w + x] = 1;
        if (((x - 530) / 280) ** 2 + ((y - 360) / 230) ** 2 < 1 && rng.chance(0.999)) b[y * w + x] = 1;
      }
    }
    maskMetrics({ width: w, height: h, data: a }, { width: w, height: h, data: b }); // warm-up
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const m = maskMetrics({ width: w, height: h, data: a }, { width: w, height: h, data: b });
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    console.log(`maskMetrics 1024×768 (two ellipses ~600×450 px): CPU ${cpuMs.toFixed(1)} ms, wall ${(performance.now() - t0).toFixed(1)} ms, dice ${m.dice.toFixed(4)}, hd95 ${m.hd95.toFixed(3)}`);
    // CPU time (the suite shares the machine with other work).
    expect(cpuMs).toBeLessThan(1000);
  });
});
