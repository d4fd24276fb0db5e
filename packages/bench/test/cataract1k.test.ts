/**
 * The Cataract-1k loader on small datasets written here in the real layouts: Supervisely and COCO
 * annotations, class-title variants, holes, splits (ours, the dataset's CSVs, the fallback), and
 * malformed files that must be reported with the file and the reason.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rasterizeRings } from '@rpsam2/data';
import { DatasetError, openCataract1k, resolveCataract1kClass, CATARACT1K_CSV_DIR, type Cataract1kDataset } from '../src/datasets/index.js';
import { compressCounts, put, rgbPng, svAnnotation, svObject, useTempDir } from './helpers/fixtures.js';
import { encodeRle } from '../src/datasets/coco-rle.js';

const W = 40;
const H = 30;
const SUP = 'Annotations/Images-and-Supervisely-Annotations';

const RECT = [[2, 1], [6, 1], [6, 4], [2, 4]]; // 12 pixels
const TRI = [[20, 2], [30, 2], [20, 8]];
const OUTER = [[10, 10], [20, 10], [20, 20], [10, 20]];
const HOLE = [[12, 12], [12, 14], [14, 14], [14, 12]]; // 100 − 4 pixels

/** case → frame → objects (class title, rings). */
const FRAMES: Record<string, Record<string, [string, number[][][]][]>> = {
  case_5013: {
    'case5013_01.png': [
      ['Phacoemulsification Tip', [RECT]],
      ['capsulorhexis-FORCEPS', [TRI]],
      ['Pupil', [OUTER, HOLE]],
      ['lense', [[[30, 20], [38, 20], [38, 28], [30, 28]]]],
    ],
    'case5013_02.png': [
      ['IA', [RECT]],
      ['Slit Knife', [TRI]],
    ],
  },
  case_5014: {
    'case5014_01.png': [['cartridge', [OUTER]]],
    'case5014_02.png': [
      ['rhexis', [RECT]],
      ['Spatula', [TRI]],
    ],
  },
  case_5015: {
    'case5015_01.png': [
      ['Katena Forceps', [RECT]],
      ['gauge', [TRI]],
      ['Incision  knife', [OUTER, HOLE]],
    ],
  },
};

async function writeSupervisely(root: string): Promise<void> {
  await put(join(root, SUP, 'meta.json'), '{"classes": []}');
  let seed = 0;
  for (const [c, frames] of Object.entries(FRAMES)) {
    for (const [f, objects] of Object.entries(frames)) {
      await put(join(root, SUP, c, 'img', f), rgbPng(W, H, seed++));
      await put(join(root, SUP, c, 'ann', `${f}.json`), svAnnotation(W, H, objects.map(([t, [ext, ...holes]], i) => svObject(t, ext, holes, i + 1))));
    }
  }
}

/** COCO per case: category ids permuted per case; the holed shapes as compressed RLE. */
async function writeCoco(root: string): Promise<void> {
  const names = ['Pupil', 'Lens', 'Capsulorhexis Cystotome', 'Capsulorhexis Forceps', 'Gauge', 'Irrigation-Aspiration', 'Incision Knife', 'Katena Forceps', 'Lens Injector', 'Phacoemulsification Tip', 'Slit Knife', 'Spatula'];
  let caseIndex = 0;
  for (const [c, frames] of Object.entries(FRAMES)) {
    const ids = new Map(names.map((n, i) => [n, ((i + 5 * caseIndex) % names.length) + 1]));
    caseIndex++;
    const images: unknown[] = [];
    const annotations: unknown[] = [];
    for (const [f, objects] of Object.entries(frames)) {
      const imageId = images.length + 10;
      images.push({ id: imageId, file_name: f, width: W, height: H });
      for (const [t, rings] of objects) {
        const name = names.find((n) => resolveCataract1kClass(n)!.key === resolveCataract1kClass(t)!.key)!;
        let segmentation: unknown;
        if (rings.length > 1) {
          const rle = encodeRle({ width: W, height: H, data: rasterizeRings(rings, W, H) });
          segmentation = { size: rle.size, counts: compressCounts(rle.counts as number[]) };
        } else segmentation = [rings[0].flat()];
        annotations.push({ id: annotations.length + 1, image_id: imageId, category_id: ids.get(name), segmentation, area: 0, bbox: [0, 0, 1, 1], iscrowd: 0 });
      }
    }
    const categories = names.map((n) => ({ id: ids.get(n), name: n, supercategory: '' }));
    await put(join(root, 'Annotations/Coco-Annotations', c, 'annotations/instances.json'), JSON.stringify({ images, categories, annotations }));
  }
}

