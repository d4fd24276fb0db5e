/**
 * Stratified subsets of the OOD training split: the frame count is round(share · N), every
 * class's chosen objects are within one object of share · total, and the subset is deterministic
 * by seed (another seed, other frames).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '@rpsam2/data';
import { stratifiedSubset, type StratumFrame } from '../src/ood/stratified.js';

const CLASSES = ['Cannula', 'Cap. Cystotome', 'Tissue Forceps', 'Primary Knife', 'Ph. Handpiece', 'Lens Injector', 'I/A Handpiece', 'Secondary Knife', 'Micromanipulator', 'Cap. Forceps'];

/** N frames with 0–3 distinct classes each, skewed class frequencies (as CaDIS). */
function frames(n: number, seed: number): StratumFrame[] {
  const rng = Rng.derive('strat-test', seed);
  return Array.from({ length: n }, (_, i) => {
    const k = rng.intIn(0, 3);
    const cls = new Set<string>();
    while (cls.size < k) cls.add(CLASSES[Math.min(CLASSES.length - 1, Math.floor(CLASSES.length * rng.uniform(0, 1) ** 2))]);
    return { id: `Video${(i % 7) + 1}/f${i}.png`, classes: [...cls] };
  });
}

describe('stratifiedSubset', () => {
  it('keeps every class within one object of its share, with round(share · N) frames', () => {
    for (const [n, seed] of [
      [40, 1],
      [200, 2],
      [1000, 3],
    ]) {
      const fs = frames(n, seed);
      for (const share of [0, 0.05, 0.1, 0.2, 0.4, 0.6, 1]) {
        const s = stratifiedSubset(fs, share, 7);
        expect(s.ids).toHaveLength(Math.round(share * n));
        expect(new Set(s.ids).size).toBe(s.ids.length);
        for (const c of s.classes) {
          const chosen = fs.filter((f) => s.ids.includes(f.id)).reduce((a, f) => a + f.classes.filter((k) => k === c.key).length, 0);
          expect(chosen).toBe(c.chosen);
          expect(c.target).toBeCloseTo(share * c.total, 12);
          expect(Math.abs(c.chosen - c.target), `${c.key} at ${share} of ${n}`).toBeLessThanOrEqual(1);
        }
        expect(s.maxDeviation).toBeLessThanOrEqual(1);
      }
    }
  });

  it('is deterministic by seed, and another seed picks other frames', () => {
    const fs = frames(300, 5);
    const a = stratifiedSubset(fs, 0.2, 1);
    expect(stratifiedSubset(fs, 0.2, 1).ids).toEqual(a.ids);
    const b = stratifiedSubset(fs, 0.2, 2);
    expect(b.ids).not.toEqual(a.ids);
    expect(b.maxDeviation).toBeLessThanOrEqual(1);
  });

  it('refuses a share outside [0, 1]', () => {
    expect(() => stratifiedSubset(frames(10, 1), 1.5, 0)).toThrow(/share must be in \[0, 1\]/);
  });
});
