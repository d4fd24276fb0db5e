import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '@rpsam2/tensor';
import { Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { buildFeatureCache, candidatesOf, FeatureCache } from '../src/cache/feature-cache.js';
import { computeCandidates } from '../src/candidates/candidates.js';
import { syntheticShapes } from '../src/train/synthetic.js';
import { disposeFeatures, loadTinySam2 } from './helpers/tiny-sam2.js';

describe('frozen-feature cache', () => {
  let model: Sam2Model;
  let predictor: Sam2ImagePredictor;
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-cache-'));
  const dataset = syntheticShapes({ count: 3, height: 48, width: 64, objectsPerImage: [1, 2], seed: 11 });

  beforeAll(async () => {
    model = await loadTinySam2();
    predictor = new Sam2ImagePredictor(model);
  });

  afterAll(() => {
    predictor.dispose();
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  /** The features and candidates computed directly, for comparison. */
  async function direct(i: number) {
    const item = await dataset.get(i);
    await predictor.setImage(item.image);
    const f = predictor.getFeatures(0);
    const feats = await Promise.all([f.imageEmbed.data(), f.highRes[0].data(), f.highRes[1].data()]);
    const cands = [];
    // Grid step 8, halved for a mask that no grid point falls in (as the cache does).
    for (const o of item.objects) cands.push(await candidatesOf(predictor, o.mask, 8, 0.005));
    predictor.resetImage();
    return { item, feats, cands };
  }

  for (const dtype of ['f32', 'f16'] as const) {
    it(`round trip (${dtype}): features back as ImageFeatures, objects and candidate sets exact`, async () => {
      const dir = join(root, dtype);
      const progress: string[] = [];
      const r = await buildFeatureCache({ dataset, predictor, dir, weightsLabel: 'tiny256', dtype, onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.id} ${p.skipped}`) });
      expect(r).toMatchObject({ total: 3, computed: 3, skipped: 0, stopped: false });
      expect(progress).toEqual(['1/3 shapes-0000 false', '2/3 shapes-0001 false', '3/3 shapes-0002 false']);
      const cache = await FeatureCache.open(dir);
      expect(cache.entries.map((e) => e.id)).toEqual(['shapes-0000', 'shapes-0001', 'shapes-0002']);
      expect(cache.settings).toMatchObject({ dtype, gridStep: 8, epsilon: 0.005, sam2: { imageSize: 256, dim: 32, weights: 'tiny256' } });
      for (let i = 0; i < 3; i++) {
        const want = await direct(i);
        const img = await cache.load(i);
        try {
          expect(img.origHW).toEqual([48, 64]);
          const got = await Promise.all([img.features.imageEmbed.data(), img.features.highRes[0].data(), img.features.highRes[1].data()]);
          expect(img.features.imageEmbed.shape).toEqual([1, 32, 16, 16]);
          expect(img.features.highRes[0].shape).toEqual([1, 4, 64, 64]);
          expect(img.features.highRes[1].shape).toEqual([1, 8, 32, 32]);
          for (let k = 0; k < 3; k++) {
            const expected = dtype === 'f32' ? want.feats[k] : want.feats[k].map((v) => f16BitsToF32(f32ToF16Bits(v)));
            expect(got[k]).toEqual(expected);
          }
          expect(img.objects.length).toBe(want.item.objects.length);
          img.objects.forEach((o, k) => {
            expect(o.mask).toEqual(Uint8Array.from(want.item.objects[k].mask, (v) => (v ? 1 : 0)));
            expect(o.className).toBe(want.item.objects[k].className);
            const c = want.cands[k];
            expect(o.gridStep).toBe(c.step);
            expect(o.gridPx).toEqual(c.set.gridPx);
            expect(o.dice).toEqual(c.set.dice);
            expect(o.isCandidate).toEqual(c.set.isCandidate);
            expect(o.candidates).toEqual(c.set.norm);
            expect(o.candidateCount).toBe(c.set.count);
          });
          // The loaded features drive the predictor like freshly encoded ones.
          predictor.setFeatures(img.features, img.origHW);
          const again = await computeCandidates(predictor, img.objects[0].mask, { gridStep: img.objects[0].gridStep });
          if (dtype === 'f32') expect(again.dice).toEqual(want.cands[0].set.dice);
          else for (let j = 0; j < again.dice.length; j++) expect(Math.abs(again.dice[j] - want.cands[0].set.dice[j])).toBeLessThan(0.02);
        } finally {
          predictor.resetImage();
        }
      }
    });
  }

  it('f16 files hold the features in half the bytes', () => {
    const size = (d: string) => readFileSync(join(root, d, 'images', 'shapes-0000.safetensors')).byteLength;
    const featureBytes = 4 * (32 * 16 * 16 + 4 * 64 * 64 + 8 * 32 * 32);
    expect(size('f32') - size('f16')).toBeGreaterThanOrEqual(featureBytes / 2 - 64);
  });

  it('resumes: a stopped run keeps what it wrote, a rerun skips it, a lost index is rebuilt from the files', async () => {
    const dir = join(root, 'resume');
    let n = 0;
    const first = await buildFeatureCache({ dataset, predictor, dir, weightsLabel: 'tiny256', shouldStop: () => n++ >= 1, indexIntervalMs: 1e9 });
    expect(first).toMatchObject({ computed: 1, stopped: true });
    expect((await FeatureCache.open(dir)).entries.map((e) => e.id)).toEqual(['shapes-0000']);

    // A crash after the image file was written but before the index: the index lacks it, and
    // a torn temporary file from an interrupted write lies around.
    let m = 0;
    const second = await buildFeatureCache({ dataset, predictor, dir, weightsLabel: 'tiny256', shouldStop: () => m++ >= 2, indexIntervalMs: 1e9 });
    expect(second).toMatchObject({ computed: 1, skipped: 1, stopped: true });
    const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...idx, entries: idx.entries.slice(0, 1) }));
    writeFileSync(join(dir, 'images', '.shapes-0002.safetensors.123.abc.tmp'), new Uint8Array(100));
    expect((await FeatureCache.open(dir)).entries.map((e) => e.id)).toEqual(['shapes-0000', 'shapes-0001']);

    const seen: boolean[] = [];
    const third = await buildFeatureCache({ dataset, predictor, dir, weightsLabel: 'tiny256', onProgress: (p) => seen.push(p.skipped) });
    expect(third).toMatchObject({ computed: 1, skipped: 2, stopped: false });
    expect(seen).toEqual([true, true, false]);
    const cache = await FeatureCache.open(dir);
    expect(cache.entries.map((e) => e.id)).toEqual(['shapes-0000', 'shapes-0001', 'shapes-0002']);
    expect(readdirSync(join(dir, 'images')).filter((f) => f.endsWith('.safetensors') && !f.startsWith('.')).length).toBe(3);
    // Same content as a cache built in one go.
    const a = await cache.load('shapes-0002');
    const b = await (await FeatureCache.open(join(root, 'f32'))).load('shapes-0002');
    expect(await a.features.imageEmbed.data()).toEqual(await b.features.imageEmbed.data());
    expect(a.objects.map((o) => Array.from(o.candidates))).toEqual(b.objects.map((o) => Array.from(o.candidates)));
    disposeFeatures(a.features);
    disposeFeatures(b.features);
  });

  it('refuses to mix settings and explains missing caches', async () => {
    await expect(buildFeatureCache({ dataset, predictor, dir: join(root, 'f32'), weightsLabel: 'tiny256', dtype: 'f16' })).rejects.toThrow(/other settings:\n {2}dtype: cache has "f32", this run uses "f16"/);
    await expect(buildFeatureCache({ dataset, predictor, dir: join(root, 'f32'), weightsLabel: 'other.pt' })).rejects.toThrow(/SAM 2 weights: cache has "tiny256", this run uses "other.pt"/);
    await expect(FeatureCache.open(join(root, 'nope'))).rejects.toThrow(/no such directory \(build it with `rpsam2 candidates`\)/);
    const cache = await FeatureCache.open(join(root, 'f32'));
    expect(() => cache.entry('missing')).toThrow(/no image "missing" \(3 cached\)/);
  });
});
