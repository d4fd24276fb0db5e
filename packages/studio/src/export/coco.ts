/**
 * COCO instance annotations (`instances.json`) of labeled frames, readable by the bench's COCO
 * loader (`parseCocoInstances`) and by pycocotools.
 *
 * Segmentation, per object, as the bench's generator writes it: a polygon list when the mask
 * is one region without holes (traced along pixel edges, so it rasterises back exactly), else an
 * RLE (uncompressed counts, column-major, pycocotools' convention; exact for any mask). With
 * `segmentation: 'rle'` every object is an RLE. Category ids are the class ids; categories list
 * the whole class list. Each annotation carries the prompt that made it in an `rpsam2` field
 * (other COCO readers ignore it).
 */
import { encodeRle, type CocoRle } from '@rpsam2/sam2';
import type { LabelClass } from '../state/classes.js';
import { checkExportFrames, classOf, maskBbox, maskPolygons, type ExportFrame } from './frames.js';

/** The COCO document. */
export interface CocoDocument {
  info: { description: string; version: string; date_created: string };
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string; supercategory: string }[];
  annotations: CocoAnnotation[];
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: number[][] | CocoRle;
  area: number;
  bbox: [number, number, number, number];
  iscrowd: 0;
  rpsam2: { method: string; points: [number, number, number][]; box: [number, number, number, number] | null; refined: [number, number][] | null; iou: number };
}

export interface CocoOptions {
  /** 'auto' (default): polygons where exact and holes-free, else RLE; 'rle': always RLE. */
  segmentation?: 'auto' | 'rle';
  /** `file_name` of a frame (default: its file name). */
  fileName?: (frame: ExportFrame) => string;
  /** Fixed `date_created` (tests); default now. */
  date?: string;
}

/** Builds the COCO document of the frames (see the module documentation). */
export function buildCoco(frames: readonly ExportFrame[], classes: readonly LabelClass[], options: CocoOptions = {}): CocoDocument {
  checkExportFrames(frames, classes);
  const mode = options.segmentation ?? 'auto';
  const doc: CocoDocument = {
    info: { description: 'labels from the RP-SAM2 studio', version: '1', date_created: options.date ?? new Date().toISOString() },
    images: [],
    categories: classes.map((c) => ({ id: c.id, name: c.name, supercategory: 'instrument' })),
    annotations: [],
  };
  frames.forEach((f, i) => {
    const imageId = i + 1;
    doc.images.push({ id: imageId, file_name: options.fileName ? options.fileName(f) : f.fileName, width: f.width, height: f.height });
    for (const o of f.objects) {
      const cls = classOf(classes, f, o);
      const bbox = maskBbox(o.mask, f.width, f.height);
      let area = 0;
      for (let p = 0; p < o.mask.length; p++) area += o.mask[p] ? 1 : 0;
      if (area === 0) continue; // nothing to annotate (the page never accepts empty masks)
      let segmentation: number[][] | CocoRle | null = null;
      if (mode === 'auto') {
        const polys = maskPolygons(o.mask, f.width, f.height);
        if (polys.length === 1 && polys[0].interiors.length === 0) segmentation = [polys[0].exterior.flat()];
      }
      segmentation ??= encodeRle({ width: f.width, height: f.height, data: o.mask });
      const b = o.prompt.box;
      doc.annotations.push({
        id: doc.annotations.length + 1,
        image_id: imageId,
        category_id: cls.id,
        segmentation,
        area,
        bbox,
        iscrowd: 0,
        rpsam2: {
          method: o.method,
          points: o.prompt.points.map((p) => [p.x, p.y, p.label]),
          box: b ? [b.x0, b.y0, b.x1, b.y1] : null,
          refined: o.refined,
          iou: o.iou,
        },
      });
    }
  });
  return doc;
}
