/**
 * What the datasets (Cataract-1k, CaDIS) share behind {@link SegmentationDataset}: the frames
 * listed when the folder was opened, their split, the issues found (loading objects may add
 * more), and a frame's image checked against the size the frame was listed with.
 */
import { readRgbImage, type RgbFrame } from './image-io.js';
import type { DatasetIssue, FrameRef, SegmentationDataset, SplitInfo, SplitName } from './types.js';

/** The format-independent part of a dataset of listed frames (see the module comment). */
export abstract class FrameListDataset<F extends FrameRef> implements Pick<SegmentationDataset, 'frames' | 'split' | 'issues' | 'framesIn' | 'loadImage'> {
  /** How an image-size error names the size the frame was listed with ('expected', 'its annotation says'). */
  protected abstract readonly listedSize: string;

  constructor(
    readonly frames: readonly F[],
    readonly split: SplitInfo,
    protected readonly issueList: DatasetIssue[],
  ) {}

  get issues(): readonly DatasetIssue[] {
    return this.issueList;
  }

  framesIn(split: SplitName): F[] {
    return this.frames.filter((f) => f.split === split);
  }

  async loadImage(frame: FrameRef): Promise<RgbFrame> {
    const img = await readRgbImage(frame.imagePath);
    if (img.width !== frame.width || img.height !== frame.height) throw new Error(`${frame.imagePath}: image is ${img.width}×${img.height}, ${this.listedSize} ${frame.width}×${frame.height}`);
    return img;
  }
}
