/** MaskView (one predicted mask: area, RGBA, PNG, COCO RLE) and the RLE codec, against hand values and round trips. */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@rpsam2/tensor';
import { MaskView, bestMask } from '../src/predictor/mask-view.js';
import { decodeRle, encodeRle } from '../src/image/coco-rle.js';
import { decodeGreyPng } from '../src/image/codec.js';
import { maskPolygons } from '../src/image/mask-contours.js';
import { maskOf, randomMask } from './support.js';

describe('MaskView', () => {
  // 3 wide, 2 high:  . # #
  //                  . . #
  const data = Uint8Array.from([0, 1, 1, 0, 0, 1]);

  it('exposes the mask, its score and area', () => {
    const v = new MaskView(data, 3, 2, 0.75, 2);
    expect(v.data).toBe(data);
    expect([v.width, v.height, v.score, v.index, v.area]).toEqual([3, 2, 0.75, 2, 3]);
    expect(() => new MaskView(data, 4, 2, 0)).toThrow(/MaskView: 6 values for 4×2/);
  });

  it('thresholds float values (logits or 0/1) at 0, lazily', () => {
    const v = new MaskView(Float32Array.from([-3, 0.2, 5, 0, -0.1, 1]), 3, 2, 0.5);
    expect(Array.from(v.data)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(v.data).toBe(v.data); // computed once
  });

  it('writes COCO uncompressed RLE: column-major runs starting with background', () => {
    // Columns: (0, 0), (1, 0), (1, 1) → 0 0 1 0 1 1.
    expect(new MaskView(data, 3, 2, 1).toRle()).toEqual({ size: [2, 3], counts: [2, 1, 1, 2] });
    // A mask whose first pixel is set starts with an empty background run.
    expect(encodeRle({ width: 2, height: 1, data: Uint8Array.from([1, 0]) })).toEqual({ size: [1, 2], counts: [0, 1, 1] });
    expect(encodeRle({ width: 2, height: 2, data: new Uint8Array(4) })).toEqual({ size: [2, 2], counts: [4] });
  });

  it('round-trips random masks through RLE', () => {
    const rng = new SeededRandom(7);
    for (let t = 0; t < 20; t++) {
      const { width: w, height: h, data: m } = randomMask(rng, 17, 13);
      const back = decodeRle(new MaskView(m, w, h, 0).toRle());
      expect([back.width, back.height]).toEqual([w, h]);
      expect(back.data).toEqual(m);
    }
  });

  it('refuses malformed RLE', () => {
    expect(() => decodeRle({ size: [2, 3], counts: [2, 1] })).toThrow(/RLE runs cover 3 of 6 pixels/);
    expect(() => decodeRle({ size: [2, 3], counts: [2, -1] })).toThrow(/not a non-negative integer/);
  });

  it('renders RGBA with a colour and a background, and a 0/255 PNG', () => {
    const v = new MaskView(data, 3, 2, 1);
    const rgba = v.toRgba([255, 0, 0, 128]);
    expect(rgba.length).toBe(24);
    expect(Array.from(rgba.subarray(0, 8))).toEqual([0, 0, 0, 0, 255, 0, 0, 128]);
    expect(Array.from(v.toRgba(undefined, [1, 2, 3, 4]).subarray(0, 8))).toEqual([1, 2, 3, 4, 255, 255, 255, 255]);
    const png = decodeGreyPng(v.toPng());
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(Array.from(png.data)).toEqual([0, 255, 255, 0, 0, 255]);
    // Node has no ImageData: the error says what to use instead.
    if (typeof ImageData === 'undefined') expect(() => v.toImageData()).toThrow(/use toRgba\(\)/);
  });

  it('bestMask picks the highest score (the first on ties)', () => {
    const vs = [0.2, 0.9, 0.9, 0.1].map((s, i) => new MaskView(data, 3, 2, s, i));
    expect(bestMask(vs).index).toBe(1);
    expect(() => bestMask([])).toThrow(/no masks/);
  });
});

/** Even-odd fill of rings at pixel centres. */
function fill(rings: { points: number[] }[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let inside = false;
      for (const { points: p } of rings) {
        for (let i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
          if (p[i + 1] > py !== p[j + 1] > py && px < ((p[j] - p[i]) * (py - p[i + 1])) / (p[j + 1] - p[i + 1]) + p[i]) inside = !inside;
        }
      }
      out[y * width + x] = inside ? 1 : 0;
    }
  }
  return out;
}

describe('maskPolygons / MaskView.toPolygons', () => {
  it('traces pixel-corner outlines: clockwise outer rings, holes as their own rings', () => {
    expect(maskPolygons(maskOf(['.#.']))).toEqual([{ points: [1, 0, 2, 0, 2, 1, 1, 1], hole: false }]);
    // An L shape: only its six corners.
    expect(maskPolygons(maskOf(['#.', '##']))).toEqual([{ points: [0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 0, 2], hole: false }]);
    const ring = maskPolygons(maskOf(['###', '#.#', '###']));
    expect(ring).toEqual([
      { points: [0, 0, 3, 0, 3, 3, 0, 3], hole: false },
      { points: [1, 1, 1, 2, 2, 2, 2, 1], hole: true },
    ]);
    // Pixels touching only at a corner are separate objects.
    expect(maskPolygons(maskOf(['#.', '.#'])).map((r) => r.hole)).toEqual([false, false]);
    expect(maskPolygons(maskOf(['..', '..']))).toEqual([]);
  });

  it('fills back to the mask (even-odd at pixel centres), random masks', () => {
    const rng = new SeededRandom(11);
    for (let t = 0; t < 30; t++) {
      const { width: w, height: h, data: m } = randomMask(rng, 12, 12);
      const rings = new MaskView(m, w, h, 0).toPolygons();
      expect(fill(rings, w, h)).toEqual(m);
      for (const r of rings) expect(r.points.every(Number.isInteger)).toBe(true);
    }
  });
});
