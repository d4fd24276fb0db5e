/**
 * CaDIS (Cataract Dataset for Image Segmentation): `VideoNN/Images/<frame>.png` (960×540 RGB)
 * with `VideoNN/Labels/<frame>.png` (8-bit label maps, raw ids 0–35), under the root.
 *
 * Classes: Task II by default (17 classes, rare classes → ignore 255; `classes/cadis.ts` of
 * `@rpsam2/data` cites the table), or the raw 36 (`task: 'raw'`). An object of a frame is a
 * whole class region (CaDIS is a semantic-segmentation dataset: one mask per class present,
 * ignore pixels excluded).
 *
 * Split: the official videos (train 1, 3, 4, 6, 8–11, 13–15, 17–21, 23–25; val 5, 7, 16; test
 * 2, 12, 22), or a split file of ours (`options.split`, groups are the video folder names).
 *
 * Validation: an image without its label map or a label map without its image, unreadable or
 * mismatched sizes (PNG headers), a folder that is not `VideoNN`: errors naming the file. Label
 * values above 35 are errors too: checked for every frame when `validateLabels` is set (this
 * decodes every label map), otherwise when a frame's labels are loaded (the error then names the
 * file, the value and the pixel).
 */
import { join } from 'node:path';
import { CADIS_IGNORE, CADIS_OFFICIAL_SPLIT, CADIS_RAW_CLASSES, CADIS_TASK2_CLASSES, CADIS_TASK2_LUT, type ClassInfo, type ObjectKind } from '@rpsam2/data';
import { isDir, listDir, mapLimit, readPngSize } from './fs-util.js';
import { FrameListDataset } from './frame-dataset.js';
import { readLabelPng, type LabelMap } from './image-io.js';
import { splitFromJsonFile } from './splits.js';
import { DatasetError, IssueLog, type DatasetIssue, type FrameRef, type LoadedObject, type SegmentationDataset, type SplitInfo } from './types.js';

/** Options of {@link openCadis}. */
export interface CadisOptions {
  /** Task II (default) or the raw 36 classes. */
  task?: 2 | 'raw';
  /** A split file of ours (JSON); default the official video split. */
  split?: string;
  /** Throw on any error (default true). */
  strict?: boolean;
  /** Decode every label map while opening to check its values (default false: checked on load). */
  validateLabels?: boolean;
}

/** A CaDIS frame. */
export interface CadisFrame extends FrameRef {
  labelPath: string;
  /** The video number (1–25). */
  video: number;
}

const RAW_KINDS: readonly ObjectKind[] = CADIS_RAW_CLASSES.map((_, i) => (i === 0 || (i >= 4 && i <= 6) ? 'anatomy' : i <= 3 ? 'other' : 'instrument'));

/** The highest raw label id. */
export const CADIS_MAX_RAW_ID = CADIS_RAW_CLASSES.length - 1;

/** An opened CaDIS dataset. */
export class CadisDataset extends FrameListDataset<CadisFrame> implements SegmentationDataset {
  readonly name = 'cadis';
  readonly classes: readonly ClassInfo[];
  readonly instrumentKeys: readonly string[];
  protected readonly listedSize = 'expected';

  constructor(
    readonly root: string,
    readonly task: 2 | 'raw',
    frames: readonly CadisFrame[],
    split: SplitInfo,
    issueList: DatasetIssue[],
  ) {
    super(frames, split, issueList);
    this.classes =
      task === 2
        ? CADIS_TASK2_CLASSES
        : CADIS_RAW_CLASSES.map((name, i) => ({ key: name, name, kind: RAW_KINDS[i] }));
    this.instrumentKeys = this.classes.filter((c) => c.kind === 'instrument').map((c) => c.key);
  }

  /** The raw label map (ids 0–35), validated: throws naming the file, value and pixel otherwise. */
  async loadRawLabels(frame: CadisFrame): Promise<LabelMap> {
    const m = await readLabelPng(frame.labelPath);
    const problem = labelProblem(m, frame);
    if (problem) throw new Error(`${frame.labelPath}: ${problem}`);
    return m;
  }

  /** The label map in this dataset's task (Task II ids and 255, or raw ids). */
  async loadLabels(frame: CadisFrame): Promise<LabelMap> {
    const raw = await this.loadRawLabels(frame);
    if (this.task === 'raw') return raw;
    const data = new Uint8Array(raw.data.length);
    for (let i = 0; i < data.length; i++) data[i] = CADIS_TASK2_LUT[raw.data[i]];
    return { width: raw.width, height: raw.height, data };
  }

  async loadObjects(frame: FrameRef, options: { kinds?: readonly ObjectKind[] } = {}): Promise<LoadedObject[]> {
    const kinds = options.kinds ?? ['instrument'];
    const labels = await this.loadLabels(frame as CadisFrame);
    const present = new Uint8Array(256);
    for (let i = 0; i < labels.data.length; i++) present[labels.data[i]] = 1;
    const out: LoadedObject[] = [];
    for (let id = 0; id < this.classes.length; id++) {
      if (!present[id] || id === CADIS_IGNORE) continue;
      const cls = this.classes[id];
      if (!kinds.includes(cls.kind)) continue;
      const data = new Uint8Array(labels.data.length);
      for (let i = 0; i < data.length; i++) data[i] = labels.data[i] === id ? 1 : 0;
      out.push({ index: id, classKey: cls.key, className: cls.name, kind: cls.kind, mask: { width: labels.width, height: labels.height, data } });
    }
    return out;
  }
}

