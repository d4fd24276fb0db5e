/**
 * Supervisely image annotations (one JSON per image, `ann/<image file name>.json`):
 * `{size: {height, width}, objects: [{classTitle, geometryType: 'polygon',
 * points: {exterior: [[x, y], …], interior: [[[x, y], …], …]}}]}`. Only polygons are
 * accepted; every problem is reported with the file and the object's position.
 */
import { imageSizeProblem } from '@rpsam2/sam2';
import { resolveCataract1kClass } from '../classes/cataract1k.js';
import { holeProblem, ringProblem, type Ring } from './polygon.js';
import type { AnnotatedObject, IssueLog } from './types.js';

/** A parsed annotation file. */
export interface SuperviselyAnnotation {
  width: number;
  height: number;
  objects: AnnotatedObject[];
}

/**
 * Parses and validates one annotation file. Returns undefined (after logging an error) when the
 * file as a whole is unusable (bad JSON, no size, no object list); bad objects are logged and
 * skipped. Unknown class titles are errors, counted in `unknownClasses`.
 */
export function parseSuperviselyAnnotation(
  text: string,
  file: string,
  log: IssueLog,
  unknownClasses?: Map<string, number>,
): SuperviselyAnnotation | undefined {
  const json = log.parseJson(text, file);
  if (json === undefined) return undefined;
  if (!isObject(json)) {
    log.error(file, 'not a Supervisely annotation (the JSON is not an object)');
    return undefined;
  }
  const size = json.size;
  if (!isObject(size) || !isPositiveInt(size.width) || !isPositiveInt(size.height)) {
    log.error(file, `no valid 'size' {height, width} (got ${JSON.stringify(size)})`);
    return undefined;
  }
  // Masks are allocated at the claimed size: refuse absurd ones before anything is allocated.
  const tooLarge = imageSizeProblem(size.width as number, size.height as number);
  if (tooLarge) {
    log.error(file, `'size': ${tooLarge}`);
    return undefined;
  }
  if (!Array.isArray(json.objects)) {
    log.error(file, `no 'objects' array (got ${typeof json.objects})`);
    return undefined;
  }
  const objects: AnnotatedObject[] = [];
  json.objects.forEach((o: unknown, index: number) => {
    const where = `object ${index}`;
    if (!isObject(o)) {
      log.error(file, `${where} is not an object`);
      return;
    }
    const title = o.classTitle;
    if (typeof title !== 'string' || title.trim() === '') {
      log.error(file, `${where} has no classTitle`);
      return;
    }
    const cls = resolveCataract1kClass(title);
    if (!cls) {
      log.error(file, `${where}: unknown class '${title}'`);
      unknownClasses?.set(title, (unknownClasses.get(title) ?? 0) + 1);
      return;
    }
    const geometry = o.geometryType ?? 'polygon';
    if (geometry !== 'polygon') {
      log.error(file, `${where} ('${title}'): geometryType '${String(geometry)}' is not supported (polygons only)`);
      return;
    }
    const points = o.points;
    if (!isObject(points)) {
      log.error(file, `${where} ('${title}'): no 'points' {exterior, interior}`);
      return;
    }
    const exteriorProblem = ringProblem(points.exterior);
    if (exteriorProblem) {
      log.error(file, `${where} ('${title}'): exterior polygon ${exteriorProblem}`);
      return;
    }
    const rings: Ring[] = [points.exterior as Ring];
    const interior = points.interior ?? [];
    if (!Array.isArray(interior)) {
      log.error(file, `${where} ('${title}'): 'interior' is not an array of holes`);
      return;
    }
    for (let h = 0; h < interior.length; h++) {
      const p = ringProblem(interior[h]);
      if (p) {
        log.error(file, `${where} ('${title}'): interior ring ${h} ${p}`);
        return;
      }
      const outside = holeProblem(points.exterior as Ring, interior[h] as Ring);
      if (outside) {
        log.warn(file, `${where} ('${title}'): interior ring ${h} (a hole): ${outside}; object skipped (fix the annotation)`);
        return;
      }
      rings.push(interior[h] as Ring);
    }
    const sourceId = typeof o.id === 'number' || typeof o.id === 'string' ? o.id : undefined;
    objects.push({ index, classTitle: title, classKey: cls.key, className: cls.name, kind: cls.kind, shape: { type: 'polygon', rings }, sourceId });
  });
  return { width: size.width as number, height: size.height as number, objects };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isPositiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
