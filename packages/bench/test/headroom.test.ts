import { describe, expect, it } from 'vitest';
import { formatHeadroom, headroomRows, parseHeadroomArgs } from '../src/headroom.js';
import { UsageError } from '../src/runs/run-args.js';

const h = (mean: number, clicks = 2) => ({ clicks, mean, spread: 0.1, best: mean + 0.1, reachBest: mean + 0.05, towardCentroid: mean + 0.02 });

describe('bench headroom', () => {
  it('parses the cache folder and the reach; refuses what it cannot use', () => {
    const a = parseHeadroomArgs(['runs/x/cache', '--reach', '0.2', '--json']) as unknown as { cacheDir: string; reach: number; json: boolean };
    expect([a.cacheDir, a.reach, a.json]).toEqual(['runs/x/cache', 0.2, true]);
    expect((parseHeadroomArgs(['c']) as unknown as { reach: number }).reach).toBe(0.1);
    expect(() => parseHeadroomArgs([])).toThrow(UsageError);
    expect(() => parseHeadroomArgs(['a', 'b'])).toThrow(/one feature-cache folder \(got 2\)/);
    expect(() => parseHeadroomArgs(['c', '--reach', '2'])).toThrow(/--reach needs a number in \[0, 1\]/);
  });

  it('one row per class (sorted) and the mean over all objects last, objects weighing equally', () => {
    const rows = headroomRows([
      { className: 'S', headroom: h(0.5, 3) },
      { className: 'CC', headroom: h(0.7) },
      { className: 'S', headroom: h(0.9) },
    ]);
    expect(rows.map((r) => r.className)).toEqual(['CC', 'S', 'all']);
    expect(rows[1].mean).toBeCloseTo(0.7, 12);
    expect(rows[1].clicks).toBe(5);
    expect(rows[2].objects).toBe(3);
    expect(rows[2].reachBest).toBeCloseTo(0.75, 12);
    const md = formatHeadroom(rows, 0.1);
    expect(md[0]).toContain('best in reach (0.1)');
    expect(md[4]).toBe('| all | 3 | 7 | 0.700 | 0.100 | 0.800 | 0.750 | 0.720 |');
  });
});
