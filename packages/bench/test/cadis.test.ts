/**
 * The CaDIS loader on small folders written here in the real layout (VideoNN/{Images,Labels}):
 * the official split, the Task II mapping with its ignore label, grey and palette label maps, and
 * malformed folders reported with the file and the reason.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CADIS_TASK2_LUT, DatasetError, openCadis, type CadisDataset } from '../src/datasets/index.js';
import { greyPng, palettePng, put, rgbPng, useTempDir } from './helpers/fixtures.js';

const W = 24;
const H = 16;

/** A label map: background 0 (pupil), a cornea band, then rectangles of raw ids. */
function labels(rects: [number, number, number, number, number][]): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let x = 0; x < W; x++) m[x] = 6; // first row: cornea
  for (const [id, x0, y0, x1, y1] of rects) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * W + x] = id;
  return m;
}

// Video01 (train): Rycroft cannula handle (20 → Cannula), cystotome handle (22 → Cap. Cystotome),
// suture needle (25 → ignore). Video05 (val): capsulorhexis forceps (19). Video02 (test): a palette PNG.
const V1 = labels([
  [20, 2, 2, 5, 5], // 16 px
  [22, 10, 2, 12, 3], // 6 px
  [25, 15, 10, 20, 12], // ignored in Task II
]);
const V5 = labels([[19, 3, 3, 8, 8]]); // 36 px
const V2 = labels([[13, 0, 8, 3, 9]]); // 8 px phaco handpiece

describe('CaDIS loader (valid data)', () => {
  const tmp = useTempDir('cadis');
  let ds: CadisDataset;
  beforeAll(async () => {
    await put(join(tmp.dir, 'Video01/Images/Video01_frame000100.png'), rgbPng(W, H, 1));
    await put(join(tmp.dir, 'Video01/Labels/Video01_frame000100.png'), greyPng(W, H, V1));
    await put(join(tmp.dir, 'Video05/Images/Video05_frame000200.png'), rgbPng(W, H, 2));
    await put(join(tmp.dir, 'Video05/Labels/Video05_frame000200.png'), greyPng(W, H, V5));
    const palette = new Uint8Array(36 * 3).map((_, i) => (i * 37 + 11) & 255);
    for (let i = 0; i < 36; i++) palette[3 * i] = i; // distinct colours
    await put(join(tmp.dir, 'Video02/Images/Video02_frame000300.png'), rgbPng(W, H, 3));
    await put(join(tmp.dir, 'Video02/Labels/Video02_frame000300.png'), palettePng(W, H, V2, palette));
    ds = await openCadis(tmp.dir, { validateLabels: true });
  });

  it('the official video split', () => {
    expect(ds.frames.map((f) => `${f.id}:${f.split}`)).toEqual(['Video01/Video01_frame000100.png:train', 'Video02/Video02_frame000300.png:test', 'Video05/Video05_frame000200.png:val']);
    expect(ds.split.counts).toEqual({ train: 1, val: 1, test: 1, none: 0 });
    expect(ds.issues).toEqual([]);
  });

  it('Task II table: handles merge with their instruments, rare classes are ignored (255)', () => {
    expect(CADIS_TASK2_LUT[20]).toBe(7); // Rycroft cannula handle → Cannula
    expect(CADIS_TASK2_LUT[32]).toBe(7); // hydrodissection cannula handle → Cannula
    expect(CADIS_TASK2_LUT[22]).toBe(8); // cystotome handle → Cap. Cystotome
    expect(CADIS_TASK2_LUT[33]).toBe(9); // Troutman forceps → Tissue Forceps
    expect(CADIS_TASK2_LUT[19]).toBe(16); // capsulorhexis forceps
    expect(CADIS_TASK2_LUT[25]).toBe(255); // suture needle → ignore
    expect(CADIS_TASK2_LUT[6]).toBe(6);
    expect(ds.instrumentKeys).toEqual(['Cannula', 'Cap. Cystotome', 'Tissue Forceps', 'Primary Knife', 'Ph. Handpiece', 'Lens Injector', 'I/A Handpiece', 'Secondary Knife', 'Micromanipulator', 'Cap. Forceps']);
  });

  it('objects are class regions (ignore excluded); anatomy on request', async () => {
    const f = ds.frames[0];
    const labelMap = await ds.loadLabels(f);
    expect(labelMap.data[15 * 0 + 3 * W + 3]).toBe(7);
    expect(labelMap.data[11 * W + 16]).toBe(255);
    const inst = await ds.loadObjects(f);
    expect(inst.map((o) => [o.classKey, o.mask.data.reduce((a, b) => a + b, 0)])).toEqual([
      ['Cannula', 16],
      ['Cap. Cystotome', 6],
    ]);
    const all = await ds.loadObjects(f, { kinds: ['instrument', 'anatomy', 'other'] });
    expect(all.map((o) => o.classKey)).toEqual(['Pupil', 'Cornea', 'Cannula', 'Cap. Cystotome']);
    const val = await ds.loadObjects(ds.framesIn('val')[0]);
    expect(val.map((o) => [o.classKey, o.mask.data.reduce((a, b) => a + b, 0)])).toEqual([['Cap. Forceps', 36]]);
  });

  it('reads palette label maps by index', async () => {
    const t = ds.framesIn('test')[0];
    expect(Array.from((await ds.loadRawLabels(t)).data)).toEqual(Array.from(V2));
    expect((await ds.loadObjects(t)).map((o) => o.classKey)).toEqual(['Ph. Handpiece']);
  });

  it('raw classes (36) on request', async () => {
    const raw = await openCadis(tmp.dir, { task: 'raw' });
    const objs = await raw.loadObjects(raw.frames[0]);
    expect(objs.map((o) => o.classKey)).toEqual(['Rycroft Cannula Handle', 'Capsulorhexis Cystotome Handle', 'Suture Needle']);
  });

  it('uses a split file of ours', async () => {
    const file = join(tmp.dir, 'split.json');
    await put(file, JSON.stringify({ test: ['Video01', 'Video05'] }));
    const s = await openCadis(tmp.dir, { split: file });
    expect(s.split.counts).toEqual({ train: 0, val: 0, test: 2, none: 1 });
  });
});

