import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesSource, ZipArchive } from '@rpsam2/tensor';
import { decodeGreyPng } from '@rpsam2/sam2';
import { IssueLog, parseCocoInstances, parseSuperviselyAnnotation, rasterizeShape } from '@rpsam2/data';
import { openCataract1k } from '../../bench/src/datasets/cataract1k.js';
import { encodePng } from '../../bench/src/datasets/png.js';
import { buildCoco } from '../src/export/coco.js';
import { buildDatasetZip, buildMasksZip } from '../src/export/dataset-zip.js';
import { checkExportFrames, maskBbox, type ExportFrame, type ExportObject } from '../src/export/frames.js';
import { fileStem, labelMap, pngMasks, safeName } from '../src/export/png-masks.js';
import { superviselyAnnotation, superviselyMeta } from '../src/export/supervisely.js';
import { dosDateTime, ZipWriter } from '../src/export/zip-writer.js';
import { defaultClasses } from '../src/state/classes.js';

const W = 40;
const H = 30;
const classes = defaultClasses();

/** A mask from a predicate over pixel centres. */
function mask(inside: (x: number, y: number) => boolean, w = W, h = H): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = inside(x + 0.5, y + 0.5) ? 1 : 0;
  return m;
}

const disc = mask((x, y) => (x - 12) ** 2 + (y - 10) ** 2 < 36); // one region, no hole
const ring = mask((x, y) => {
  const r = (x - 28) ** 2 + (y - 15) ** 2;
  return r < 81 && r >= 16;
}); // a hole
const twoParts = mask((x, y) => (x > 2 && x < 8 && y > 20 && y < 27) || (x > 30 && x < 37 && y > 2 && y < 6));
// Pixels touching only at a corner are separate 4-connected regions.
const diagonal = mask((x, y) => (Math.floor(x) === 20 && Math.floor(y) === 20) || (Math.floor(x) === 21 && Math.floor(y) === 21));

function obj(id: number, classId: number, m: Uint8Array): ExportObject {
  return { id, classId, mask: m, method: 'rpsam2', prompt: { points: [{ x: 12, y: 10, label: 1 }], box: null }, refined: [[12.5, 9.75]], iou: 0.875 };
}

const frames: ExportFrame[] = [
  { fileName: 'case5013_01.png', caseName: 'case_5013', width: W, height: H, objects: [obj(1, 4, disc), obj(2, 8, ring)] },
  { fileName: 'case5013_02.png', caseName: 'case_5013', width: W, height: H, objects: [obj(3, 1, twoParts), obj(4, 10, diagonal)] },
];

describe('geometry helpers', () => {
  it('computes tight pixel boxes', () => {
    const m = new Uint8Array(5 * 4);
    m[1 * 5 + 2] = 1;
    m[3 * 5 + 4] = 1;
    expect(maskBbox(m, 5, 4)).toEqual([2, 1, 3, 3]);
    expect(maskBbox(new Uint8Array(20), 5, 4)).toEqual([0, 0, 0, 0]);
  });

  it('refuses frames it cannot write', () => {
    expect(() => checkExportFrames([frames[0], { ...frames[0] }], classes)).toThrow(/two frames are named case_5013\/case5013_01.png/);
    expect(() => checkExportFrames([{ ...frames[0], objects: [obj(1, 4, new Uint8Array(5))] }], classes)).toThrow(/object 1 mask has 5 values for 40×30/);
    expect(() => checkExportFrames([{ ...frames[0], objects: [obj(9, 77, disc)] }], classes)).toThrow(/class id 77, which is not in the class list/);
    expect(() => checkExportFrames([{ ...frames[0], fileName: 'a/b.png' }], classes)).toThrow(/must not contain folders/);
  });
});

describe('COCO export', () => {
  it('reads back with the bench loader to exactly the masks, polygons where exact and RLE otherwise', () => {
    const doc = buildCoco(frames, classes, { date: '2025-01-01T00:00:00.000Z' });
    const log = new IssueLog();
    const images = parseCocoInstances(JSON.stringify(doc), 'instances.json', log);
    expect(log.issues).toEqual([]);
    expect(images!.map((i) => i.fileName)).toEqual(['case5013_01.png', 'case5013_02.png']);
    const kinds = doc.annotations.map((a) => (Array.isArray(a.segmentation) ? 'polygon' : 'rle'));
    expect(kinds).toEqual(['polygon', 'rle', 'rle', 'rle']);
    const all = frames.flatMap((f) => f.objects);
    const loaded = images!.flatMap((im) => im.objects.map((o) => ({ o, im })));
    expect(loaded).toHaveLength(4);
    loaded.forEach(({ o, im }, k) => {
      expect(Array.from(rasterizeShape(o.shape, im.width, im.height).data)).toEqual(Array.from(all[k].mask));
    });
    expect(loaded.map(({ o }) => o.classKey)).toEqual(['IA', 'PhT', 'CC', 'S']);
    expect(doc.categories).toHaveLength(10);
    expect(doc.annotations[0]).toMatchObject({ image_id: 1, category_id: 4, iscrowd: 0, area: disc.reduce((a, b) => a + b, 0), rpsam2: { method: 'rpsam2', points: [[12, 10, 1]], refined: [[12.5, 9.75]], iou: 0.875 } });
    expect(doc.annotations[0].bbox).toEqual(maskBbox(disc, W, H));
  });

  it("writes every object as RLE with segmentation 'rle', and custom file names", () => {
    const doc = buildCoco(frames, classes, { segmentation: 'rle', fileName: (f) => `${f.caseName}/img/${f.fileName}` });
    expect(doc.annotations.every((a) => !Array.isArray(a.segmentation))).toBe(true);
    expect(doc.images[0].file_name).toBe('case_5013/img/case5013_01.png');
    const images = parseCocoInstances(JSON.stringify(doc), 'x', new IssueLog())!;
    expect(Array.from(rasterizeShape(images[0].objects[0].shape, W, H).data)).toEqual(Array.from(disc));
  });
});

