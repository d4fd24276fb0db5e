/** The viridis colormap against matplotlib's 256-entry table. */
import { describe, expect, it } from 'vitest';
import { rgbHex, viridis, viridisHex } from '../src/figures/colormap.js';

// Entries i of matplotlib's `_viridis_data` (lib/matplotlib/_cm_listed.py), ×255 and rounded;
// entry i sits at t = i/255.
const MPL: [number, [number, number, number]][] = [
  [0, [68, 1, 84]],
  [17, [72, 26, 108]],
  [51, [65, 68, 135]],
  [64, [59, 82, 139]],
  [100, [42, 118, 142]],
  [128, [33, 145, 140]],
  [170, [53, 183, 121]],
  [191, [92, 200, 99]],
  [204, [122, 209, 81]],
  [238, [210, 226, 27]],
  [255, [253, 231, 37]],
];

/** Relative luminance (sRGB → linear, Rec. 709 weights). */
function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

describe('viridis', () => {
  it('hits the end points exactly', () => {
    expect(viridisHex(0)).toBe('#440154');
    expect(viridisHex(1)).toBe('#fde725');
  });

  it('is within 1/255 per channel of matplotlib at sampled table entries', () => {
    for (const [i, ref] of MPL) {
      const c = viridis(i / 255);
      for (let k = 0; k < 3; k++) expect(Math.abs(c[k] - ref[k]), `entry ${i}, channel ${k}: ${c} vs ${ref}`).toBeLessThanOrEqual(1);
    }
  });

  it('is exact at its anchors (every 5th table entry)', () => {
    // matplotlib entries 125 and 50, which are anchors of the interpolation.
    expect(viridis(125 / 255)).toEqual([33, 142, 141]);
    expect(viridis(50 / 255)).toEqual([65, 66, 135]);
  });

  it('gets lighter monotonically (perceptual ordering)', () => {
    let prev = -1;
    for (let i = 0; i <= 100; i++) {
      const l = luminance(viridis(i / 100));
      expect(l, `t = ${i / 100}`).toBeGreaterThan(prev);
      prev = l;
    }
  });

  it('clamps outside 0..1 and rejects NaN', () => {
    expect(viridis(-0.5)).toEqual(viridis(0));
    expect(viridis(7)).toEqual(viridis(1));
    expect(() => viridis(Number.NaN)).toThrow(/NaN/);
  });

  it('formats colours as #rrggbb', () => {
    expect(rgbHex([0, 114, 178])).toBe('#0072b2');
    expect(rgbHex([255, 5, 16])).toBe('#ff0510');
  });
});
