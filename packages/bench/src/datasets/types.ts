/**
 * What every dataset loader hands the evaluation: frames with their split, the annotated objects
 * of a frame as binary masks at the frame's resolution, and the problems found while reading.
 */
import type { BinaryMask, ClassInfo, DatasetIssue, ObjectKind } from '@rpsam2/data';
import type { RgbFrame } from './image-io.js';

export type { ClassInfo, ObjectKind } from '@rpsam2/data';
// The issue log and the annotated objects live with the annotation readers in `@rpsam2/data`.
export { DatasetError, formatIssues, IssueLog, type DatasetIssue, type ObjectShape, type AnnotatedObject } from '@rpsam2/data';

/** The three splits. */
export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

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