describe('CaDIS loader (malformed data)', () => {
  const tmp = useTempDir('cadis-bad');
  beforeAll(async () => {
    const v = (p: string) => join(tmp.dir, 'Video03', p);
    await put(v('Images/a.png'), rgbPng(W, H)); // no label
    await put(v('Labels/b.png'), greyPng(W, H, V1)); // no image
    const bad = V1.slice();
    bad[5 * W + 7] = 40;
    await put(v('Images/c.png'), rgbPng(W, H));
    await put(v('Labels/c.png'), greyPng(W, H, bad)); // value 40 at (7, 5)
    await put(v('Images/d.png'), rgbPng(W, H));
    await put(v('Labels/d.png'), greyPng(W + 1, H, new Uint8Array((W + 1) * H))); // size mismatch
    await put(v('Images/e.png'), rgbPng(W, H));
    await put(v('Labels/e.png'), greyPng(W, H, V5));
    await put(join(tmp.dir, 'Extras/readme.txt'), 'not a video');
  });

  it('strict: reports missing pairs and mismatched sizes with their files', async () => {
    const err = (await openCadis(tmp.dir).catch((e) => e)) as DatasetError;
    expect(err).toBeInstanceOf(DatasetError);
    const errors = err.issues.filter((i) => i.severity === 'error').map((i) => `${i.file.slice(tmp.dir.length + 1)}: ${i.message}`);
    expect(errors).toEqual([
      expect.stringMatching(/^Video03\/Labels\/b.png: label map has no image in .*Video03\/Images$/),
      expect.stringMatching(/^Video03\/Images\/a.png: image has no label map in .*Video03\/Labels$/),
      'Video03/Labels/d.png: label map is 25×16, the image 24×16',
    ]);
    expect(err.issues.filter((i) => i.severity === 'warning').map((i) => i.file.slice(tmp.dir.length + 1))).toEqual(['Extras']);
  });

  it('label values above 35: an error naming the file, value and pixel (on load, or at open with validateLabels)', async () => {
    const ds = await openCadis(tmp.dir, { strict: false });
    expect(ds.frames.map((f) => f.fileName)).toEqual(['c.png', 'e.png']);
    await expect(ds.loadObjects(ds.frames[0])).rejects.toThrow(/Video03\/Labels\/c.png: label value 40 at \(7, 5\) is not a CaDIS class id \(0–35\)$/);
    const checked = await openCadis(tmp.dir, { strict: false, validateLabels: true });
    expect(checked.issues.some((i) => i.file.endsWith('Labels/c.png') && /label value 40 at \(7, 5\)/.test(i.message))).toBe(true);
  });
});
