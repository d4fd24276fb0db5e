/**
 * What every dataset loader hands the evaluation: frames with their split, the annotated objects
 * of a frame as binary masks at the frame's resolution, and the problems found while reading.
 */
import type { BinaryMask } from '../metrics/mask.js';
import type { ClassInfo, ObjectKind } from './cataract1k-classes.js';
import type { CocoRle } from './coco-rle.js';
import type { RgbFrame } from './image-io.js';
import type { Ring } from './polygon.js';

export type { ClassInfo, ObjectKind } from './cataract1k-classes.js';

/** The three splits. */
export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** A problem found in a file. Errors make a strict loader throw; warnings never do. */
export interface DatasetIssue {
  severity: 'error' | 'warning';
  /** The file at fault (absolute or as given). */
  file: string;
  /** What is wrong, in words. */
  message: string;
}

/** Thrown by a strict loader; `issues` holds every error and warning found. */
export class DatasetError extends Error {
  constructor(
    readonly dataset: string,
    readonly issues: readonly DatasetIssue[],
  ) {
    super(formatIssues(dataset, issues));
    this.name = 'DatasetError';
  }
}

/** "<dataset>: N errors (M warnings)" and one line per issue, errors first (at most `max`). */
export function formatIssues(dataset: string, issues: readonly DatasetIssue[], max = 25): string {
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  const shown = [...errors, ...warnings].slice(0, max);
  const lines = shown.map((i) => `  ${i.severity}: ${i.file}: ${i.message}`);
  if (errors.length + warnings.length > shown.length) lines.push(`  … and ${errors.length + warnings.length - shown.length} more`);
  return `${dataset}: ${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n${lines.join('\n')}`;
}

/** Collects issues while a loader reads. */
export class IssueLog {
  readonly issues: DatasetIssue[] = [];
  error(file: string, message: string): void {
    this.issues.push({ severity: 'error', file, message });
  }
  warn(file: string, message: string): void {
    this.issues.push({ severity: 'warning', file, message });
  }
  get errorCount(): number {
    return this.issues.filter((i) => i.severity === 'error').length;
  }
}

/**
 * The geometry of an annotated object:
 * - `polygon`: one shape, even-odd over all its rings (a Supervisely exterior and its holes);
 * - `polygons`: the union of several polygons, each even-odd (a COCO polygon list);
 * - `rle`: a COCO run-length encoding.
 */
export type ObjectShape = { type: 'polygon'; rings: Ring[] } | { type: 'polygons'; polygons: Ring[] } | { type: 'rle'; rle: CocoRle };

/** An object as an annotation file describes it (rasterised on demand). */
export interface AnnotatedObject {
  /** Position in the file's object list. */
  index: number;
  /** The class title as written in the file. */
  classTitle: string;
  classKey: string;
  className: string;
  kind: ObjectKind;
  shape: ObjectShape;
  /** The file's own id for the object, when it has one. */
  sourceId?: number | string;
}

/** One frame of a dataset. */
export interface FrameRef {
  /** Unique and stable: `<case or video>/<image file name>`. */
  id: string;
  /** The case (Cataract-1k) or video (CaDIS) it belongs to. */
  group: string;
  fileName: string;
  imagePath: string;
  width: number;
  height: number;
  /** Undefined when the split does not list the frame. */
  split?: SplitName;
}

/** An object of a frame, rasterised. */
export interface LoadedObject {
  index: number;
  classKey: string;
  className: string;
  kind: ObjectKind;
  mask: BinaryMask;
  sourceId?: number | string;
}

/** Where the split came from and what it holds. */
export interface SplitInfo {
  /** A description: the file(s) read, or the fallback rule. */
  source: string;
  counts: Record<SplitName | 'none', number>;
}

/** The interface the evaluation uses, whatever the dataset. */
export interface SegmentationDataset {
  readonly name: string;
  readonly root: string;
  /** Every class the dataset can produce, instruments first in table order. */
  readonly classes: readonly ClassInfo[];
  /** The evaluated (instrument) class keys, in table order. */
  readonly instrumentKeys: readonly string[];
  readonly frames: readonly FrameRef[];
  readonly split: SplitInfo;
  /** Everything found while reading (and while loading objects later: empty rasters). */
  readonly issues: readonly DatasetIssue[];
  /** The frames of one split, in dataset order. */
  framesIn(split: SplitName): FrameRef[];
  /** The frame's pixels. */
  loadImage(frame: FrameRef): Promise<RgbFrame>;
  /** The frame's objects as masks (default: instruments only); objects with no pixel are dropped and reported. */
  loadObjects(frame: FrameRef, options?: { kinds?: readonly ObjectKind[] }): Promise<LoadedObject[]>;
}
