/**
 * The benchmark datasets (Cataract-1k, CaDIS, synthetic) seen through `@rpsam2/rpsam2`'s
 * `Dataset` interface, so that its feature cache and trainer read them: one item per frame, id
 * derived from the frame id (cache file names), objects = the frame's instruments with their
 * class key (the paper's abbreviation) as class name.
 */
import type { Dataset, DatasetItem } from '@rpsam2/rpsam2';
import type { FrameRef, SegmentationDataset } from '../datasets/types.js';

/**
 * A cache-safe id for a frame id: `/` becomes `__`, any other character outside
 * `[A-Za-z0-9_.-]` becomes `-xHH`, and a leading `.` or `-` gets a `_` in front.
 */
export function frameCacheId(frameId: string): string {
  let s = '';
  for (const ch of frameId) {
    if (ch === '/') s += '__';
    else if (/[A-Za-z0-9_.-]/.test(ch)) s += ch;
    else s += `-x${ch.codePointAt(0)!.toString(16)}`;
  }
  return /^[A-Za-z0-9_]/.test(s) ? s : `_${s}`;
}

/** Options of {@link toRpsam2Dataset}. */
export interface AdapterOptions {
  /** Include the instrument objects (default true); false gives image-only items (features only). */
  objects?: boolean;
  /** Dataset name for messages (default: the dataset's name and the number of frames). */
  name?: string;
}

/** The frames of a benchmark dataset as an rpsam2 `Dataset` (read lazily, one frame per `get`). */
export function toRpsam2Dataset(ds: SegmentationDataset, frames: readonly FrameRef[], options: AdapterOptions = {}): Dataset {
  const withObjects = options.objects ?? true;
  const ids = new Map<string, string>();
  for (const f of frames) {
    const id = frameCacheId(f.id);
    const other = ids.get(id);
    if (other !== undefined) throw new Error(`${ds.name}: frames '${other}' and '${f.id}' map to the same cache id '${id}'`);
    ids.set(id, f.id);
  }
  return {
    name: options.name ?? `${ds.name} (${frames.length} frames)`,
    length: frames.length,
    async get(i: number): Promise<DatasetItem> {
      const f = frames[i];
      if (!f) throw new RangeError(`${ds.name}: frame index ${i} is outside 0…${frames.length - 1}`);
      const image = await ds.loadImage(f);
      const objects = withObjects ? (await ds.loadObjects(f)).map((o) => ({ mask: o.mask.data, className: o.classKey })) : [];
      return { id: frameCacheId(f.id), image, objects };
    },
  };
}
