/**
 * Supervisely annotations in the layout Cataract-1k ships and the bench reads
 * (`parseSuperviselyAnnotation`): one `ann/<image file name>.json` per frame with `size` and
 * `objects[]` of `classTitle` + `geometryType: 'polygon'` + `points: {exterior, interior}`, and
 * the project's `meta.json` with the class list.
 *
 * Supervisely polygons hold one region each, so an object whose mask has several 4-connected
 * regions becomes several objects of the same class (their union is the mask, exactly: the
 * rings follow pixel edges). Each carries the studio object's id in `tags` (`rpsam2-object`), so
 * the pieces can be grouped again.
 */
import type { LabelClass } from '../state/classes.js';
import { checkExportFrames, classOf, maskPolygons, type ExportFrame } from './frames.js';

/** One Supervisely object. */
export interface SuperviselyObject {
  id: number;
  classId: number;
  classTitle: string;
  description: string;
  geometryType: 'polygon';
  labelerLogin: string;
  tags: { name: string; value: number }[];
  points: { exterior: number[][]; interior: number[][][] };
}

/** One frame's annotation file. */
export interface SuperviselyAnnotation {
  description: string;
  tags: unknown[];
  size: { height: number; width: number };
  objects: SuperviselyObject[];
}

/** The annotation of one frame (objects in the frame's order, each region its own object). */
export function superviselyAnnotation(frame: ExportFrame, classes: readonly LabelClass[]): SuperviselyAnnotation {
  checkExportFrames([frame], classes);
  const objects: SuperviselyObject[] = [];
  for (const o of frame.objects) {
    const cls = classOf(classes, frame, o);
    for (const p of maskPolygons(o.mask, frame.width, frame.height)) {
      objects.push({
        id: objects.length + 1,
        classId: cls.id,
        classTitle: cls.name,
        description: '',
        geometryType: 'polygon',
        labelerLogin: 'rpsam2-studio',
        tags: [{ name: 'rpsam2-object', value: o.id }],
        points: { exterior: p.exterior, interior: p.interiors },
      });
    }
  }
  return { description: '', tags: [], size: { height: frame.height, width: frame.width }, objects };
}

/** The project's meta.json: the class list as polygon classes with their colours. */
export function superviselyMeta(classes: readonly LabelClass[]): { classes: { id: number; title: string; shape: 'polygon'; color: string }[]; tags: unknown[]; projectType: 'images' } {
  return {
    classes: classes.map((c) => ({ id: c.id, title: c.name, shape: 'polygon', color: c.color })),
    tags: [{ name: 'rpsam2-object', value_type: 'any_number', color: '#888888' }],
    projectType: 'images',
  };
}
