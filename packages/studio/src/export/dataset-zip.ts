/**
 * The export archive: labeled frames in Cataract-1k's folder layout, so that the bench's loader
 * (`openCataract1k(root)`, Supervisely or `{annotations: 'coco'}`) reads the unpacked folder as a
 * dataset and the labels feed straight back into training and evaluation:
 *
 * ```
 * Annotations/Images-and-Supervisely-Annotations/meta.json
 * Annotations/Images-and-Supervisely-Annotations/<case>/img/<frame file>            (the original image)
 * Annotations/Images-and-Supervisely-Annotations/<case>/ann/<frame file>.json       (Supervisely)
 * Annotations/Coco-Annotations/<case>/annotations/instances.json                   (COCO, per case)
 * masks/<case>/<frame stem>.png               label map (class id per pixel)
 * masks/<case>/<frame stem>/<NN>_<key>.png    one 0/255 mask per object
 * masks/classes.json                          pixel value → class
 * studio.json                                 the session: model, classes, every object's prompt
 * ```
 */
import type { LabelClass } from '../state/classes.js';
import { buildCoco } from './coco.js';
import { checkExportFrames, type ExportFrame } from './frames.js';
import { labelLegend, pngMasks } from './png-masks.js';
import { superviselyAnnotation, superviselyMeta } from './supervisely.js';
import { ZipWriter } from './zip-writer.js';

/** A frame with its original image file's bytes. */
export interface DatasetFrame extends ExportFrame {
  image: Uint8Array;
}

/** What produced the labels (written to studio.json). */
export interface SessionInfo {
  model: string;
  shiftBlock: string | null;
}

export const SUPERVISELY_DIR = 'Annotations/Images-and-Supervisely-Annotations';
export const COCO_DIR = 'Annotations/Coco-Annotations';

/** Builds the archive (see the module documentation); frames without objects are written with empty annotations. */
export async function buildDatasetZip(
  frames: readonly DatasetFrame[],
  classes: readonly LabelClass[],
  session: SessionInfo,
  options: { date?: Date; compress?: boolean } = {},
): Promise<Uint8Array> {
  checkExportFrames(frames, classes);
  const date = options.date ?? new Date();
  const zip = new ZipWriter({ date, compress: options.compress });
  await zip.add(`${SUPERVISELY_DIR}/meta.json`, JSON.stringify(superviselyMeta(classes), null, 1));
  const cases = [...new Set(frames.map((f) => f.caseName))];
  for (const c of cases) {
    if (!/^case_?\d+$/i.test(c)) throw new Error(`case folder '${c}' is not named case_XXXX (the Cataract-1k loader only reads such folders)`);
    const inCase = frames.filter((f) => f.caseName === c);
    for (const f of inCase) {
      await zip.add(`${SUPERVISELY_DIR}/${c}/img/${f.fileName}`, f.image);
      await zip.add(`${SUPERVISELY_DIR}/${c}/ann/${f.fileName}.json`, JSON.stringify(superviselyAnnotation(f, classes)));
      for (const [path, bytes] of pngMasks(f, classes)) await zip.add(`masks/${c}/${path}`, bytes);
    }
    await zip.add(`${COCO_DIR}/${c}/annotations/instances.json`, JSON.stringify(buildCoco(inCase, classes, { date: date.toISOString() })));
  }
  await zip.add('masks/classes.json', JSON.stringify(labelLegend(classes), null, 1));
  const record = {
    format: 'rpsam2-studio/1',
    created: date.toISOString(),
    ...session,
    classes,
    frames: frames.map((f) => ({
      case: f.caseName,
      file: f.fileName,
      width: f.width,
      height: f.height,
      objects: f.objects.map((o) => ({ id: o.id, classId: o.classId, method: o.method, prompt: o.prompt, refined: o.refined, iou: o.iou })),
    })),
  };
  await zip.add('studio.json', JSON.stringify(record, null, 1));
  return zip.finish();
}

/** The PNG masks alone: `<case>/<frame stem>.png` label maps, `<case>/<frame stem>/<NN>_<key>.png` per object, `classes.json`. */
export async function buildMasksZip(frames: readonly ExportFrame[], classes: readonly LabelClass[], options: { date?: Date } = {}): Promise<Uint8Array> {
  checkExportFrames(frames, classes);
  const zip = new ZipWriter({ date: options.date });
  for (const f of frames) for (const [path, bytes] of pngMasks(f, classes)) await zip.add(`${f.caseName}/${path}`, bytes);
  await zip.add('classes.json', JSON.stringify(labelLegend(classes), null, 1));
  return zip.finish();
}