const ones = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

describe('Cataract-1k loader (valid data)', () => {
  const tmp = useTempDir('cat1k');
  let ds: Cataract1kDataset;
  beforeAll(async () => {
    await writeSupervisely(tmp.dir);
    await writeCoco(tmp.dir);
    ds = await openCataract1k(tmp.dir);
  });

  it('lists frames in natural order with ids case/file and sizes', () => {
    expect(ds.frames.map((f) => f.id)).toEqual(['case_5013/case5013_01.png', 'case_5013/case5013_02.png', 'case_5014/case5014_01.png', 'case_5014/case5014_02.png', 'case_5015/case5015_01.png']);
    expect(ds.frames[0]).toMatchObject({ width: W, height: H, group: 'case_5013' });
    expect(ds.issues).toEqual([]);
  });

  it('maps class-title variants to the 10 classes and keeps anatomy apart', async () => {
    const keys = ds.frames.flatMap((f) => f.objects.map((o) => `${o.classKey}:${o.kind}`));
    expect(keys).toEqual([
      'PhT:instrument',
      'CF:instrument',
      'pupil:anatomy',
      'lens:anatomy',
      'IA:instrument',
      'SK:instrument',
      'LI:instrument',
      'CC:instrument',
      'S:instrument',
      'KF:instrument',
      'G:instrument',
      'IK:instrument',
    ]);
    const inst = await ds.loadObjects(ds.frames[0]);
    expect(inst.map((o) => o.classKey)).toEqual(['PhT', 'CF']);
    const all = await ds.loadObjects(ds.frames[0], { kinds: ['instrument', 'anatomy'] });
    expect(all.map((o) => o.classKey)).toEqual(['PhT', 'CF', 'pupil', 'lens']);
  });

  it('rasterises polygons at pixel centres, even-odd (holes)', async () => {
    const [pht, , pupil] = await ds.loadObjects(ds.frames[0], { kinds: ['instrument', 'anatomy'] });
    expect(ones(pht.mask.data)).toBe(12);
    expect(pht.mask.data[1 * W + 2]).toBe(1);
    expect(pht.mask.data[1 * W + 6]).toBe(0);
    expect(ones(pupil.mask.data)).toBe(96);
    expect(pupil.mask.data[13 * W + 13]).toBe(0);
  });

  it('the default split without a split file: every fifth case is test (the last one with fewer cases)', () => {
    expect(ds.split.source).toMatch(/^fallback/);
    expect(ds.framesIn('test').map((f) => f.group)).toEqual(['case_5015']);
    expect(ds.split.counts).toEqual({ train: 4, val: 0, test: 1, none: 0 });
  });

  it('the COCO variant maps categories by name per case and gives the same masks (RLE and polygons)', async () => {
    const coco = await openCataract1k(tmp.dir, { annotations: 'coco' });
    expect(coco.issues).toEqual([]);
    expect(coco.frames.map((f) => f.id)).toEqual(ds.frames.map((f) => f.id));
    for (let i = 0; i < ds.frames.length; i++) {
      expect(coco.frames[i].imagePath).toBe(ds.frames[i].imagePath); // found in the Supervisely img/ folder
      const a = await ds.loadObjects(ds.frames[i], { kinds: ['instrument', 'anatomy'] });
      const b = await coco.loadObjects(coco.frames[i], { kinds: ['instrument', 'anatomy'] });
      expect(b.map((o) => o.classKey)).toEqual(a.map((o) => o.classKey));
      for (let k = 0; k < a.length; k++) expect(Array.from(b[k].mask.data)).toEqual(Array.from(a[k].mask.data));
    }
  });

  it('loads the frame pixels', async () => {
    const img = await ds.loadImage(ds.frames[1]);
    expect(img).toMatchObject({ width: W, height: H, channels: 3 });
    expect(img.data.length).toBe(W * H * 3);
  });

  it('uses our split file (cases or frames)', async () => {
    const file = join(tmp.dir, 'my-split.json');
    await put(file, JSON.stringify({ train: ['case_5013'], val: ['case_5014'], test: ['case_5015/case5015_01.png', 'case_9999'] }));
    const s = await openCataract1k(tmp.dir, { split: file });
    expect(s.split.source).toBe(file);
    expect(s.split.counts).toEqual({ train: 2, val: 2, test: 1, none: 0 });
    expect(s.issues.map((i) => i.message)).toEqual(["test lists 'case_9999', which is not in the dataset"]);
  });

  it("re-roots the dataset's CSV paths (auto-discovered fold 0, or given per split)", async () => {
    const csv = (rows: string[]) =>
      'Unnamed: 0,imgs,masks\n' +
      rows.map((r, i) => `${i},/storage/homefs/x/Cat3K_30Vids_Segmentation/30videos_FinalRevision/${r},/storage/homefs/x/${r.replace('/img/', '/mask_instruments_MultiClass/')}`).join('\n');
    const dir = join(tmp.dir, CATARACT1K_CSV_DIR);
    await put(join(dir, 'Cat1k_instrument_0_train.csv'), csv(['case_5013/img/case5013_01.png', 'case_5013/img/case5013_02.png', 'case_5014/img/case5014_01.png']));
    await put(join(dir, 'Cat1k_instrument_0_test.csv'), csv(['case_5015/img/case5015_01.png']));
    const s = await openCataract1k(tmp.dir);
    expect(s.split.source).toContain('Cat1k_instrument_0_train.csv');
    expect(s.split.counts).toEqual({ train: 3, val: 0, test: 1, none: 1 });
    expect(s.frames.find((f) => f.id === 'case_5014/case5014_02.png')!.split).toBeUndefined();

    // Another naming of the files: falls back to the cases, with a warning.
    const other = join(tmp.dir, 'other.csv');
    await put(other, csv(['case5014/img/frame_0001.png']));
    const t = await openCataract1k(tmp.dir, { split: { test: other } });
    expect(t.split.counts).toEqual({ train: 0, val: 0, test: 2, none: 3 });
    expect(t.issues.some((i) => i.severity === 'warning' && /assigning whole cases/.test(i.message))).toBe(true);
  });
});

