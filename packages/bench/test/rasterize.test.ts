/** Polygon rasterisation (pixel centres, even-odd, half-open), COCO RLE, PNG encoding, mask tracing. */
import { describe, expect, it } from 'vitest';
import { decodeGreyPng, decodeImage } from '@rpsam2/sam2';
import { Rng, traceMask, rasterizeRings } from '@rpsam2/data';
import { decodeRle, encodeRle } from '../src/datasets/coco-rle.js';
import { decodeLabelPng } from '../src/datasets/image-io.js';
import { encodePng, readPngInfo } from '../src/datasets/png.js';
import { compressCounts, palettePng } from './helpers/fixtures.js';

const count = (a: Uint8Array) => a.reduce((s, v) => s + (v ? 1 : 0), 0);
const pixels = (a: Uint8Array, w: number) => [...a].flatMap((v, i) => (v ? [[i % w, Math.floor(i / w)]] : []));

/** A mask of random size (1..maxW × 1..maxH) whose pixels are set each with probability `p()`. */
function randomMask(rng: Rng, maxW: number, maxH: number, p: () => number): { width: number; height: number; data: Uint8Array } {
  const width = rng.intIn(1, maxW);
  const height = rng.intIn(1, maxH);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rng.chance(p()) ? 1 : 0;
  return { width, height, data };
}

