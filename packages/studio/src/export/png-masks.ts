/**
 * PNG masks of a labeled frame, as training pipelines read them:
 *
 * - a label map: one 8-bit grey PNG, pixel value = the object's class id (0 = background);
 *   where objects overlap, the later object wins (the order they were accepted in, which is also
 *   the drawing order on the page);
 * - one 8-bit grey PNG per object: 255 inside, 0 outside (overlaps kept).
 *
 * PNG encoding is @rpsam2/sam2's `encodeGreyPng` (pure JS, runs in the page).
 */
import { encodeGreyPng } from '@rpsam2/sam2';
import type { LabelClass } from '../state/classes.js';
import { checkExportFrames, classOf, type ExportFrame } from './frames.js';

/** The label map's values (class ids) for a frame. */
export function labelMap(frame: ExportFrame, classes: readonly LabelClass[]): Uint8Array {
  checkExportFrames([frame], classes);
  const out = new Uint8Array(frame.width * frame.height);
  for (const o of frame.objects) {
    const id = classOf(classes, frame, o).id;
    for (let i = 0; i < out.length; i++) if (o.mask[i]) out[i] = id;
  }
  return out;
}

/** A file name part made safe for any file system (class keys like 'PhT' stay as they are). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

/** The frame's file name without its extension. */
export function fileStem(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** PNG files of a frame, by path relative to the masks folder: `<stem>.png` and `<stem>/<NN>_<class key>.png`. */
export function pngMasks(frame: ExportFrame, classes: readonly LabelClass[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const stem = fileStem(frame.fileName);
  files.set(`${stem}.png`, encodeGreyPng(labelMap(frame, classes), frame.width, frame.height));
  frame.objects.forEach((o, k) => {
    const cls = classOf(classes, frame, o);
    const data = new Uint8Array(o.mask.length);
    for (let i = 0; i < data.length; i++) data[i] = o.mask[i] ? 255 : 0;
    files.set(`${stem}/${String(k + 1).padStart(2, '0')}_${safeName(cls.key)}.png`, encodeGreyPng(data, frame.width, frame.height));
  });
  return files;
}

/** `classes.json` beside the label maps: pixel value → class. */
export function labelLegend(classes: readonly LabelClass[]): { background: 0; classes: { value: number; key: string; name: string; color: string }[] } {
  return { background: 0, classes: classes.map((c) => ({ value: c.id, key: c.key, name: c.name, color: c.color })) };
}
