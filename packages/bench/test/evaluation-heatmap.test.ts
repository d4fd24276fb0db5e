/** Heatmap data: which objects are drawn, the grid spacing, the click spread and the cache ids (hand-computed). */
import { describe, expect, it } from 'vitest';
import { chooseHeatmapObjects, heatmapSpacing } from '../src/evaluation/click-heatmap.js';
import { frameCacheId } from '../src/evaluation/dataset-adapter.js';
import { clickSpread, perObjectStats } from '../src/evaluation/object-stats.js';

const s = (image: string, object: number, cls: string, seed: number, dice: number) => ({ image, object, class: cls, seed, dice, hd95: 0 });

describe('per-object statistics', () => {
  // Object a#0 (CC): Dice 0.2, 0.4, 0.6 → mean 0.4, std 0.2; b#1 (CC): 0.5 × 3 → std 0;
  // c#0 (PhT): 0.1, 0.9, 0.5 → mean 0.5, std 0.4.
  const samples = [s('a', 0, 'CC', 0, 0.2), s('a', 0, 'CC', 1, 0.4), s('a', 0, 'CC', 2, 0.6), s('b', 1, 'CC', 0, 0.5), s('b', 1, 'CC', 1, 0.5), s('b', 1, 'CC', 2, 0.5), s('c', 0, 'PhT', 2, 0.5), s('c', 0, 'PhT', 0, 0.1), s('c', 0, 'PhT', 1, 0.9)];

  it('means and std over seeds, and the spread per class and overall', () => {
    const o = perObjectStats(samples);
    expect(o.map((x) => x.key)).toEqual(['a#0', 'b#1', 'c#0']);
    expect(o[0].dice).toBeCloseTo(0.4, 14);
    expect(o[0].diceStd).toBeCloseTo(0.2, 14);
    expect(o[2].seeds).toEqual([0, 1, 2]);
    expect(o[2].diceStd).toBeCloseTo(0.4, 14);
    const sp = clickSpread(samples, ['PhT', 'CC']);
    expect(sp.mean).toBeCloseTo((0.2 + 0 + 0.4) / 3, 14);
    expect(sp.objects).toBe(3);
    expect(sp.perClass.map((p) => p.classKey)).toEqual(['PhT', 'CC']);
    expect(sp.perClass[1].mean).toBeCloseTo(0.1, 14);
  });

  it('picks the most spread object of each class first', () => {
    expect(chooseHeatmapObjects(samples, 2).map((p) => `${p.image}#${p.object}`)).toEqual(['c#0', 'a#0']);
    expect(chooseHeatmapObjects(samples, 3).map((p) => `${p.image}#${p.object}`)).toEqual(['c#0', 'a#0', 'b#1']);
    expect(chooseHeatmapObjects(samples, 0)).toEqual([]);
  });

  it('draws the requested classes first (absent classes are skipped)', () => {
    expect(chooseHeatmapObjects(samples, 2, ['CC']).map((p) => `${p.image}#${p.object}`)).toEqual(['a#0', 'c#0']);
    expect(chooseHeatmapObjects(samples, 1, ['LI', 'CC']).map((p) => `${p.image}#${p.object}`)).toEqual(['a#0']);
    expect(chooseHeatmapObjects(samples, 3, ['CC', 'CC']).map((p) => `${p.image}#${p.object}`)).toEqual(['a#0', 'c#0', 'b#1']);
  });

  it('refuses a repeated seed of one object', () => {
    expect(() => perObjectStats([s('a', 0, 'CC', 0, 0.2), s('a', 0, 'CC', 0, 0.3)])).toThrow(/two samples of seed 0/);
  });
});

describe('heatmap spacing and cache ids', () => {
  it('spaces the grid for about the target number of clicks', () => {
    const data = new Uint8Array(100 * 100);
    for (let i = 0; i < 1600; i++) data[i] = 1; // 1600 px
    expect(heatmapSpacing({ width: 100, height: 100, data }, 100)).toBe(4);
    expect(heatmapSpacing({ width: 100, height: 100, data }, 10000)).toBe(1);
  });

  it('maps frame ids to cache-safe ids', () => {
    expect(frameCacheId('case_0001/case0001_01.png')).toBe('case_0001__case0001_01.png');
    expect(frameCacheId('Video 1/frame:2.png')).toBe('Video-x201__frame-x3a2.png');
    expect(frameCacheId('.hidden/x')).toBe('_.hidden__x');
  });
});
