/**
 * Precomputed features in the page (issue #23): a feature cache in rpsam2's format — as
 * `bench embed` writes it, weights labelled `<file name> sha256:<16 hex>` — read without Node
 * (picked files as Blobs, or over a fetch), found among dropped files, and used by the engine
 * instead of the image encoder for the frames it holds: the masks are exactly those of the
 * encoded frame; a cache written by the built `bench embed` fits the same weights loaded in the
 * page. A cache of another SAM 2 (other weights, other config) is reported with a clear
 * message and the frame is encoded; so is a frame of another size.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '@rpsam2/tensor';
import { loadSam2, parseOfficialConfig, Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { buildFeatureCache, CACHE_FORMAT, InMemoryDataset, type CacheSettings } from '@rpsam2/rpsam2';
import { encodePng } from '../../bench/src/datasets/png.js';
import { StudioEngine } from '../src/worker/engine.js';
import { inCacheFolder } from '../src/worker/cache-paths.js';
import { cacheKeyOf, cacheRootOf, isCacheFilePath, modelMismatch, pickedCacheFiles, PrecomputedFeatures, sourceHash, urlCacheFiles, type PathedFile } from '../src/worker/precomputed-features.js';
import { configJson, DIR, image } from './helpers/tiny-fixture.js';

const have = existsSync(`${DIR}weights.safetensors`);
/** The built bench CLI (`pnpm --filter @rpsam2/bench build`): its `bench embed` writes a cache the page must read. */
const BENCH = new URL('../../bench/dist/cli.js', import.meta.url).pathname;

