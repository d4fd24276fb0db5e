/**
 * Cataract-1k, segmentation subset (and anything written in its layout, such as our synthetic
 * sets). Expected under the root (the folder holding `Annotations/`, or `Annotations/` itself):
 *
 * ```
 * Annotations/Images-and-Supervisely-Annotations/case_XXXX/img/<frame>.png
 * Annotations/Images-and-Supervisely-Annotations/case_XXXX/ann/<frame>.png.json   (Supervisely)
 * Annotations/Coco-Annotations/case_XXXX/annotations/instances.json               (COCO variant)
 * ```
 *
 * With `annotations: 'coco'`, a COCO image's file is looked up in
 * `Coco-Annotations/case_XXXX/images/<file_name>`, then in the Supervisely `img/` folder of the
 * same case (by base name).
 *
 * Frame ids are `case_XXXX/<file name>` in both variants, so splits apply to either.
 *
 * **Split** (first that applies): `options.split` (our JSON, or the dataset's CSVs given per
 * split); `<root>/splits.json` (the generator writes one); the dataset repository's five-fold
 * CSVs placed under the root
 * (`TrainIDs_SemanticSegmentation_FiveFold/TrainIDs_Cataract_1k_Instruments/Cat1k_instrument_<fold>_{train,test}.csv`,
 * fold `options.csvFold`, default 0); otherwise a fixed rule: cases in natural order, every
 * fifth case (the 5th, 10th, …; the last case when there are fewer than five) is test, the
 * others train, no val. `dataset.split.source` says which applied.
 *
 * **Validation**: an annotation without its image, bad JSON, a missing size or object list, a
 * polygon with fewer than 3 points or non-numeric points, an unsupported geometry, an unknown
 * class title, a size that disagrees with the PNG header: errors naming the file (and object). An
 * image without annotation, unknown split entries: warnings. With `strict` (the default) any
 * error throws a {@link DatasetError} listing them all; otherwise the bad frames and objects are
 * skipped and `dataset.issues` keeps the list.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CATARACT1K_ANATOMY, CATARACT1K_INSTRUMENTS, INSTRUMENT_KEYS, type ClassInfo, type ObjectKind, parseCocoInstances, rasterizeShape, parseSuperviselyAnnotation } from '@rpsam2/data';
import { isDir, isFile, listDir, mapLimit, naturalCompare, readPngSize } from './fs-util.js';
import { FrameListDataset } from './frame-dataset.js';
import { applyCsvSplits, parseSplitCsv, readSplitText, splitFromJsonFile, type CsvFrame } from './splits.js';
import {
  DatasetError,
  IssueLog,
  SPLIT_NAMES,
  type AnnotatedObject,
  type DatasetIssue,
  type FrameRef,
  type LoadedObject,
  type SegmentationDataset,
  type SplitInfo,
  type SplitName,
} from './types.js';

/** Options of {@link openCataract1k}. */
export interface Cataract1kOptions {
  /** Which annotations to read (default 'supervisely'). */
  annotations?: 'supervisely' | 'coco';
  /** A split file of ours (JSON path), or the dataset's CSV files per split. */
  split?: string | Partial<Record<SplitName, string>>;
  /** Fold of the dataset's five-fold CSVs when they are found under the root (default 0). */
  csvFold?: number;
  /** Throw on any error (default true); otherwise skip what is bad and keep the issues. */
  strict?: boolean;
}

/** A Cataract-1k frame with its annotation. */
export interface Cataract1kFrame extends FrameRef {
  annotationPath: string;
  objects: AnnotatedObject[];
}

/** The relative folder of the dataset repository's five-fold instrument CSVs. */
export const CATARACT1K_CSV_DIR = 'TrainIDs_SemanticSegmentation_FiveFold/TrainIDs_Cataract_1k_Instruments';

/** An opened Cataract-1k dataset (see the module documentation). */
export class Cataract1kDataset extends FrameListDataset<Cataract1kFrame> implements SegmentationDataset {
  readonly name = 'cataract1k';
  readonly classes: readonly ClassInfo[] = [...CATARACT1K_INSTRUMENTS, ...CATARACT1K_ANATOMY];
  readonly instrumentKeys = INSTRUMENT_KEYS;
  protected readonly listedSize = 'its annotation says';

  constructor(
    readonly root: string,
    readonly annotations: 'supervisely' | 'coco',
    frames: readonly Cataract1kFrame[],
    split: SplitInfo,
    issueList: DatasetIssue[],
    /** Unknown class titles and how often they occurred. */
    readonly unknownClasses: ReadonlyMap<string, number>,
  ) {
    super(frames, split, issueList);
  }

  async loadObjects(frame: FrameRef, options: { kinds?: readonly ObjectKind[] } = {}): Promise<LoadedObject[]> {
    return this.objectMasks(frame as Cataract1kFrame, options);
  }

