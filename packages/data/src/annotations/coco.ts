/**
 * COCO instance annotations (`instances.json`: `images`, `categories`, `annotations`), as
 * Cataract-1k ships them per case (`Coco-Annotations/case_XXXX/annotations/instances.json`).
 * Category ids differ from case to case, so categories are mapped by name. Segmentations may be
 * polygon lists (flat [x0, y0, x1, y1, …] arrays, their union is the object) or RLE.
 */
import { imageSizeProblem, type CocoRle } from '@rpsam2/sam2';
import { resolveCataract1kClass, type ClassInfo } from '../classes/cataract1k.js';
import type { Ring } from './polygon.js';
import type { AnnotatedObject, IssueLog } from './types.js';

/** One image of a COCO file with its objects. */
export interface CocoImage {
  id: number | string;
  fileName: string;
  width: number;
  height: number;
  objects: AnnotatedObject[];
}

/**
 * Parses and validates a COCO instances file. Returns undefined (after logging an error) when
 * the file is unusable; bad images, categories and annotations are logged and skipped.
 */
export function parseCocoInstances(text: string, file: string, log: IssueLog, unknownClasses?: Map<string, number>): CocoImage[] | undefined {
  const json = log.parseJson(text, file);
  if (json === undefined) return undefined;
  if (!isObject(json) || !Array.isArray(json.images) || !Array.isArray(json.categories) || !Array.isArray(json.annotations)) {
    log.error(file, "not a COCO instances file (needs 'images', 'categories' and 'annotations' arrays)");
    return undefined;
  }
  const images = new Map<number | string, CocoImage>();
  json.images.forEach((im: unknown, i: number) => {
    if (!isObject(im) || !isId(im.id) || typeof im.file_name !== 'string' || !isPositiveInt(im.width) || !isPositiveInt(im.height)) {
      log.error(file, `images[${i}] needs id, file_name, width and height (got ${JSON.stringify(im)?.slice(0, 120)})`);
      return;
    }
    // Masks are allocated at the claimed size: refuse absurd ones before anything is allocated.
    const tooLarge = imageSizeProblem(im.width as number, im.height as number);
    if (tooLarge) {
      log.error(file, `images[${i}]: ${tooLarge}`);
      return;
    }
    if (images.has(im.id)) {
      log.error(file, `images[${i}]: duplicate image id ${im.id}`);
      return;
    }
    images.set(im.id, { id: im.id, fileName: im.file_name, width: im.width as number, height: im.height as number, objects: [] });
  });
  const categories = new Map<number | string, { title: string; cls?: ClassInfo }>();
  json.categories.forEach((c: unknown, i: number) => {
    if (!isObject(c) || !isId(c.id) || typeof c.name !== 'string') {
      log.error(file, `categories[${i}] needs id and name`);
      return;
    }
    const cls = resolveCataract1kClass(c.name);
    if (!cls) {
      log.error(file, `categories[${i}]: unknown class '${c.name}' (its annotations are skipped)`);
      unknownClasses?.set(c.name, (unknownClasses.get(c.name) ?? 0) + 1);
    }
    categories.set(c.id, { title: c.name, cls });
  });
  json.annotations.forEach((a: unknown, i: number) => {
    const where = `annotations[${i}]`;
    if (!isObject(a)) {
      log.error(file, `${where} is not an object`);
      return;
    }
    const image = images.get(a.image_id as number);
    if (!image) {
      log.error(file, `${where}: image_id ${JSON.stringify(a.image_id)} is not in 'images'`);
      return;
    }
    const cat = categories.get(a.category_id as number);
    if (!cat) {
      log.error(file, `${where}: category_id ${JSON.stringify(a.category_id)} is not in 'categories'`);
      return;
    }
    if (!cat.cls) return; // reported once with the category
    const shape = parseSegmentation(a.segmentation, image, (msg) => log.error(file, `${where} ('${cat.title}'): ${msg}`));
    if (!shape) return;
    image.objects.push({
      index: image.objects.length,
      classTitle: cat.title,
      classKey: cat.cls.key,
      className: cat.cls.name,
      kind: cat.cls.kind,
      shape,
      sourceId: isId(a.id) ? a.id : undefined,
    });
  });
  return [...images.values()];
}

function parseSegmentation(seg: unknown, image: CocoImage, fail: (msg: string) => void): AnnotatedObject['shape'] | undefined {
  if (Array.isArray(seg)) {
    if (seg.length === 0) return fail('empty segmentation'), undefined;
    const polygons: Ring[] = [];
    for (let k = 0; k < seg.length; k++) {
      const flat = seg[k];
      if (!Array.isArray(flat) || flat.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return fail(`polygon ${k} is not a flat array of numbers`), undefined;
      if (flat.length % 2 !== 0) return fail(`polygon ${k} has an odd number of coordinates (${flat.length})`), undefined;
      if (flat.length < 6) return fail(`polygon ${k} has ${flat.length / 2} points (a polygon needs at least 3)`), undefined;
      const ring: number[][] = [];
      for (let j = 0; j < flat.length; j += 2) ring.push([flat[j], flat[j + 1]]);
      polygons.push(ring);
    }
    return { type: 'polygons', polygons };
  }
  if (isObject(seg) && Array.isArray(seg.size) && (typeof seg.counts === 'string' || Array.isArray(seg.counts))) {
    const [h, w] = seg.size as number[];
    if (h !== image.height || w !== image.width) return fail(`RLE size [${seg.size}] differs from the image's [${image.height}, ${image.width}]`), undefined;
    return { type: 'rle', rle: seg as unknown as CocoRle };
  }
  return fail(`segmentation is neither a polygon list nor an RLE (${JSON.stringify(seg)?.slice(0, 80)})`), undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isId(v: unknown): v is number | string {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'string';
}

function isPositiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
