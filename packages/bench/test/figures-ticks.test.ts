/** Nice axis ticks (hand-computed cases). */
import { describe, expect, it } from 'vitest';
import { formatLogTick, formatTick, logTicks, niceDomain, niceStep, niceTicks } from '../src/figures/ticks.js';

describe('niceStep', () => {
  it('picks 1, 2 or 5 × 10^k, the smallest with at most `target` intervals', () => {
    expect(niceStep(1, 5)).toBe(0.2); // raw 0.2 (floating 2.0000000000000004 × 0.1 must not become 5)
    expect(niceStep(0.25, 5)).toBe(0.05);
    expect(niceStep(0.3, 5)).toBe(0.1); // raw 0.06 → 0.1
    expect(niceStep(1000, 5)).toBe(200);
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(7, 5)).toBe(2); // raw 1.4 → 2
    expect(niceStep(30, 5)).toBe(10); // raw 6 → 10
    expect(() => niceStep(0, 5)).toThrow(/span/);
    expect(() => niceStep(1, 0)).toThrow(/target/);
  });
});

describe('niceTicks', () => {
  it('gives the usual 0..1 axis', () => {
    const t = niceTicks(0, 1, 5);
    expect(t.values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(t.decimals).toBe(1);
  });

  it('keeps ticks inside the range, exactly representable', () => {
    expect(niceTicks(0.62, 0.87, 5)).toEqual({ values: [0.65, 0.7, 0.75, 0.8, 0.85], step: 0.05, decimals: 2 });
    // 3 × 0.1 is 0.30000000000000004 in floating point; the tick must be 0.3.
    expect(niceTicks(0, 0.3, 3).values).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(-3, 7, 5).values).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(0, 1000, 5).values).toEqual([0, 200, 400, 600, 800, 1000]);
  });

  it('widens a zero-width range', () => {
    expect(niceTicks(0, 0, 5).values).toEqual([-0.4, -0.2, 0, 0.2, 0.4]);
  });

  it('rejects non-finite or reversed ranges', () => {
    expect(() => niceTicks(Number.NaN, 1)).toThrow(/finite/);
    expect(() => niceTicks(2, 1)).toThrow(/reversed/);
  });
});

describe('niceDomain', () => {
  it('extends the range to nice bounds', () => {
    const d = niceDomain(0.62, 0.87, 5);
    expect([d.lo, d.hi]).toEqual([0.6, 0.9]);
    expect(d.values).toEqual([0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]);
    expect(niceDomain(0, 0.93, 5)).toMatchObject({ lo: 0, hi: 1 });
  });

  it('gives a constant series an axis around it', () => {
    // [0.3, 0.3] → ±5 % → [0.285, 0.315], step 0.01 → [0.28, 0.32].
    expect(niceDomain(0.3, 0.3, 5).values).toEqual([0.28, 0.29, 0.3, 0.31, 0.32]);
  });
});

describe('formatTick', () => {
  it('writes the step decimals, a true minus, never −0', () => {
    expect(formatTick(0.5, 2)).toBe('0.50');
    expect(formatTick(-0.5, 1)).toBe('\u22120.5');
    expect(formatTick(-0.0001, 2)).toBe('0.00');
    expect(formatTick(1200, 0)).toBe('1200');
  });
});

describe('logTicks', () => {
  it('uses 1-2-5 ticks inside a padded range of at most two decades', () => {
    // log10: [−1.081, 0.146], padded by 5 % of 1.227 → [0.0721, 1.612].
    const t = logTicks(0.083, 1.4);
    expect(t.values).toEqual([0.1, 0.2, 0.5, 1]);
    expect(t.lo).toBeCloseTo(10 ** (Math.log10(0.083) - 0.05 * Math.log10(1.4 / 0.083)), 12);
  });

  it('uses powers of ten over wider ranges', () => {
    expect(logTicks(1e-4, 1).values).toEqual([1e-4, 1e-3, 0.01, 0.1, 1]);
  });

  it('grows the domain to two ticks when the data sit between ticks', () => {
    // [0.3, 0.4]: no 1-2-5 value inside → 0.2 below and 0.5 above.
    const t = logTicks(0.3, 0.4);
    expect(t.values).toEqual([0.2, 0.5]);
    expect(t.lo).toBeCloseTo(0.2, 12);
    expect(t.hi).toBeCloseTo(0.5, 12);
  });

  it('rejects non-positive bounds', () => {
    expect(() => logTicks(0, 1)).toThrow(/positive/);
  });

  it('labels plain decimals in [0.001, 10 000) and exponents outside', () => {
    expect(formatLogTick(0.002)).toBe('0.002');
    expect(formatLogTick(50)).toBe('50');
    expect(formatLogTick(1e-5)).toBe('1e\u22125');
    expect(formatLogTick(20000)).toBe('2e4');
  });
});