function labelProblem(m: LabelMap, frame: FrameRef): string | undefined {
  if (m.width !== frame.width || m.height !== frame.height) return `label map is ${m.width}×${m.height}, the image ${frame.width}×${frame.height}`;
  for (let i = 0; i < m.data.length; i++) {
    if (m.data[i] > CADIS_MAX_RAW_ID) {
      return `label value ${m.data[i]} at (${i % m.width}, ${Math.floor(i / m.width)}) is not a CaDIS class id (0–${CADIS_MAX_RAW_ID})`;
    }
  }
  return undefined;
}

/** Opens a CaDIS folder (see the module documentation). */
export async function openCadis(root: string, options: CadisOptions = {}): Promise<CadisDataset> {
  const task = options.task ?? 2;
  const strict = options.strict ?? true;
  const log = new IssueLog();
  if (!(await isDir(root))) throw new DatasetError('cadis', [{ severity: 'error', file: root, message: 'not a folder' }]);
  const frames: CadisFrame[] = [];
  for (const entry of await listDir(root)) {
    if (!entry.dir) continue;
    const m = /^video0*(\d+)$/i.exec(entry.name);
    const videoDir = join(root, entry.name);
    if (!m) {
      log.warn(videoDir, 'not a VideoNN folder; ignored');
      continue;
    }
    const video = Number(m[1]);
    const imgDir = join(videoDir, 'Images');
    const labDir = join(videoDir, 'Labels');
    if (!(await isDir(imgDir))) log.error(videoDir, "no 'Images' folder");
    if (!(await isDir(labDir))) log.error(videoDir, "no 'Labels' folder");
    const imgs = (await listDir(imgDir)).filter((e) => !e.dir && /\.(png|jpe?g)$/i.test(e.name)).map((e) => e.name);
    const labs = (await listDir(labDir)).filter((e) => !e.dir && /\.png$/i.test(e.name)).map((e) => e.name);
    const stem = (n: string) => n.replace(/\.[^.]+$/, '');
    const labByStem = new Map(labs.map((n) => [stem(n), n]));
    const imgStems = new Set(imgs.map(stem));
    for (const l of labs) if (!imgStems.has(stem(l))) log.error(join(labDir, l), `label map has no image in ${imgDir}`);
    const made = await mapLimit(imgs, 16, async (img) => {
      const imagePath = join(imgDir, img);
      const lab = labByStem.get(stem(img));
      if (!lab) {
        log.error(imagePath, `image has no label map in ${labDir}`);
        return undefined;
      }
      const labelPath = join(labDir, lab);
      let isz: { width: number; height: number } | undefined;
      let lsz: { width: number; height: number } | undefined;
      try {
        isz = await readPngSize(imagePath);
        lsz = await readPngSize(labelPath);
      } catch (e) {
        log.error(imagePath, (e as Error).message);
        return undefined;
      }
      if (!lsz) {
        log.error(labelPath, 'label map is not a PNG');
        return undefined;
      }
      if (isz && (isz.width !== lsz.width || isz.height !== lsz.height)) {
        log.error(labelPath, `label map is ${lsz.width}×${lsz.height}, the image ${isz.width}×${isz.height}`);
        return undefined;
      }
      const frame: CadisFrame = { id: `${entry.name}/${img}`, group: entry.name, fileName: img, imagePath, labelPath, width: lsz.width, height: lsz.height, video };
      return frame;
    });
    for (const f of made) if (f) frames.push(f);
  }
  if (frames.length === 0) log.error(root, 'no frames found (expected VideoNN/Images and VideoNN/Labels folders)');

  if (options.validateLabels) {
    await mapLimit(frames, 4, async (f) => {
      try {
        const problem = labelProblem(await readLabelPng(f.labelPath), f);
        if (problem) log.error(f.labelPath, problem);
      } catch (e) {
        log.error(f.labelPath, (e as Error).message.replace(`${f.labelPath}: `, ''));
      }
    });
  }

  let split: SplitInfo;
  if (options.split) {
    split = await splitFromJsonFile(options.split, frames, log);
  } else {
    const counts = { train: 0, val: 0, test: 0, none: 0 };
    for (const f of frames) {
      f.split = (['train', 'val', 'test'] as const).find((s) => CADIS_OFFICIAL_SPLIT[s].includes(f.video));
      counts[f.split ?? 'none']++;
    }
    split = { source: 'official CaDIS video split (train 19 videos, val 5/7/16, test 2/12/22)', counts };
  }
  if (strict && log.errorCount > 0) throw new DatasetError('cadis', log.issues);
  return new CadisDataset(root, task, frames, split, log.issues);
}