describe('Supervisely export', () => {
  it('writes one polygon object per region; their union is the mask', () => {
    const ann = superviselyAnnotation(frames[1], classes);
    const log = new IssueLog();
    const parsed = parseSuperviselyAnnotation(JSON.stringify(ann), 'ann.json', log)!;
    expect(log.issues).toEqual([]);
    expect(parsed).toMatchObject({ width: W, height: H });
    // twoParts → 2 objects, diagonal → 2 objects.
    expect(parsed.objects.map((o) => o.classKey)).toEqual(['CC', 'CC', 'S', 'S']);
    expect(ann.objects.map((o) => o.tags[0].value)).toEqual([3, 3, 4, 4]);
    for (const [id, m] of [[3, twoParts], [4, diagonal]] as const) {
      const union = new Uint8Array(W * H);
      parsed.objects.forEach((o, k) => {
        if (ann.objects[k].tags[0].value !== id) return;
        const r = rasterizeShape(o.shape, W, H).data;
        for (let i = 0; i < r.length; i++) union[i] |= r[i];
      });
      expect(Array.from(union)).toEqual(Array.from(m));
    }
  });

  it('keeps holes as interior rings', () => {
    const ann = superviselyAnnotation(frames[0], classes);
    expect(ann.objects[1].points.interior).toHaveLength(1);
    const parsed = parseSuperviselyAnnotation(JSON.stringify(ann), 'ann.json', new IssueLog())!;
    expect(Array.from(rasterizeShape(parsed.objects[1].shape, W, H).data)).toEqual(Array.from(ring));
    expect(superviselyMeta(classes).classes[3]).toEqual({ id: 4, title: 'Irrigation-Aspiration', shape: 'polygon', color: classes[3].color });
  });
});

describe('PNG masks', () => {
  it('writes a label map (later objects win) and 0/255 masks per object', () => {
    const overlap: ExportFrame = { ...frames[0], objects: [obj(1, 4, disc), obj(2, 8, mask((x) => x < 12))] };
    const lm = labelMap(overlap, classes);
    const at = (x: number, y: number) => lm[y * W + x];
    expect(at(12, 10)).toBe(4); // disc only
    expect(at(8, 10)).toBe(8); // both: the later object
    expect(at(2, 2)).toBe(8);
    expect(at(30, 25)).toBe(0);
    const files = pngMasks(overlap, classes);
    expect([...files.keys()]).toEqual(['case5013_01.png', 'case5013_01/01_IA.png', 'case5013_01/02_PhT.png']);
    expect(Array.from(decodeGreyPng(files.get('case5013_01.png')!).data)).toEqual(Array.from(lm));
    expect(Array.from(decodeGreyPng(files.get('case5013_01/01_IA.png')!).data)).toEqual(Array.from(disc, (v) => v * 255));
    expect(fileStem('a.b.png')).toBe('a.b');
    expect(safeName('Ph T/ä')).toBe('Ph_T');
  });
});

