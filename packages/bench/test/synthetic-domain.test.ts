/**
 * The synthetic CaDIS-like domain differs from the default one where it matters to a model: a
 * warmer (less blue) colour cast, blurrier frames, more reflections — while the default look's
 * frames stay exactly what they were (the default models were trained on them).
 */
import { describe, expect, it } from 'vitest';
import { CADIS_LOOK, DEFAULT_LOOK, CADIS_TASK2_CLASSES } from '@rpsam2/data';
import { cadisClassOf, cadisLabelMap, SYNTHETIC_TO_CADIS_RAW } from '../src/synthetic/cadis-layout.js';
import { renderSyntheticFrame, SYNTHETIC_CLASSES } from '../src/synthetic/index.js';

/**
 * Mean B/R ratio, and the sharpness: the mean absolute difference between horizontally adjacent
 * pixels minus the same on 2×-subsampled pixel pairs two apart, in green — blur lowers the first
 * more than the second, while sensor noise (independent per pixel) adds the same to both.
 */
function stats(look: typeof DEFAULT_LOOK) {
  let br = 0;
  let sharp = 0;
  const n = 8;
  for (let s = 0; s < n; s++) {
    const f = renderSyntheticFrame({ width: 160, height: 90, seed: 100 + s, classes: ['KF', 'S'], look });
    const g = (x: number, y: number) => f.rgb[3 * (y * f.width + x) + 1];
    let r = 0;
    let b = 0;
    for (let i = 0; i < f.width * f.height; i++) {
      r += f.rgb[3 * i];
      b += f.rgb[3 * i + 2];
    }
    let d1 = 0;
    let d2 = 0;
    let m = 0;
    for (let y = 0; y < f.height; y++) {
      for (let x = 2; x < f.width; x++) {
        d1 += Math.abs(g(x, y) - g(x - 1, y));
        d2 += Math.abs(g(x, y) - g(x - 2, y));
        m++;
      }
    }
    br += b / r / n;
    // Ratio of one-pixel to two-pixel differences: 1 for white noise, 0.5 for a linear ramp (smooth).
    sharp += d1 / d2 / n;
  }
  return { br, sharp };
}

describe('synthetic domains', () => {
  it('the CaDIS-like look is warmer and blurrier than the default one', () => {
    const d = stats(DEFAULT_LOOK);
    const c = stats(CADIS_LOOK);
    expect(c.br).toBeLessThan(0.85 * d.br);
    expect(c.sharp).toBeLessThan(d.sharp);
  });

  it('the default look is the default (frames unchanged when it is given)', () => {
    const o = { width: 120, height: 90, seed: 7, classes: ['PhT'] };
    expect(Buffer.from(renderSyntheticFrame({ ...o, look: DEFAULT_LOOK }).rgb).equals(Buffer.from(renderSyntheticFrame(o).rgb))).toBe(true);
  });

  it('maps the 10 shapes onto the 10 CaDIS Task II instrument classes and writes them as label ids', () => {
    const classes = SYNTHETIC_CLASSES.map(cadisClassOf);
    expect(new Set(classes).size).toBe(10);
    expect(new Set(classes)).toEqual(new Set(CADIS_TASK2_CLASSES.filter((k) => k.kind === 'instrument').map((k) => k.key)));
    const f = renderSyntheticFrame({ width: 160, height: 90, seed: 3, classes: ['IA', 'G'], look: CADIS_LOOK });
    const labels = cadisLabelMap(f);
    for (const o of f.objects.filter((x) => x.kind === 'instrument')) {
      const id = SYNTHETIC_TO_CADIS_RAW[o.classKey];
      expect(labels.filter((v) => v === id).length).toBe(o.area);
    }
    expect(() => cadisClassOf('XX')).toThrow(/no CaDIS class for shape 'XX'/);
  });
});
