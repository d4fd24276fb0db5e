/**
 * What the export writers take: the labeled frames with their objects' masks, independent of
 * the page's state, plus the geometry helpers they share (bounding box, traced polygons) built
 * on `@rpsam2/data`'s exact mask tracer, so every written polygon rasterises back (bench rule: pixel
 * centres, even-odd) to exactly the mask.
 */
import { maskBounds } from '@rpsam2/sam2';
import { traceMask, type TracedPolygon } from '@rpsam2/data';
import type { LabelClass } from '../state/classes.js';
import type { Method, ObjectPrompt } from '../worker/protocol.js';

/** One object to export. */
export interface ExportObject {
  /** Session-unique id. */
  id: number;
  classId: number;
  /** 0/1 per pixel at the frame's size. */
  mask: Uint8Array;
  /** How it was made (kept in COCO's `rpsam2` field and in studio.json). */
  method: Method;
  prompt: ObjectPrompt;
  refined: [number, number][] | null;
  iou: number;
}

/** One labeled frame. */
export interface ExportFrame {
  /** The image's file name (no folders), e.g. 'case5013_01.png'. */
  fileName: string;
  /** The Cataract-1k case folder it belongs to, e.g. 'case_5013'. */
  caseName: string;
  width: number;
  height: number;
  objects: ExportObject[];
}

/** Tight pixel box [x, y, w, h] of a mask's foreground ([0, 0, 0, 0] when empty). */
export function maskBbox(mask: Uint8Array, width: number, height: number): [number, number, number, number] {
  const b = maskBounds({ width, height, data: mask });
  // Inclusive bounds → COCO's width and height in pixels.
  return b ? [b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1] : [0, 0, 0, 0];
}

/** The mask as polygons (one per 4-connected component, with holes), largest first. */
export function maskPolygons(mask: Uint8Array, width: number, height: number): TracedPolygon[] {
  return traceMask({ width, height, data: mask });
}

/** The class of an object, or an error naming the frame and object (a class removed from the list). */
export function classOf(classes: readonly LabelClass[], frame: ExportFrame, o: ExportObject): LabelClass {
  const c = classes.find((k) => k.id === o.classId);
  if (!c) throw new Error(`${frame.caseName}/${frame.fileName}: object ${o.id} has class id ${o.classId}, which is not in the class list`);
  return c;
}

/** Checks the frames before writing: sizes, masks, unique (case, file name) pairs. */
export function checkExportFrames(frames: readonly ExportFrame[], classes: readonly LabelClass[]): void {
  const seen = new Set<string>();
  for (const f of frames) {
    const where = `${f.caseName}/${f.fileName}`;
    if (!/^[^/\\]+$/.test(f.fileName)) throw new Error(`${where}: a frame file name must not contain folders`);
    if (seen.has(where)) throw new Error(`two frames are named ${where}; frames of one case need distinct file names`);
    seen.add(where);
    for (const o of f.objects) {
      if (o.mask.length !== f.width * f.height) throw new Error(`${where}: object ${o.id} mask has ${o.mask.length} values for ${f.width}×${f.height}`);
      classOf(classes, f, o);
    }
  }
}
