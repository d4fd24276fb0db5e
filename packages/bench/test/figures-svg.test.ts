/** The SVG builder, text metrics and the heatmap crop. */
import { describe, expect, it } from 'vitest';
import type { BinaryMask } from '@rpsam2/data';
import { objectCrop } from '../src/figures/crop.js';
import { escapeXml, num, pathData, SvgBuilder } from '../src/figures/svg.js';
import { textWidth } from '../src/figures/text-metrics.js';

describe('num', () => {
  it('writes at most 2 decimals, no trailing zeros, no −0', () => {
    expect(num(2.5)).toBe('2.5');
    expect(num(3.14159)).toBe('3.14');
    expect(num(10)).toBe('10');
    expect(num(-0.001)).toBe('0');
    expect(num(-12.345678)).toBe('-12.35');
  });

  it('throws on non-finite numbers, naming what', () => {
    expect(() => num(Number.NaN, 'bar height')).toThrow('svg: bar height is NaN');
    expect(() => new SvgBuilder(10, 10).rect(0, Number.POSITIVE_INFINITY, 1, 1)).toThrow(/attribute y is Infinity/);
  });
});

describe('SvgBuilder', () => {
  it('escapes text and attributes', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    const s = new SvgBuilder(100, 50).text(5, 20, 'A < B & "C"', { size: 12, extra: { 'data-x': 'q"1' } }).toString();
    expect(s).toContain('>A &lt; B &amp; &quot;C&quot;</text>');
    expect(s).toContain('data-x="q&quot;1"');
    expect(s).not.toContain('A < B');
  });

  it('writes a complete document with the background first', () => {
    const s = new SvgBuilder(120, 80, '#fafafa').circle(10, 10, 3, { fill: '#ff0000' }).toString();
    expect(s.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(s).toContain('width="120" height="80" viewBox="0 0 120 80"');
    expect(s.indexOf('<rect x="0" y="0" width="120" height="80" fill="#fafafa"/>')).toBeLessThan(s.indexOf('<circle'));
    expect(s.endsWith('</svg>')).toBe(true);
  });

  it('centres text vertically with a cap-height shift and rotates around the anchor', () => {
    const s = new SvgBuilder(100, 100).text(50, 40, 'y', { size: 20, baseline: 'middle', rotate: -90, anchor: 'middle' }).toString();
    // 40 + 0.3645 × 20 = 47.29
    expect(s).toContain('x="50" y="47.29" font-size="20" text-anchor="middle"');
    expect(s).toContain('transform="rotate(-90 50 40)"');
  });

  it('builds path data from rings', () => {
    expect(
      pathData(
        [
          [
            [0, 0],
            [2, 0],
            [2, 1.234],
          ],
          [[5, 5]],
        ],
        true,
      ),
    ).toBe('M0 0L2 0L2 1.23Z');
  });

  it('hands out distinct ids', () => {
    const b = new SvgBuilder(10, 10);
    expect(b.clipRect(0, 0, 5, 5)).toBe('url(#clip0)');
    expect(b.clipRect(0, 0, 5, 5)).toBe('url(#clip1)');
  });
});

describe('textWidth', () => {
  it('sums DejaVu Sans advance widths', () => {
    // D 770 + i 278 + c 550 + e 615 = 2213 per mille.
    expect(textWidth('Dice', 10)).toBeCloseTo(22.13, 10);
    // Bold: D 830 + i 343 + c 593 + e 678.
    expect(textWidth('Dice', 10, 'bold')).toBeCloseTo(24.44, 10);
    // Digits are tabular (636), the plus–minus sign 838.
    expect(textWidth('0.8 ± 0.1', 12)).toBeCloseTo(((636 * 4 + 318 * 4 + 838) / 1000) * 12, 10);
  });
});

describe('objectCrop', () => {
  const mask = (w: number, h: number, x0: number, y0: number, x1: number, y1: number): BinaryMask => {
    const data = new Uint8Array(w * h);
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * w + x] = 1;
    return { width: w, height: h, data };
  };

  it('adds a margin around the object', () => {
    // Box 20×12 at (20, 18); margin max(8, 0.12 × 20 → 2) = 8 → 36×28 at (12, 10); 28/36 ≥ 0.75.
    expect(objectCrop(mask(64, 48, 20, 18, 39, 29), [])).toEqual({ x0: 12, y0: 10, w: 36, h: 28 });
  });

  it('widens a thin object to the minimum aspect ratio', () => {
    // Box 4×100 at (100, 50); margin 12 → 28×124; width → ceil(0.75 × 124) = 93, centred: x0 = 88 − 32.
    expect(objectCrop(mask(300, 300, 100, 50, 103, 149), [])).toEqual({ x0: 56, y0: 38, w: 93, h: 124 });
  });

  it('stays inside the frame and includes clicks outside the mask', () => {
    // Object at the top-left corner: the crop is moved inside, not cut.
    expect(objectCrop(mask(100, 100, 0, 0, 9, 9), [])).toEqual({ x0: 0, y0: 0, w: 26, h: 26 });
    // A click at (40, 5) joins the box: 41×10 → margin 8 → 57×26 → height ceil(0.75 × 57) = 43.
    expect(objectCrop(mask(100, 100, 0, 0, 9, 9), [{ x: 40, y: 5 }])).toEqual({ x0: 0, y0: 0, w: 57, h: 43 });
    // Larger than the frame: clipped to it.
    expect(objectCrop(mask(20, 10, 0, 0, 19, 9), [])).toEqual({ x0: 0, y0: 0, w: 20, h: 10 });
  });
});
