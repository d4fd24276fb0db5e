/**
 * The synthetic generator: deterministic by seed, every class appears, masks non-empty and
 * connected, and a round trip through the Cataract-1k loader (Supervisely and COCO) gives back
 * exactly the generated masks and pixels. Also the frame speed at 1024×768.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { labelComponents4 } from '@rpsam2/data';
import { openCataract1k, INSTRUMENT_KEYS, type Cataract1kDataset } from '../src/datasets/index.js';
import { encodePng } from '../src/datasets/png.js';
import { parseGenerateArgs } from '../src/synthetic/command.js';
import {
  generateSyntheticDataset,
  objectMask,
  renderSyntheticFrame,
  SyntheticRenderer,
  syntheticFrameOptions,
  type SyntheticDatasetOptions,
  type SyntheticDatasetSummary,
} from '../src/synthetic/index.js';
import { put, tempDir, useTempDir } from './helpers/fixtures.js';

describe('renderSyntheticFrame', () => {
  it('is deterministic by seed', () => {
    const opts = { width: 160, height: 120, seed: 77, classes: ['KF', 'G', 'S'] };
    const a = renderSyntheticFrame(opts);
    const b = renderSyntheticFrame(opts);
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    expect(a.objects.map((o) => [o.classKey, o.box, o.area])).toEqual(b.objects.map((o) => [o.classKey, o.box, o.area]));
    for (let i = 0; i < a.objects.length; i++) expect(Buffer.from(a.objects[i].crop).equals(Buffer.from(b.objects[i].crop))).toBe(true);
    const c = renderSyntheticFrame({ ...opts, seed: 78 });
    expect(Buffer.from(c.rgb).equals(Buffer.from(a.rgb))).toBe(false);
    // A reused renderer gives the same frame as a fresh one.
    const r = new SyntheticRenderer();
    r.render({ ...opts, seed: 5 });
    expect(Buffer.from(r.render(opts).rgb).equals(Buffer.from(a.rgb))).toBe(true);
  });

  it('draws every class as one connected, non-empty region', () => {
    const r = new SyntheticRenderer();
    for (const [i, key] of INSTRUMENT_KEYS.entries()) {
      const f = r.render({ width: 200, height: 150, seed: 1000 + i, classes: [key] });
      const inst = f.objects.filter((o) => o.kind === 'instrument');
      expect(inst.map((o) => o.classKey)).toEqual([key]);
      const m = objectMask(f, inst[0]);
      expect(labelComponents4(m).count).toBe(1);
      expect(inst[0].area).toBeGreaterThan(40);
      expect(f.objects.map((o) => o.classKey)).toContain('cornea');
    }
  });

  it('refuses unknown classes and tiny frames', () => {
    expect(() => renderSyntheticFrame({ width: 64, height: 48, seed: 1, classes: ['XX'] })).toThrow(/unknown instrument class 'XX'/);
    expect(() => renderSyntheticFrame({ width: 16, height: 48, seed: 1, classes: ['S'] })).toThrow(/≥ 32/);
  });

  it('renders a 1024×768 frame (and its PNG) fast', () => {
    const r = new SyntheticRenderer();
    r.render({ width: 1024, height: 768, seed: 1, classes: ['PhT', 'S'] }); // warm-up (JIT, buffers)
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const f = r.render({ width: 1024, height: 768, seed: 2 + k, classes: [INSTRUMENT_KEYS[k], 'G', 'IA'] });
      encodePng({ width: f.width, height: f.height, channels: 3, data: f.rgb });
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      wall.push(performance.now() - t0);
    }
    console.log(`synthetic 1024×768 frame + PNG: CPU ${cpu.map((t) => t.toFixed(0)).join(', ')} ms; wall ${wall.map((t) => t.toFixed(0)).join(', ')} ms`);
    // CPU time, not wall time: the suite shares the machine with other work. ~0.2–0.3 s here.
    expect(Math.min(...cpu)).toBeLessThan(1000);
  });
});

describe('generateSyntheticDataset → openCataract1k round trip', () => {
  const tmp = useTempDir('synthetic');
  let summary: SyntheticDatasetSummary;
  let ds: Cataract1kDataset;
  const options: SyntheticDatasetOptions = { seed: 3, cases: 3, framesPerCase: 4, width: 256, height: 192, valCases: 1, testCases: 1 };
  beforeAll(async () => {
    summary = await generateSyntheticDataset(tmp.dir, options);
    ds = await openCataract1k(tmp.dir);
  });

  it('writes every class, with a balanced cycle of primary instruments', () => {
    expect(summary.frames).toBe(12);
    for (const key of INSTRUMENT_KEYS) expect(summary.instruments[key]).toBeGreaterThan(0);
    expect(summary.split).toEqual({ train: ['case_9001'], val: ['case_9002'], test: ['case_9003'] });
  });

  it('the loader reads it without issues, with our split file', () => {
    expect(ds.issues).toEqual([]);
    expect(ds.frames).toHaveLength(12);
    expect(ds.split.source).toBe(join(tmp.dir, 'splits.json'));
    expect(ds.split.counts).toEqual({ train: 4, val: 4, test: 4, none: 0 });
  });

  it('gives back exactly the generated masks and pixels (Supervisely and COCO)', async () => {
    const coco = await openCataract1k(tmp.dir, { annotations: 'coco' });
    expect(coco.issues).toEqual([]);
    const renderer = new SyntheticRenderer();
    for (let g = 0; g < ds.frames.length; g++) {
      const frame = renderer.render(syntheticFrameOptions(options, g));
      const img = await ds.loadImage(ds.frames[g]);
      expect(Buffer.from(img.data).equals(Buffer.from(frame.rgb))).toBe(true);
      for (const d of [ds, coco]) {
        const loaded = await d.loadObjects(d.frames[g], { kinds: ['instrument', 'anatomy'] });
        // Instruments: one object each, in depth order.
        const inst = frame.objects.filter((o) => o.kind === 'instrument');
        const got = loaded.filter((o) => o.kind === 'instrument');
        expect(got.map((o) => o.classKey)).toEqual(inst.map((o) => o.classKey));
        for (let k = 0; k < inst.length; k++) expect(Buffer.from(got[k].mask.data).equals(Buffer.from(objectMask(frame, inst[k]).data))).toBe(true);
        // Anatomy: possibly several objects per class (pieces cut by instruments); their union.
        for (const o of frame.objects.filter((x) => x.kind === 'anatomy')) {
          const union = new Uint8Array(frame.width * frame.height);
          for (const l of loaded.filter((x) => x.classKey === o.classKey)) for (let i = 0; i < union.length; i++) union[i] |= l.mask.data[i];
          expect(Buffer.from(union).equals(Buffer.from(objectMask(frame, o).data))).toBe(true);
        }
      }
    }
  });

  it('is deterministic: the same seed writes the same files', async () => {
    const again = await tempDir('synthetic-again');
    try {
      await generateSyntheticDataset(again.dir, { ...options, cases: 1, framesPerCase: 2, valCases: 0, testCases: 0 });
      const a = await openCataract1k(again.dir);
      for (let g = 0; g < 2; g++) {
        const [x, y] = await Promise.all([a.loadImage(a.frames[g]), ds.loadImage(ds.frames[g])]);
        expect(Buffer.from(x.data).equals(Buffer.from(y.data))).toBe(true);
        expect(a.frames[g].objects).toEqual(ds.frames[g].objects.map((o) => ({ ...o })));
      }
    } finally {
      await again.cleanup();
    }
  });

  it('replaces only a dataset it wrote', async () => {
    await expect(generateSyntheticDataset(tmp.dir, options)).rejects.toThrow(/exists \(pass overwrite/);
    const other = await tempDir('synthetic-foreign');
    try {
      await put(join(other.dir, 'Annotations/keep.txt'), 'real data');
      await expect(generateSyntheticDataset(other.dir, { ...options, overwrite: true })).rejects.toThrow(/not a synthetic dataset/);
    } finally {
      await other.cleanup();
    }
  });
});

describe('bench generate flags', () => {
  it('parses sizes, counts and ranges', () => {
    const a = parseGenerateArgs(['out', '--seed', '4', '--cases', '5', '--frames', '3', '--size', '512x384', '--instruments', '1-2', '--val', '1', '--test', '2', '--no-coco', '--force']);
    expect(a.out).toBe('out');
    expect(a.options).toEqual({ seed: 4, cases: 5, framesPerCase: 3, width: 512, height: 384, minInstruments: 1, maxInstruments: 2, valCases: 1, testCases: 2, coco: false, overwrite: true });
    expect(() => parseGenerateArgs(['--size', '512'])).toThrow(/--size needs WxH/);
    expect(() => parseGenerateArgs(['--bogus'])).toThrow(/unknown flag --bogus/);
  });
});