/** `bench`'s weights hash (fileHash: SHA-256 of the file, first 16 hex digits). */
function benchHash(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`;
}

/** Every file of a folder as (Blob, path under `prefix`), as a folder drop gives them. */
async function folderFiles(dir: string, prefix: string): Promise<PathedFile[]> {
  const out: PathedFile[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.push({ file: new Blob([await readFile(full)]), path: `${prefix}/${full.slice(dir.length + 1)}` });
  }
  return out;
}

const settings = (sam2: Partial<CacheSettings['sam2']>): CacheSettings => ({ sam2: { config: 'tiny256', imageSize: 256, dim: 64, weights: 'w.safetensors sha256:0123456789abcdef', ...sam2 }, dtype: 'f32', gridStep: 8, epsilon: 0.005 });

describe('precomputed features: finding and checking a cache', () => {
  it('finds the cache folder among dropped files and keys frames by file name', async () => {
    const blob = new Blob(['{}']);
    const files = [
      { file: blob, path: 'clip/frame_01.png' },
      { file: blob, path: 'clip/notes/index.json' },
      { file: blob, path: 'clip/features/index.json' },
      { file: blob, path: 'clip/features/images/frame_01.safetensors' },
    ];
    const found = pickedCacheFiles(files)!;
    expect(found.label).toBe('clip/features');
    expect(await found.open('images/frame_01.safetensors')).not.toBeNull();
    expect(await found.open('images/frame_02.safetensors')).toBeNull();
    expect(pickedCacheFiles(files.slice(0, 2))).toBeNull();
    expect(cacheKeyOf('clip/frame_01.png')).toBe('frame_01');
    expect(cacheKeyOf('a.b.jpeg')).toBe('a.b');
    expect(isCacheFilePath('clip/features/images/frame_01.safetensors')).toBe(true);
    expect(isCacheFilePath('clip/frame_01.png')).toBe(false);
    // A cache at the top of what was dropped, the frames beside it: only its own files are the cache's.
    const top = ['index.json', 'images/frame_01.safetensors', 'frame_01.png'];
    expect(cacheRootOf(top)).toBe('');
    expect(top.filter((p) => inCacheFolder('', p))).toEqual(['index.json', 'images/frame_01.safetensors']);
    expect(inCacheFolder('clip/features/', 'clip/frame_01.png')).toBe(false);
  });

  it('refuses what is not a feature cache, naming the file', async () => {
    const served = new Map<string, string>([['http://x/bad/index.json', JSON.stringify({ format: 'something-else', version: 1 })]]);
    const fetchFn = (async (u: string | URL | Request) => {
      const body = served.get(String(u));
      return body === undefined ? new Response('', { status: 404 }) : new Response(body);
    }) as typeof fetch;
    await expect(PrecomputedFeatures.open(urlCacheFiles('http://x/none', fetchFn))).rejects.toThrow(/http:\/\/x\/none\/index\.json: not found/);
    await expect(PrecomputedFeatures.open(urlCacheFiles('http://x/bad/', fetchFn))).rejects.toThrow(/index\.json: not an RP-SAM2 feature cache \(format "something-else"\)/);
  });

  it('says which part of the model differs', async () => {
    const model = { config: 'tiny256', imageSize: 256, dim: 64, weightsName: 'w.safetensors', weightsHash: async () => 'sha256:0123456789abcdef' };
    expect(await modelMismatch(settings({}), model, 'feat')).toBeNull();
    expect(await modelMismatch(settings({ weights: 'w.safetensors sha256:ffffffffffffffff' }), model, 'feat')).toMatch(/^The precomputed features in feat were made by another SAM 2 — weights w\.safetensors sha256:ffff.* \(loaded: w\.safetensors sha256:0123456789abcdef\) — so they are not used: frames are encoded/);
    expect(await modelMismatch(settings({ config: 'sam2.1_hiera_l', imageSize: 1024, dim: 256 }), model, 'feat')).toMatch(/— input size 1024 px \(loaded: 256 px\), width 256 \(loaded: 64\) —/);
    // The same weights under another config name (the page names a picked config by its file): they fit.
    expect(await modelMismatch(settings({ config: 'my-config' }), model, 'feat')).toBeNull();
    // A label without a hash (rpsam2 candidates): compared by file name and config name.
    expect(await modelMismatch(settings({ weights: 'w.safetensors' }), model, 'feat')).toBeNull();
    expect(await modelMismatch(settings({ weights: 'v.safetensors', config: 'sam2.1_hiera_l' }), model, 'feat')).toMatch(/— config sam2\.1_hiera_l \(loaded: tiny256\) —/);
    expect(await modelMismatch(settings({ weights: 'v.safetensors' }), model, 'feat')).toMatch(/— weights v\.safetensors \(loaded: w\.safetensors\) —/);
    // The page's hash is bench's.
    expect(await sourceHash(bytesSource(new TextEncoder().encode('abc')))).toBe(`sha256:${createHash('sha256').update('abc').digest('hex').slice(0, 16)}`);
  });
});

describe.skipIf(!have)('precomputed features in the engine (tiny256 fixture)', () => {
  let model: Sam2Model;
  let tmp: string;
  const img = image(64, 48);
  const weightsLabel = `weights.safetensors ${benchHash(`${DIR}weights.safetensors`)}`;

  /** A cache of frame 'f1' (the test image) made with `label` as the weights label, as a dropped folder. */
  async function cacheFiles(name: string, label: string): Promise<PathedFile[]> {
    const dir = join(tmp, name);
    const predictor = new Sam2ImagePredictor(model);
    try {
      await buildFeatureCache({ dataset: new InMemoryDataset([{ id: 'f1', image: img, objects: [] }], 'frames'), predictor, dir, weightsLabel: label });
    } finally {
      predictor.dispose();
    }
    return folderFiles(dir, `clip/${name}`);
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studio-features-'));
    model = (await loadSam2({ weights: bytesSource(readFileSync(`${DIR}weights.safetensors`), 'ref'), config: parseOfficialConfig(JSON.parse(configJson()), 'tiny256') })).model;
  });

  afterAll(async () => {
    model?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function withEngine(fn: (engine: StudioEngine) => Promise<void>): Promise<void> {
    const engine = new StudioEngine();
    try {
      await engine.init();
      await engine.loadModel({ kind: 'file', weights: bytesSource(readFileSync(`${DIR}weights.safetensors`), 'weights.safetensors'), label: 'weights.safetensors', configJson: configJson(), configName: 'tiny256.json', size: null });
      await fn(engine);
    } finally {
      engine.dispose();
    }
  }

  it('sets a cached frame from its features instead of encoding it: the same masks as the encoder', async () => {
    const files = await cacheFiles('features', weightsLabel);
    expect(JSON.parse(await files.find((f) => f.path.endsWith('index.json'))!.file.text()).format).toBe(CACHE_FORMAT);
    await withEngine(async (engine) => {
      const info = await engine.attachFeatures(pickedCacheFiles(files));
      expect(info).toEqual({ label: 'clip/features', frames: 1, model: `tiny256 (${weightsLabel})`, mismatch: null });
      const pre = await engine.encode('clip/f1.png', img, cacheKeyOf('clip/f1.png'));
      expect(pre).toMatchObject({ frameId: 'clip/f1.png', cached: false, source: 'precomputed', featuresNote: null });
      expect(engine.expectedEncodeMs).toBe(0);
      // A frame the cache does not hold is encoded, without a note.
      expect(await engine.encode('clip/f2.png', img, 'f2')).toMatchObject({ source: 'encoder', featuresNote: null });
      for (const prompt of [{ points: [{ x: 30, y: 20, label: 1 as const }], box: null }, { points: [{ x: 30, y: 20, label: 1 as const }, { x: 5, y: 5, label: 0 as const }], box: { x0: 10, y0: 4, x1: 50, y1: 40 } }]) {
        const a = await engine.decode('clip/f1.png', prompt, 'sam2');
        const b = await engine.decode('clip/f2.png', prompt, 'sam2');
        expect(a.maskIndex).toBe(b.maskIndex);
        expect(a.iou).toBe(b.iou);
        expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
        expect(a.mask.some((v) => v === 1)).toBe(true);
      }
      // Another size than the cached frame's: encoded, and the reply says why.
      const other = await engine.encode('clip/big/f1.png', image(72, 48), 'f1');
      expect(other.source).toBe('encoder');
      expect(other.featuresNote).toMatch(/made from a 64×48 image, this frame is 72×48; encoding it/);
    });
  });

  it.skipIf(!existsSync(BENCH))('reads a cache written by `bench embed` (the same weights fit; the frame skips the encoder)', async () => {
    const frames = join(tmp, 'clip');
    await mkdir(frames, { recursive: true });
    await writeFile(join(frames, 'frame_07.png'), encodePng({ width: img.width, height: img.height, channels: 4, data: new Uint8Array(img.data.buffer) }));
    const r = spawnSync(process.execPath, [BENCH, 'embed', join(frames, 'frame_07.png'), '--cache', join(frames, 'features'), '--weights', `${DIR}weights.safetensors`, '--config', `${DIR}meta.json`], { encoding: 'utf8', timeout: 100_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = await folderFiles(frames, 'clip');
    await withEngine(async (engine) => {
      const info = await engine.attachFeatures(pickedCacheFiles(files));
      expect(info).toMatchObject({ label: 'clip/features', frames: 1, mismatch: null });
      expect(info!.model).toContain(weightsLabel);
      expect(await engine.encode('clip/frame_07.png', img, cacheKeyOf('clip/frame_07.png'))).toMatchObject({ source: 'precomputed', featuresNote: null });
      expect(await engine.encode('encoded', img)).toMatchObject({ source: 'encoder' });
      // bench's built CLI and these sources agree on the mask (the same features up to the builds' rounding).
      const prompt = { points: [{ x: 30, y: 20, label: 1 as const }], box: null };
      const a = (await engine.decode('clip/frame_07.png', prompt, 'sam2')).mask;
      const b = (await engine.decode('encoded', prompt, 'sam2')).mask;
      let inter = 0;
      let union = 0;
      for (let i = 0; i < a.length; i++) {
        inter += a[i] & b[i];
        union += a[i] | b[i];
      }
      expect(union).toBeGreaterThan(0);
      expect(inter / union).toBeGreaterThan(0.95);
    });
  });

  it('a cache made by another SAM 2: a clear message at attach and per frame, and the frame is encoded', async () => {
    const files = await cacheFiles('other', 'sam2.1_hiera_tiny.pt sha256:00000000deadbeef');
    await withEngine(async (engine) => {
      const info = await engine.attachFeatures(pickedCacheFiles(files));
      expect(info?.mismatch).toMatch(/^The precomputed features in clip\/other were made by another SAM 2 — weights sam2\.1_hiera_tiny\.pt sha256:00000000deadbeef \(loaded: weights\.safetensors sha256:[0-9a-f]{16}\) — so they are not used: frames are encoded by the loaded model/);
      const r = await engine.encode('clip/f1.png', img, 'f1');
      expect(r.source).toBe('encoder');
      expect(r.featuresNote).toBe(info!.mismatch);
      expect(engine.expectedEncodeMs).toBeGreaterThan(0);
      // Detached: nothing is looked up.
      expect(await engine.attachFeatures(null)).toBeNull();
      engine.forget(null);
      expect(await engine.encode('clip/f1.png', img, 'f1')).toMatchObject({ source: 'encoder', featuresNote: null });
    });
  });
});
