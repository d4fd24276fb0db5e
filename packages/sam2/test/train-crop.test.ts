import { describe, expect, it } from 'vitest';
import { CropTrainSource, cropSample, type TrainSample, type TrainSource } from '../src/index.js';

/** A 40×30 frame whose pixel (x, y) has RGB (x, y, 7) and two objects: a bar and a small square. */
function frame(): TrainSample {
  const [w, h] = [40, 30];
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, y, 7], (y * w + x) * 3);
  const bar = new Uint8Array(w * h);
  for (let x = 2; x < 38; x++) bar[15 * w + x] = 1;
  const square = new Uint8Array(w * h);
  for (let y = 2; y < 5; y++) for (let x = 2; x < 5; x++) square[y * w + x] = 1;
  return { image: { width: w, height: h, channels: 3, data }, objects: [{ mask: bar, kind: 'instrument' }, { mask: square, kind: 'anatomy' }] };
}

const inner: TrainSource = { description: 'test frames', sample: () => frame() };

describe('cropSample', () => {
  it('cuts the pixels and masks of the window and drops objects left empty', () => {
    const c = cropSample(frame(), 10, 12, 20, 10);
    expect([c.image.width, c.image.height]).toEqual([20, 10]);
    for (const [x, y] of [[0, 0], [19, 9], [5, 3]]) expect(Array.from(c.image.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3))).toEqual([10 + x, 12 + y, 7]);
    expect(c.objects).toHaveLength(1); // the square at (2..4, 2..4) is outside
    const rows = Array.from({ length: 10 }, (_, y) => c.objects[0].mask.subarray(y * 20, y * 20 + 20).reduce((a, b) => a + b, 0));
    expect(rows).toEqual([0, 0, 0, 20, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a window outside the frame', () => {
    expect(() => cropSample(frame(), 30, 0, 20, 10)).toThrow(/not inside the 40×30 frame/);
    expect(() => cropSample(frame(), 0, 0, 0, 10)).toThrow(/not inside/);
  });
});

describe('CropTrainSource', () => {
  it('keeps whole frames at probability 0 and always crops around an instrument at 1', async () => {
    const none = new CropTrainSource(inner, { probability: 0, fraction: 0.5 });
    expect((await none.sample(3)).image.width).toBe(40);
    const all = new CropTrainSource(inner, { probability: 1, fraction: 0.5, seed: 4 });
    for (let i = 0; i < 20; i++) {
      const s = await all.sample(i);
      expect([s.image.width, s.image.height]).toEqual([20, 15]);
      expect(s.objects.some((o) => o.kind === 'instrument')).toBe(true);
    }
  });

  it('is deterministic per index and varies across indices', async () => {
    const src = new CropTrainSource(inner, { probability: 1, fraction: 0.5, seed: 4 });
    const origin = async (i: number) => Array.from((await src.sample(i)).image.data.subarray(0, 2));
    expect(await origin(5)).toEqual(await origin(5));
    const distinct = new Set(await Promise.all(Array.from({ length: 12 }, async (_, i) => (await origin(i)).join(','))));
    expect(distinct.size).toBeGreaterThan(3);
  });

  it('crops about the requested share of samples', async () => {
    const src = new CropTrainSource(inner, { probability: 0.3, fraction: 0.5, seed: 1 });
    let crops = 0;
    for (let i = 0; i < 400; i++) if ((await src.sample(i)).image.width === 20) crops++;
    expect(crops / 400).toBeGreaterThan(0.22);
    expect(crops / 400).toBeLessThan(0.38);
  });

  it('rejects bad settings', () => {
    expect(() => new CropTrainSource(inner, { probability: 1.5, fraction: 0.5 })).toThrow(/probability must be in \[0, 1\]/);
    expect(() => new CropTrainSource(inner, { probability: 0.5, fraction: 0 })).toThrow(/fraction must be in \(0, 1\]/);
  });
});
