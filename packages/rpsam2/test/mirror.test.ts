import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@rpsam2/tensor';
import { Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { buildFeatureCache, FeatureCache } from '../src/cache/feature-cache.js';
import { mirrorGrid, mirrorMask, mirrorNormalized, mirrorPixels, type Mirror } from '../src/cache/mirror.js';
import { normalizeClicks } from '../src/candidates/clicks.js';
import { CachedSource, cachedSourceFor } from '../src/train/sources.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { syntheticShapes } from '../src/train/synthetic.js';
import { loadTinySam2 } from './helpers/tiny-sam2.js';

const MIRRORS: Mirror[] = [
  { h: true, v: false },
  { h: false, v: true },
  { h: true, v: true },
];

/** Element (c, y, x) of a [C, H, W] array, by definition of a flip (the reference). */
function flippedAt(data: Float32Array, h: number, w: number, m: Mirror, c: number, y: number, x: number): number {
  return data[c * h * w + (m.v ? h - 1 - y : y) * w + (m.h ? w - 1 - x : x)];
}

describe('mirroring a cached image', () => {
  it('flips every plane of a grid along the chosen axes, and twice is the identity', () => {
    const [c, h, w] = [3, 5, 7];
    const data = Float32Array.from({ length: c * h * w }, (_, i) => i * 0.5 - 3);
    for (const m of MIRRORS) {
      const got = mirrorGrid(data, [1, c, h, w], m);
      for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(got[k * h * w + y * w + x]).toBe(flippedAt(data, h, w, m, k, y, x));
      expect(mirrorGrid(got, [1, c, h, w], m)).toEqual(data);
    }
    expect(mirrorGrid(data, [1, c, h, w], { h: false, v: false })).toEqual(data);
    expect(() => mirrorGrid(data, [c * h * w], MIRRORS[0])).toThrow(/two spatial axes/);
  });

  it('moves a mask, its pixels and their normalised clicks together', () => {
    const [h, w] = [6, 9];
    const mask = Uint8Array.from({ length: h * w }, (_, i) => ((i * 7) % 5 === 0 ? 1 : 0));
    const pixels = new Float32Array([0, 0, 8, 5, 3, 2, 4, 1]);
    for (const m of MIRRORS) {
      const mm = mirrorMask(mask, h, w, m);
      expect(Array.from(mm)).toEqual(Array.from(mirrorGrid(Float32Array.from(mask), [h, w], m)));
      const mp = mirrorPixels(pixels, h, w, m);
      for (let i = 0; i < pixels.length; i += 2) {
        // the mirrored mask at the mirrored pixel is the mask at the pixel
        expect(mm[mp[i + 1] * w + mp[i]]).toBe(mask[pixels[i + 1] * w + pixels[i]]);
      }
      const n = mirrorNormalized(normalizeClicks(pixels, h, w), h, w, m);
      const want = normalizeClicks(mp, h, w);
      n.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    }
  });

  it('is a cached-mode option, named in the config error otherwise', () => {
    expect(resolveTrainConfig({}).augment).toMatchObject({ featureHflip: false, featureVflip: false });
    expect(() => resolveTrainConfig({ mode: 'on-the-fly', data: { dataset: 'synthetic:4' }, augment: { featureHflip: true } })).toThrow(/featureHflip.*mode 'cached'.*augment.hflip/);
    expect(() => resolveTrainConfig({ augment: { featureVflip: 1 } })).toThrow(/augment.featureVflip/);
  });

  it('sends a click to the mirrored token of a square-resized image (the feature grid)', () => {
    // SAM 2 resizes to a square: pixel x of W lies in token column floor((x + 0.5)·g/W).
    const col = (x: number, size: number, g: number) => Math.floor(((x + 0.5) * g) / size);
    for (const [size, g] of [[1024, 32], [768, 32], [640, 16]] as const) {
      for (let x = 0; x < size; x++) {
        const [mx] = mirrorPixels(new Float32Array([x, 0]), 1, size, { h: true, v: false });
        expect(col(mx, size, g)).toBe(g - 1 - col(x, size, g));
      }
    }
  });
});

describe('FeatureCache.load and CachedSource with mirrors', () => {
  let model: Sam2Model;
  let predictor: Sam2ImagePredictor;
  let cache: FeatureCache;
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-mirror-'));
  const dataset = syntheticShapes({ count: 2, height: 48, width: 64, objectsPerImage: [1, 2], seed: 5 });

  beforeAll(async () => {
    model = await loadTinySam2();
    predictor = new Sam2ImagePredictor(model);
    await buildFeatureCache({ dataset, predictor, dir: root, weightsLabel: 'tiny256', gridStep: 8 });
    cache = await FeatureCache.open(root);
  });

  afterAll(() => {
    predictor.dispose();
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('loads features, masks, grid points and candidates flipped together', async () => {
    const plain = await cache.load(0);
    try {
      const [h, w] = plain.origHW;
      const feats = await Promise.all([plain.features.imageEmbed, ...plain.features.highRes].map((t) => t.data()));
      for (const m of MIRRORS) {
        const img = await cache.load(0, m);
        try {
          const got = await Promise.all([img.features.imageEmbed, ...img.features.highRes].map((t) => t.data()));
          [plain.features.imageEmbed, ...plain.features.highRes].forEach((t, k) => {
            const [, c, gh, gw] = t.shape;
            for (let ch = 0; ch < c; ch += Math.max(1, c >> 2))
              for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) expect(got[k][ch * gh * gw + y * gw + x]).toBe(flippedAt(feats[k], gh, gw, m, ch, y, x));
          });
          img.objects.forEach((o, k) => {
            const p = plain.objects[k];
            expect(o.mask).toEqual(mirrorMask(p.mask, h, w, m));
            expect(o.gridPx).toEqual(mirrorPixels(p.gridPx, h, w, m));
            expect(o.candidates).toEqual(mirrorNormalized(p.candidates, h, w, m));
            expect(o.dice).toEqual(p.dice);
            expect(o.isCandidate).toEqual(p.isCandidate);
            // grid points lie in their object, before and after
            for (let i = 0; i < o.gridPx.length; i += 2) expect(o.mask[o.gridPx[i + 1] * w + o.gridPx[i]]).toBe(1);
          });
        } finally {
          img.features.imageEmbed.dispose();
          img.features.highRes.forEach((t) => t.dispose());
        }
      }
    } finally {
      plain.features.imageEmbed.dispose();
      plain.features.highRes.forEach((t) => t.dispose());
    }
  });

  it('mirrors only when given flips and a random stream, and draws nothing otherwise', async () => {
    const refs = [{ image: 0, object: 0 }, { image: 1, object: 0 }, { image: 1, object: 1 }];
    const plain: Uint8Array[] = [];
    for (const r of refs) {
      const img = await cache.load(r.image);
      img.features.imageEmbed.dispose();
      img.features.highRes.forEach((t) => t.dispose());
      plain.push(img.objects[r.object].mask);
    }
    const [h, w] = [48, 64];
    // flips off: the rng is left untouched
    const off = new CachedSource(model, cache);
    const rng = new SeededRandom(3);
    const before = new SeededRandom(3).next();
    const b0 = await off.prepare(refs, rng);
    b0.objects.forEach((o, i) => expect(o.target.mask).toEqual(plain[i]));
    expect(rng.next()).toBe(before);
    off.dispose();
    // flips on (both axes, from a training config): each object as one of the four mirrors; over
    // a few draws every object shows more than one
    const on = cachedSourceFor(model, cache, resolveTrainConfig({ augment: { featureHflip: true, featureVflip: true } }));
    const seen = refs.map(() => new Set<string>());
    const r2 = new SeededRandom(7);
    for (let draw = 0; draw < 6; draw++) {
      const b = await on.prepare(refs, r2);
      b.objects.forEach((o, i) => {
        const which = [{ h: false, v: false }, ...MIRRORS].findIndex((m) => equal(o.target.mask, m.h || m.v ? mirrorMask(plain[i], h, w, m) : plain[i]));
        expect(which).toBeGreaterThanOrEqual(0);
        seen[i].add(String(which));
      });
      b.release();
    }
    for (const s of seen) expect(s.size).toBeGreaterThan(1);
    on.dispose();
  });
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