describe('rasterizeRings', () => {
  it('an axis-aligned rectangle with integer corners covers exactly the enclosed pixels', () => {
    const m = rasterizeRings([[[2, 1], [6, 1], [6, 4], [2, 4]]], 10, 8);
    // Pixels x 2..5, y 1..3 (centres 2.5..5.5, 1.5..3.5).
    expect(count(m)).toBe(12);
    expect(pixels(m, 10)).toContainEqual([2, 1]);
    expect(pixels(m, 10)).toContainEqual([5, 3]);
    expect(pixels(m, 10)).not.toContainEqual([6, 1]);
  });

  it('tests pixel centres: a triangle, hand-counted', () => {
    // Right triangle (0,0)-(4,0)-(0,4): centre (x+.5, y+.5) inside when x + y + 1 < 4 (strict: the
    // hypotenuse passes through centres with x + y + 1 = 4; half-open rule: excluded on the right).
    const m = rasterizeRings([[[0, 0], [4, 0], [0, 4]]], 6, 6);
    const expected: number[][] = [];
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) if (x + y + 1 < 4) expected.push([x, y]);
    expect(pixels(m, 6)).toEqual(expected);
  });

  it('even-odd: an interior ring is a hole, the winding direction does not matter', () => {
    const outer = [[0, 0], [8, 0], [8, 8], [0, 8]];
    const hole = [[2, 2], [2, 6], [6, 6], [6, 2]]; // same orientation as... either way
    const m = rasterizeRings([outer, hole], 8, 8);
    expect(count(m)).toBe(64 - 16);
    expect(m[3 * 8 + 3]).toBe(0);
    const m2 = rasterizeRings([outer, [...hole].reverse()], 8, 8);
    expect([...m2]).toEqual([...m]);
  });

  it('half-open: two polygons sharing an edge never share a pixel and tile the union', () => {
    const rng = new Rng(4);
    for (let k = 0; k < 20; k++) {
      // A quad split along a random diagonal-ish line with non-integer vertices.
      const a = [rng.uniform(0, 3), rng.uniform(0, 3)];
      const b = [rng.uniform(9, 12), rng.uniform(0, 3)];
      const c = [rng.uniform(9, 12), rng.uniform(9, 12)];
      const d = [rng.uniform(0, 3), rng.uniform(9, 12)];
      const whole = rasterizeRings([[a, b, c, d]], 13, 13);
      const left = rasterizeRings([[a, b, d]], 13, 13);
      const right = rasterizeRings([[b, c, d]], 13, 13);
      for (let i = 0; i < whole.length; i++) {
        expect(left[i] && right[i]).toBeFalsy();
        expect(left[i] || right[i]).toBe(whole[i]);
      }
    }
  });

  it('clips to the image and sets only `value`', () => {
    const out = new Uint8Array(16).fill(7);
    rasterizeRings([[[-5, -5], [2, -5], [2, 2], [-5, 2]]], 4, 4, out, 3);
    expect([...out]).toEqual([3, 3, 7, 7, 3, 3, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
  });
});

describe('COCO RLE', () => {
  it('decodes column-major uncompressed counts', () => {
    // 3×2 (h = 2, w = 3), column-major: col0 = (0,0),(0,1); runs: 1 bg, 2 fg, 3 bg
    // → pixels (x=0,y=1) and (x=1,y=0) are foreground.
    const m = decodeRle({ size: [2, 3], counts: [1, 2, 3] });
    expect([...m.data]).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('compressed strings and uncompressed counts agree; encode → decode round-trips', () => {
    const rng = new Rng(8);
    for (let k = 0; k < 20; k++) {
      const m = randomMask(rng, 40, 30, () => 0.3);
      const rle = encodeRle(m);
      expect([...decodeRle(rle).data]).toEqual([...m.data]);
      const s = compressCounts(rle.counts as number[]);
      expect([...decodeRle({ size: rle.size, counts: s }).data]).toEqual([...m.data]);
    }
  });

  it('a pycocotools string decoded by hand', () => {
    // counts [2, 3, 4, 1]: '2', '3', '4' as they are; the 4th is stored as 1 − 3 = −2, one
    // 5-bit group 11110 with the sign bit set → chr(30 + 48) = 'N'.
    expect(compressCounts([2, 3, 4, 1])).toBe('234N');
    // 2×5 image, column-major: 2 background, 3 foreground (x1y0, x1y1, x2y0), 4 background, 1 (x4y1).
    expect([...decodeRle({ size: [2, 5], counts: '234N' }).data]).toEqual([0, 1, 1, 0, 0, 0, 1, 0, 0, 1]);
  });

  it('rejects runs that do not cover the image', () => {
    expect(() => decodeRle({ size: [2, 2], counts: [1, 2] }, 'x.json')).toThrow(/x.json: RLE runs cover 3 of 4 pixels/);
    expect(() => decodeRle({ size: [2, 2], counts: [5] })).toThrow(/more than/);
  });
});

describe('PNG', () => {
  it('encodes grey and RGB that the shared decoder (fast-png) reads back exactly', () => {
    const rng = new Rng(1);
    const w = 37;
    const h = 23;
    const rgb = new Uint8Array(w * h * 3).map(() => rng.int(256));
    const img = decodeImage(encodePng({ width: w, height: h, channels: 3, data: rgb }));
    expect(img.width).toBe(w);
    expect(Array.from(img.data)).toEqual(Array.from(rgb));
    const grey = new Uint8Array(w * h).map(() => rng.int(256));
    expect(Array.from(decodeGreyPng(encodePng({ width: w, height: h, channels: 1, data: grey })).data)).toEqual(Array.from(grey));
  });

  it('reads the header and recovers palette indices of label maps', () => {
    const idx = Uint8Array.from([0, 1, 2, 1, 0, 2]);
    const pal = Uint8Array.from([10, 20, 30, 200, 0, 0, 0, 200, 0]);
    const png = palettePng(3, 2, idx, pal);
    const info = readPngInfo(png);
    expect(info).toMatchObject({ width: 3, height: 2, colorType: 3, bitDepth: 8 });
    expect(Array.from(decodeLabelPng(png, 'p.png').data)).toEqual(Array.from(idx));
    expect(() => readPngInfo(Uint8Array.from([1, 2, 3]), 'x.png')).toThrow(/x.png: not a PNG/);
  });
});

describe('traceMask (generator polygons)', () => {
  it('rasterises back to exactly the mask, holes and corner-touching pixels included', () => {
    const rng = new Rng(12);
    for (let k = 0; k < 60; k++) {
      const { width: w, height: h, data } = randomMask(rng, 24, 20, () => rng.uniform(0.2, 0.8));
      const polys = traceMask({ width: w, height: h, data });
      const back = new Uint8Array(w * h);
      for (const p of polys) {
        const one = rasterizeRings([p.exterior, ...p.interiors], w, h);
        expect(count(one)).toBe(p.area);
        for (let i = 0; i < one.length; i++) {
          if (one[i]) {
            expect(back[i]).toBe(0); // components are disjoint
            back[i] = 1;
          }
        }
      }
      expect([...back]).toEqual([...data]);
    }
  });

  it('a ring gives one exterior and one hole; diagonal pixels are separate components', () => {
    const ring = new Uint8Array(25);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) if (x !== 2 || y !== 2) ring[y * 5 + x] = 1;
    const [p] = traceMask({ width: 5, height: 5, data: ring });
    expect(p.exterior).toEqual([
      [1, 1],
      [4, 1],
      [4, 4],
      [1, 4],
    ]);
    expect(p.interiors).toHaveLength(1);
    const diag = Uint8Array.from([1, 0, 0, 1]);
    expect(traceMask({ width: 2, height: 2, data: diag })).toHaveLength(2);
  });
});