  /** As {@link loadObjects}, synchronously (polygons need no file access). */
  objectMasks(frame: Cataract1kFrame, options: { kinds?: readonly ObjectKind[] } = {}): LoadedObject[] {
    const kinds = options.kinds ?? ['instrument'];
    const out: LoadedObject[] = [];
    for (const o of frame.objects) {
      if (!kinds.includes(o.kind)) continue;
      const label = `${frame.annotationPath}: object ${o.index} ('${o.classTitle}')`;
      const mask = rasterizeShape(o.shape, frame.width, frame.height, label);
      let any = false;
      for (let i = 0; i < mask.data.length && !any; i++) any = mask.data[i] !== 0;
      if (!any) {
        // Once per object, however often its frame is loaded (the counts go into results.json).
        const message = `object ${o.index} ('${o.classTitle}') covers no pixel centre; skipped`;
        if (!this.issueList.some((i) => i.file === frame.annotationPath && i.message === message)) this.issueList.push({ severity: 'warning', file: frame.annotationPath, message });
        continue;
      }
      out.push({ index: o.index, classKey: o.classKey, className: o.className, kind: o.kind, mask, sourceId: o.sourceId });
    }
    return out;
  }
}

/** Opens a Cataract-1k-layout dataset (see the module documentation for layout, split and validation). */
export async function openCataract1k(root: string, options: Cataract1kOptions = {}): Promise<Cataract1kDataset> {
  const annotations = options.annotations ?? 'supervisely';
  const strict = options.strict ?? true;
  const log = new IssueLog();
  const unknown = new Map<string, number>();
  const base = (await isDir(join(root, 'Annotations'))) ? join(root, 'Annotations') : root;
  const supDir = join(base, 'Images-and-Supervisely-Annotations');
  const cocoDir = join(base, 'Coco-Annotations');

  let frames: Cataract1kFrame[];
  if (annotations === 'supervisely') {
    if (!(await isDir(supDir))) throw new DatasetError('cataract1k', [{ severity: 'error', file: root, message: 'no Annotations/Images-and-Supervisely-Annotations folder here' }]);
    frames = await readSupervisely(supDir, log, unknown);
  } else {
    if (!(await isDir(cocoDir))) throw new DatasetError('cataract1k', [{ severity: 'error', file: root, message: 'no Annotations/Coco-Annotations folder here' }]);
    frames = await readCoco(cocoDir, supDir, log, unknown);
  }
  frames.sort((a, b) => naturalCompare(a.group, b.group) || naturalCompare(a.fileName, b.fileName));
  if (frames.length === 0) log.error(annotations === 'supervisely' ? supDir : cocoDir, 'no annotated frames found');

  const split = await resolveSplit(root, base, frames, options, log);
  if (strict && log.errorCount > 0) throw new DatasetError('cataract1k', log.issues);
  return new Cataract1kDataset(root, annotations, frames, split, log.issues, unknown);
}

/**
 * The `case_XXXX` folders of `dir`, one at a time (so that the issues stay in folder order):
 * files are passed over (meta.json, obj_class_to_machine_color.json, …), other folders warned of.
 */
async function* caseFolders(dir: string, log: IssueLog): AsyncGenerator<{ name: string; caseDir: string }> {
  for (const entry of await listDir(dir)) {
    if (!entry.dir) continue;
    const caseDir = join(dir, entry.name);
    if (/^case_?\d+$/i.test(entry.name)) yield { name: entry.name, caseDir };
    else log.warn(caseDir, 'not a case_XXXX folder; ignored');
  }
}

/**
 * The frame of image `imagePath` of case `group`, with the annotation's size and objects, once
 * the image's PNG header agrees with that size (else undefined, the error logged).
 */
async function checkedFrame(group: string, fileName: string, imagePath: string, ann: { width: number; height: number; objects: AnnotatedObject[] }, annotationPath: string, log: IssueLog): Promise<Cataract1kFrame | undefined> {
  if (!(await checkImageSize(imagePath, ann.width, ann.height, annotationPath, log))) return undefined;
  return { id: `${group}/${fileName}`, group, fileName, imagePath, width: ann.width, height: ann.height, annotationPath, objects: ann.objects };
}

