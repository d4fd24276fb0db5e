import { describe, expect, it } from 'vitest';
import { formatSoakTable, formatVerdict, growthOf, mib, parseSoakArgs, SOAK_BOUNDS, SOAK_DEFAULTS, SOAK_QUICK, soakVerdict, type SoakSample } from '../src/soak.js';
import { UsageError } from '../src/runs/run-args.js';
import { median } from '../src/stats.js';

const MiB = 2 ** 20;
const series = (phase: SoakSample['phase'], live: number[], heap: number[]): SoakSample[] => live.map((l, i) => ({ phase, step: (i + 1) * 10, t: i, liveBytes: l, heapUsed: heap[i] }));

describe('bench soak: pure parts', () => {
  it('parses sizes: defaults, --quick, explicit values over --quick, and bad values', () => {
    expect(parseSoakArgs([])).toMatchObject({ ...SOAK_DEFAULTS, json: false, quick: false });
    expect(parseSoakArgs(['--quick', '--json'])).toMatchObject({ ...SOAK_QUICK, json: true, quick: true });
    expect(parseSoakArgs(['--quick', '--predictions', '20', '--train-steps', '3'])).toMatchObject({ predictions: 20, trainSteps: 3 });
    expect(() => parseSoakArgs(['--predictions', '0'])).toThrow(UsageError);
    expect(() => parseSoakArgs(['--predictions', '9'])).toThrow(/at least 10/);
    expect(parseSoakArgs(['--train-steps', '0']).trainSteps).toBe(0);
    expect(() => parseSoakArgs(['--train-steps', '2'])).toThrow(/0 \(no training\) or at least 3/);
    expect(() => parseSoakArgs(['--train-steps', 'x'])).toThrow(/--train-steps needs a non-negative integer, got 'x'/);
    expect(() => parseSoakArgs(['--bogus'])).toThrow(UsageError);
    expect(() => parseSoakArgs(['extra'])).toThrow(UsageError);
  });

  it('median: odd, even, empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('growth: warm-up dropped, first and last windows compared by their medians', () => {
    // Warm-up (first 20%: 2 of 10) fills the pool; flat afterwards → no growth.
    const flat = series('predict', [0, 50, 100, 100, 100, 100, 100, 100, 100, 100], Array(10).fill(10 * MiB));
    const g = growthOf(flat, 'liveBytes', 0);
    expect(g).toMatchObject({ warmup: 2, window: 3, first: 100, last: 100, growth: 0, ok: true });
    // One byte per sample after warm-up: a leak, caught at a 0-byte bound.
    const leak = series('predict', [0, 50, 100, 101, 102, 103, 104, 105, 106, 107], Array(10).fill(0));
    expect(growthOf(leak, 'liveBytes', 0)).toMatchObject({ window: 3, first: 101, last: 106, growth: 5, ok: false });
    // A single spike in the last window does not move a median of several samples.
    const spike = series('train', Array(13).fill(1), [...Array(12).fill(10 * MiB), 200 * MiB]);
    expect(growthOf(spike, 'heapUsed', SOAK_BOUNDS.heapUsed)).toMatchObject({ window: 3, growth: 0, ok: true });
    expect(() => growthOf(series('train', [1, 1], [1, 1]), 'liveBytes', 0)).toThrow(/at least 2 are needed/);
  });

  it('verdict: both metrics per phase; the table keeps first and last samples of each phase', () => {
    const s = [...series('predict', Array(10).fill(5 * MiB), Array(10).fill(20 * MiB)), ...series('train', Array(6).fill(7 * MiB), [20, 30, 40, 50, 60, 200].map((x) => x * MiB))];
    const v = soakVerdict(s);
    expect(v.map((g) => `${g.phase}:${g.metric}:${g.ok}`)).toEqual(['predict:liveBytes:true', 'predict:heapUsed:true', 'train:liveBytes:true', 'train:heapUsed:false']);
    const lines = formatVerdict(v);
    expect(lines[3]).toMatch(/^FAIL train heap used: 35\.00 → 130\.00 MiB \(\+95\.00 MiB; bound \+64\.00 MiB/);
    expect(lines[0]).toMatch(/^ok {3}predict pool live bytes: 5\.00 → 5\.00 MiB \(\+0\.00 MiB; bound \+0\.00 MiB/);
    const table = formatSoakTable(s, 3);
    expect(table.slice(0, 2)).toEqual(['| phase | step | time (s) | pool live (MiB) | heap used (MiB) |', '| --- | ---: | ---: | ---: | ---: |']);
    expect(table.slice(2).map((l) => l.split(' | ').slice(0, 2).join(' '))).toEqual(['| predict 10', '| predict 60', '| predict 100', '| train 10', '| train 40', '| train 60']);
    expect(mib(-MiB, true)).toBe('-1.00');
  });
});