describe('ZipWriter', () => {
  it('writes archives that read back byte for byte, deflating what compresses', async () => {
    const json = JSON.stringify({ a: Array.from({ length: 500 }, (_, i) => i % 7) });
    const noise = new Uint8Array(3000);
    let s = 1;
    for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    const zip = new ZipWriter({ date: new Date(2024, 2, 5, 14, 7, 9) });
    await zip.add('dir/a.json', json);
    await zip.add('dir/sub/noise.bin', noise);
    await zip.add('empty.txt', '');
    await zip.add('ünïcode ✓.txt', 'x');
    const bytes = zip.finish();
    const ar = await ZipArchive.open(bytesSource(bytes, 't.zip'));
    expect(ar.names()).toEqual(['dir/a.json', 'dir/sub/noise.bin', 'empty.txt', 'ünïcode ✓.txt']);
    expect(new TextDecoder().decode(await ar.read('dir/a.json'))).toBe(json);
    expect(Array.from(await ar.read('dir/sub/noise.bin'))).toEqual(Array.from(noise));
    expect((await ar.read('empty.txt')).length).toBe(0);
    expect(ar.entry('dir/a.json').method).toBe(8);
    expect(ar.entry('dir/sub/noise.bin').method).toBe(0);
    const stored = new ZipWriter({ compress: false });
    await stored.add('a.json', json);
    const ar2 = await ZipArchive.open(bytesSource(stored.finish(), 's.zip'));
    expect(ar2.entry('a.json').method).toBe(0);
    expect(new TextDecoder().decode(await ar2.read('a.json'))).toBe(json);
  });

  it('refuses bad and duplicate names', async () => {
    const zip = new ZipWriter();
    await zip.add('a.txt', 'x');
    await expect(zip.add('a.txt', 'y')).rejects.toThrow(/duplicate entry 'a.txt'/);
    for (const bad of ['/abs', '../up', 'a//b', 'a\\b', '']) await expect(zip.add(bad, 'x')).rejects.toThrow(/bad entry name/);
  });

  it('encodes MS-DOS dates', () => {
    // 2024-03-05 14:07:09 → date (44 << 9) | (3 << 5) | 5, time (14 << 11) | (7 << 5) | 4.
    expect(dosDateTime(new Date(2024, 2, 5, 14, 7, 9))).toEqual({ date: 22629, time: 28900 });
    expect(dosDateTime(new Date(1970, 0, 1, 0, 0, 0)).date >> 9).toBe(0);
  });
});

describe('dataset archive', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'studio-export-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("unpacks into a folder that the bench's Cataract-1k loader reads (Supervisely and COCO) with the same masks", async () => {
    const image = encodePng({ width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3).fill(90) });
    const zipBytes = await buildDatasetZip(
      frames.map((f) => ({ ...f, image })),
      classes,
      { model: 'default model', shiftBlock: 'best.safetensors' },
      { date: new Date(2025, 0, 2) },
    );
    const ar = await ZipArchive.open(bytesSource(zipBytes, 'labels.zip'));
    for (const name of ar.names()) {
      const out = join(tmp, name);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, await ar.read(name));
    }
    expect(ar.names()).toContain('Annotations/Images-and-Supervisely-Annotations/meta.json');
    expect(ar.names()).toContain('Annotations/Coco-Annotations/case_5013/annotations/instances.json');
    expect(ar.names()).toContain('masks/case_5013/case5013_02/01_CC.png');
    const record = JSON.parse(new TextDecoder().decode(await ar.read('studio.json')));
    expect(record).toMatchObject({ format: 'rpsam2-studio/1', model: 'default model', shiftBlock: 'best.safetensors' });
    expect(record.frames[1].objects[0]).toMatchObject({ id: 3, classId: 1, method: 'rpsam2' });

    const want = frames.map((f) => f.objects.map((o) => Array.from(o.mask)));
    const sup = await openCataract1k(tmp, { annotations: 'supervisely' });
    expect(sup.frames.map((f) => f.id)).toEqual(['case_5013/case5013_01.png', 'case_5013/case5013_02.png']);
    // Supervisely splits objects into regions: compare the class-wise unions.
    for (let k = 0; k < 2; k++) {
      const objs = await sup.loadObjects(sup.frames[k]);
      for (const o of frames[k].objects) {
        const key = classes.find((c) => c.id === o.classId)!.key;
        const union = new Uint8Array(W * H);
        for (const l of objs.filter((x) => x.classKey === key)) for (let i = 0; i < union.length; i++) union[i] |= l.mask.data[i];
        expect(Array.from(union)).toEqual(Array.from(o.mask));
      }
    }
    const coco = await openCataract1k(tmp, { annotations: 'coco' });
    for (let k = 0; k < 2; k++) {
      const objs = await coco.loadObjects(coco.frames[k]);
      expect(objs.map((o) => Array.from(o.mask.data))).toEqual(want[k]);
    }
    expect(Array.from(decodeGreyPng(await ar.read('masks/case_5013/case5013_01.png')).data)).toEqual(Array.from(labelMap(frames[0], classes)));
  });

  it('refuses case folders the loader would not read', async () => {
    await expect(buildDatasetZip([{ ...frames[0], caseName: 'video1', image: new Uint8Array(1) }], classes, { model: 'm', shiftBlock: null })).rejects.toThrow(/'video1' is not named case_XXXX/);
  });

  it('writes the PNG masks alone', async () => {
    const ar = await ZipArchive.open(bytesSource(await buildMasksZip(frames, classes), 'm.zip'));
    expect(ar.names()).toEqual(['case_5013/case5013_01.png', 'case_5013/case5013_01/01_IA.png', 'case_5013/case5013_01/02_PhT.png', 'case_5013/case5013_02.png', 'case_5013/case5013_02/01_CC.png', 'case_5013/case5013_02/02_S.png', 'classes.json']);
    const legend = JSON.parse(new TextDecoder().decode(await ar.read('classes.json')));
    expect(legend.classes[7]).toMatchObject({ value: 8, key: 'PhT', name: 'Phacoemulsification Tip' });
  });
});