async function readSupervisely(supDir: string, log: IssueLog, unknown: Map<string, number>): Promise<Cataract1kFrame[]> {
  const frames: Cataract1kFrame[] = [];
  for await (const entry of caseFolders(supDir, log)) {
    const { caseDir } = entry;
    const imgDir = join(caseDir, 'img');
    const annDir = join(caseDir, 'ann');
    const imgs = (await listDir(imgDir)).filter((e) => !e.dir).map((e) => e.name);
    const anns = (await listDir(annDir)).filter((e) => !e.dir).map((e) => e.name);
    if (!(await isDir(annDir))) log.error(caseDir, "no 'ann' folder");
    if (!(await isDir(imgDir))) log.error(caseDir, "no 'img' folder");
    const imgSet = new Set(imgs);
    const annotated = new Set<string>();
    const parsed = await mapLimit(anns, 16, async (annName) => {
      const annPath = join(annDir, annName);
      if (!annName.endsWith('.json')) {
        log.warn(annPath, 'not a .json annotation; ignored');
        return undefined;
      }
      const fileName = annName.slice(0, -'.json'.length);
      annotated.add(fileName);
      if (!imgSet.has(fileName)) {
        log.error(annPath, `annotation has no image: ${join(imgDir, fileName)} is missing`);
        return undefined;
      }
      const ann = parseSuperviselyAnnotation(await readFile(annPath, 'utf8'), annPath, log, unknown);
      if (!ann) return undefined;
      return checkedFrame(entry.name, fileName, join(imgDir, fileName), ann, annPath, log);
    });
    for (const f of parsed) if (f) frames.push(f);
    for (const img of imgs) if (!annotated.has(img)) log.warn(join(imgDir, img), `image has no annotation (${join('ann', `${img}.json`)}); skipped`);
  }
  return frames;
}

async function readCoco(cocoDir: string, supDir: string, log: IssueLog, unknown: Map<string, number>): Promise<Cataract1kFrame[]> {
  const frames: Cataract1kFrame[] = [];
  for await (const entry of caseFolders(cocoDir, log)) {
    const { caseDir } = entry;
    const file = join(caseDir, 'annotations', 'instances.json');
    if (!(await isFile(file))) {
      log.error(caseDir, 'no annotations/instances.json');
      continue;
    }
    const images = parseCocoInstances(await readFile(file, 'utf8'), file, log, unknown);
    if (!images) continue;
    const resolved = await mapLimit(images, 16, async (im) => {
      const candidates = [join(caseDir, 'images', im.fileName), join(supDir, entry.name, 'img', basename(im.fileName))];
      let imagePath: string | undefined;
      for (const c of candidates) {
        if (await isFile(c)) {
          imagePath = c;
          break;
        }
      }
      if (!imagePath) {
        log.error(file, `image ${JSON.stringify(im.id)} ('${im.fileName}') has no file (looked for ${candidates.join(' and ')})`);
        return undefined;
      }
      return checkedFrame(entry.name, basename(im.fileName), imagePath, im, file, log);
    });
    for (const f of resolved) if (f) frames.push(f);
  }
  return frames;
}

async function checkImageSize(imagePath: string, width: number, height: number, annPath: string, log: IssueLog): Promise<boolean> {
  let size: { width: number; height: number } | undefined;
  try {
    size = await readPngSize(imagePath);
  } catch (e) {
    log.error(imagePath, (e as Error).message.replace(`${imagePath}: `, ''));
    return false;
  }
  if (size && (size.width !== width || size.height !== height)) {
    log.error(annPath, `size ${width}×${height} disagrees with the image ${imagePath} (${size.width}×${size.height})`);
    return false;
  }
  return true;
}

async function resolveSplit(root: string, base: string, frames: Cataract1kFrame[], options: Cataract1kOptions, log: IssueLog): Promise<SplitInfo> {
  const spec = options.split;
  if (typeof spec === 'string') return splitFromJsonFile(spec, frames, log);
  if (spec && typeof spec === 'object') return fromCsvs(spec, frames, log);
  for (const dir of new Set([root, base])) {
    const p = join(dir, 'splits.json');
    if (await isFile(p)) return splitFromJsonFile(p, frames, log);
  }
  const fold = options.csvFold ?? 0;
  const csvDir = join(root, CATARACT1K_CSV_DIR);
  const train = join(csvDir, `Cat1k_instrument_${fold}_train.csv`);
  const test = join(csvDir, `Cat1k_instrument_${fold}_test.csv`);
  if ((await isFile(train)) && (await isFile(test))) return fromCsvs({ train, test }, frames, log);
  // Fallback: every fifth case (natural order) is test.
  const groups = [...new Set(frames.map((f) => f.group))];
  const testGroups = new Set(groups.filter((_, i) => i % 5 === 4));
  if (testGroups.size === 0 && groups.length > 0) testGroups.add(groups[groups.length - 1]);
  const counts = { train: 0, val: 0, test: 0, none: 0 };
  for (const f of frames) {
    f.split = testGroups.has(f.group) ? 'test' : 'train';
    counts[f.split]++;
  }
  return { source: `fallback: every 5th case is test (${[...testGroups].join(', ') || 'none'}), the rest train`, counts };
}

async function fromCsvs(spec: Partial<Record<SplitName, string>>, frames: Cataract1kFrame[], log: IssueLog): Promise<SplitInfo> {
  const rows: Partial<Record<SplitName, CsvFrame[]>> = {};
  const files: string[] = [];
  for (const split of SPLIT_NAMES) {
    const p = spec[split];
    if (!p) continue;
    files.push(p);
    const text = await readSplitText(p, 'split CSV', log);
    if (text !== undefined) rows[split] = parseSplitCsv(text, p, log);
  }
  const source = files.join(', ');
  return { source, counts: applyCsvSplits(frames, rows, source, log) };
}