describe('Cataract-1k loader (malformed data)', () => {
  const tmp = useTempDir('cat1k-bad');
  const dir = (...p: string[]) => join(tmp.dir, SUP, 'case_6000', ...p);
  beforeAll(async () => {
    const good = svAnnotation(W, H, [svObject('Spatula', RECT)]);
    for (const f of ['b', 'c', 'd', 'e', 'f', 'g', 'h']) await put(dir('img', `${f}.png`), rgbPng(W, H));
    await put(dir('ann', 'a.png.json'), good); // no image a.png
    await put(dir('ann', 'b.png.json'), '{"size": {"height": 30, "width": 40}, "objects": [');
    await put(dir('ann', 'c.png.json'), svAnnotation(W, H, [svObject('Spatula', [[1, 1], [5, 5]]), svObject('Gauge', TRI, [], 2)]));
    await put(dir('ann', 'd.png.json'), svAnnotation(W, H, [svObject('Laser Probe', RECT)]));
    await put(dir('ann', 'e.png.json'), svAnnotation(50, H, [svObject('Spatula', RECT)]));
    // f.png has no annotation
    await put(dir('ann', 'g.png.json'), good);
    await put(dir('ann', 'h.png.json'), svAnnotation(W, H, [svObject('Gauge', [[1.2, 1.2], [1.4, 1.2], [1.3, 1.4]])])); // between pixel centres
    await put(join(tmp.dir, 'Annotations/Coco-Annotations/case_6000/annotations/instances.json'), JSON.stringify({
      images: [
        { id: 1, file_name: 'g.png', width: W, height: H },
        { id: 2, file_name: 'missing.png', width: W, height: H },
      ],
      categories: [
        { id: 3, name: 'Spatula' },
        { id: 4, name: 'Vitrector' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 3, segmentation: [[1, 1, 5, 1, 5]] },
        { id: 2, image_id: 7, category_id: 3, segmentation: [[1, 1, 5, 1, 5, 5]] },
        { id: 3, image_id: 1, category_id: 4, segmentation: [[1, 1, 5, 1, 5, 5]] },
        { id: 4, image_id: 1, category_id: 3, segmentation: [[1, 1, 9, 1, 9, 9]] },
      ],
    }));
  });

  it('strict: throws one error listing every bad file and why', async () => {
    const err = (await openCataract1k(tmp.dir).catch((e) => e)) as DatasetError;
    expect(err).toBeInstanceOf(DatasetError);
    const errors = err.issues.filter((i) => i.severity === 'error').map((i) => `${i.file.slice(tmp.dir.length + 1)}: ${i.message}`);
    const base = `${SUP}/case_6000`;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${base}/ann/a.png.json: annotation has no image: .*img/a.png is missing$`)),
        expect.stringMatching(new RegExp(`^${base}/ann/b.png.json: bad JSON`)),
        `${base}/ann/c.png.json: object 0 ('Spatula'): exterior polygon has 2 points (a polygon needs at least 3)`,
        `${base}/ann/d.png.json: object 0: unknown class 'Laser Probe'`,
        expect.stringMatching(new RegExp(`^${base}/ann/e.png.json: size 50×30 disagrees with the image .*e.png \\(40×30\\)$`)),
      ]),
    );
    expect(errors).toHaveLength(5);
    expect(err.message).toMatch(/^cataract1k: 5 errors, 1 warning/);
    const warnings = err.issues.filter((i) => i.severity === 'warning');
    expect(warnings.map((w) => w.file.slice(tmp.dir.length + 1) + ': ' + w.message)).toEqual([`${base}/img/f.png: image has no annotation (ann/f.png.json); skipped`]);
  });

  it('non-strict: skips what is bad, keeps the rest and the issues', async () => {
    const ds = await openCataract1k(tmp.dir, { strict: false });
    expect(ds.frames.map((f) => f.fileName)).toEqual(['c.png', 'd.png', 'g.png', 'h.png']);
    expect(ds.frames[0].objects.map((o) => o.classKey)).toEqual(['G']); // the 2-point polygon is dropped
    expect(ds.frames[1].objects).toEqual([]);
    expect(ds.unknownClasses.get('Laser Probe')).toBe(1);
    // A polygon between pixel centres rasterises to nothing: dropped on load, with a warning.
    const h = ds.frames.find((f) => f.fileName === 'h.png')!;
    expect(await ds.loadObjects(h)).toEqual([]);
    expect(ds.issues.at(-1)).toMatchObject({ severity: 'warning', message: "object 0 ('Gauge') covers no pixel centre; skipped" });
  });

  it('COCO: unknown categories, dangling ids, odd polygons and missing images are reported', async () => {
    const err = (await openCataract1k(tmp.dir, { annotations: 'coco' }).catch((e) => e)) as DatasetError;
    expect(err).toBeInstanceOf(DatasetError);
    const msgs = err.issues.filter((i) => i.severity === 'error').map((i) => i.message);
    expect(msgs).toEqual([
      "categories[1]: unknown class 'Vitrector' (its annotations are skipped)",
      "annotations[0] ('Spatula'): polygon 0 has an odd number of coordinates (5)",
      "annotations[1]: image_id 7 is not in 'images'",
      expect.stringMatching(/^image 2 \('missing.png'\) has no file \(looked for .*images\/missing.png and .*img\/missing.png\)$/),
    ]);
    const ds = await openCataract1k(tmp.dir, { annotations: 'coco', strict: false });
    expect(ds.frames.map((f) => f.id)).toEqual(['case_6000/g.png']);
    expect(ds.frames[0].objects).toHaveLength(1);
  });

  it('says where the layout is missing', async () => {
    await expect(openCataract1k(join(tmp.dir, 'nope'))).rejects.toThrow(/no Annotations\/Images-and-Supervisely-Annotations folder here/);
  });
});
