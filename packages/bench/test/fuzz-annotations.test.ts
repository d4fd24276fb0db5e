/**
 * Property-based fuzzing (issue #22) of the dataset annotation loaders: Supervisely and COCO JSON,
 * generated (structure-aware, with hostile values) and mutated from valid files, then every
 * parsed object rasterised the way the benchmark does. Seeded and replayable (see the tensor
 * package's test/support/fuzz.js); each file is read (bad parts logged) or fails with an error
 * naming it, quickly — never a crash deep inside or a huge allocation from a claimed size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IssueLog, parseCocoInstances, parseSuperviselyAnnotation, rasterizeShape, encodeRle } from '../src/datasets/index.js';
import { expectTypedOutcome, fuzz, mutatedText } from '../../tensor/test/support/fuzz.js';
import { svAnnotation, svObject } from './helpers/fixtures.js';

const LABEL = 'fuzz-input.json';
const W = 40;
const H = 30;

/** Rasterises every object of every parsed image (what loadObjects does); returns the pixel count. */
function rasterizeAll(images: { width: number; height: number; objects: { shape: Parameters<typeof rasterizeShape>[0] }[] }[]): number {
  let n = 0;
  for (const im of images) for (const o of im.objects) n += rasterizeShape(o.shape, im.width, im.height, `${LABEL}: object`).data.length;
  return n;
}

const supervisely = (text: string) =>
  expectTypedOutcome(LABEL, () => {
    const log = new IssueLog();
    const a = parseSuperviselyAnnotation(text, LABEL, log);
    return a ? rasterizeAll([a]) : 0;
  });
const coco = (text: string) =>
  expectTypedOutcome(LABEL, () => {
    const log = new IssueLog();
    const images = parseCocoInstances(text, LABEL, log);
    return images ? rasterizeAll(images) : 0;
  });

// Values that break arithmetic and assumptions.
const hostile = fc.oneof(fc.integer({ min: -5, max: 60 }), fc.double({ noNaN: false }), fc.constantFrom(0, -1, 1e9, 2 ** 31, 2 ** 53, 1e308, null, 'x', true, [], {}));
const point = fc.oneof(fc.tuple(fc.double({ min: -10, max: 60, noNaN: true }), fc.double({ min: -10, max: 60, noNaN: true })), fc.array(hostile, { maxLength: 3 }));
const ring = fc.oneof(fc.array(point, { maxLength: 8 }), hostile);
const size = fc.oneof(fc.record({ width: fc.integer({ min: 1, max: 64 }), height: fc.integer({ min: 1, max: 64 }) }), fc.record({ width: hostile, height: hostile }));

describe('fuzz: Supervisely annotations', () => {
  const valid = svAnnotation(W, H, [svObject('Spatula', [[2, 1], [6, 1], [6, 4], [2, 4]]), svObject('Pupil', [[10, 10], [20, 10], [20, 20], [10, 20]], [[[12, 12], [12, 14], [14, 14], [14, 12]]], 2)]);

  it('a valid file, mutated', async () => {
    await fuzz('supervisely (mutated)', mutatedText(valid), supervisely, 3000);
  });

  it('generated structures with hostile values', async () => {
    const object = fc.record({ classTitle: fc.oneof(fc.constantFrom('Spatula', 'Gauge', 'Pupil', 'Slit Knife'), hostile), geometryType: fc.oneof(fc.constant('polygon'), hostile), points: fc.oneof(fc.record({ exterior: ring, interior: fc.oneof(fc.array(ring, { maxLength: 2 }), hostile) }), hostile) });
    const file = fc.record({ size, objects: fc.oneof(fc.array(object, { maxLength: 4 }), hostile) }).map((j) => JSON.stringify(j));
    await fuzz('supervisely (generated)', file, supervisely, 3000);
  });
});

describe('fuzz: COCO instances', () => {
  const rle = encodeRle({ width: W, height: H, data: Uint8Array.from({ length: W * H }, (_, i) => (i % 7 < 3 ? 1 : 0)) });
  const valid = JSON.stringify({
    images: [{ id: 1, file_name: 'a.png', width: W, height: H }],
    categories: [{ id: 3, name: 'Spatula' }, { id: 4, name: 'Pupil' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 3, segmentation: [[1, 1, 9, 1, 9, 9]] },
      { id: 2, image_id: 1, category_id: 4, segmentation: rle },
    ],
  });

  it('a valid file, mutated', async () => {
    await fuzz('coco (mutated)', mutatedText(valid), coco, 3000);
  });

  it('generated structures with hostile values (polygons, RLE sizes and counts)', async () => {
    const image = fc.record({ id: fc.oneof(fc.constant(1), hostile), file_name: fc.oneof(fc.constant('a.png'), hostile), width: fc.oneof(fc.constant(W), hostile), height: fc.oneof(fc.constant(H), hostile) });
    const segmentation = fc.oneof(
      fc.array(fc.array(fc.oneof(fc.double({ min: -10, max: 60, noNaN: true }), hostile), { maxLength: 10 }), { maxLength: 3 }),
      fc.record({ size: fc.oneof(fc.constant([H, W]), fc.array(hostile, { maxLength: 3 })), counts: fc.oneof(fc.array(fc.oneof(fc.nat({ max: 2000 }), hostile), { maxLength: 8 }), fc.string({ maxLength: 12 }), hostile) }),
      hostile,
    );
    const annotation = fc.record({ id: fc.nat(), image_id: fc.oneof(fc.constant(1), hostile), category_id: fc.oneof(fc.constantFrom(3, 4), hostile), segmentation });
    const file = fc
      .record({ images: fc.oneof(fc.array(image, { minLength: 1, maxLength: 2 }), hostile), categories: fc.constant([{ id: 3, name: 'Spatula' }, { id: 4, name: 'Pupil' }]), annotations: fc.oneof(fc.array(annotation, { maxLength: 4 }), hostile) })
      .map((j) => JSON.stringify(j));
    await fuzz('coco (generated)', file, coco, 3000);
  });

  it('sizes claimed far beyond any image are refused before anything is allocated', () => {
    const log = new IssueLog();
    expect(parseSuperviselyAnnotation(svAnnotation(1e6, 1e6, [svObject('Spatula', [[1, 1], [5, 1], [5, 5]])]), LABEL, log)).toBeUndefined();
    expect(log.issues[0].message).toMatch(/image too large \(1000000×1000000/);
    const images = parseCocoInstances(JSON.stringify({ images: [{ id: 1, file_name: 'a.png', width: 2 ** 20, height: 2 ** 20 }], categories: [], annotations: [] }), LABEL, log);
    expect(images).toEqual([]);
    expect(log.issues.at(-1)!.message).toMatch(/images\[0\]: image too large \(1048576×1048576/);
  });
});
