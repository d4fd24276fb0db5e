/**
 * What the SAM 2 trainer reads: frames with instance masks, from any source that can hand out
 * sample `i` (a generator renders it, a dataset reads it). The trainer brings every sample to
 * the model frame (S×S) itself.
 */
import type { RgbImage } from '../predictor/transforms.js';

/** One annotated object of a training frame. */
export interface TrainObject {
  /** 0/1 mask over the frame (width·height bytes, row-major). */
  mask: Uint8Array;
  /** Instruments are the objects that matter; anatomy (cornea, pupil) is mixed in. */
  kind: 'instrument' | 'anatomy';
  /** Class key (e.g. 'CF'), for logs. */
  classKey?: string;
}

/** One training frame. */
export interface TrainSample {
  image: RgbImage;
  objects: TrainObject[];
}

/** A source of training frames: sample `index` must always be the same frame (resumable runs). */
export interface TrainSource {
  /** A short description for logs and the model card. */
  readonly description: string;
  /** The frame and its objects of sample `index` (the same frame every time for the same index). */
  sample(index: number): TrainSample | Promise<TrainSample>;
}

/**
 * A frame mask on a size×size grid over the model frame (SAM 2 resizes frames straight to a
 * square): each cell holds the fraction of the frame pixels it covers that are in the mask (box
 * filter with exact fractional overlaps, via a summed-area table). Soft targets keep the
 * sub-cell position of the boundary that a nearest resize would throw away.
 */
export function maskCoverage(mask: Uint8Array, width: number, height: number, size: number): Float32Array {
  if (mask.length !== width * height) throw new Error(`maskCoverage: mask has ${mask.length} bytes for a ${width}×${height} frame`);
  // sat[(y)(W+1) + x] = mask pixels in [0, x) × [0, y).
  const w1 = width + 1;
  const sat = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += mask[y * width + x] ? 1 : 0;
      sat[(y + 1) * w1 + x + 1] = sat[y * w1 + x + 1] + row;
    }
  }
  // Area of the mask in the continuous rectangle [x0, x1) × [y0, y1) (pixel units, fractional
  // edges weighted bilinearly through the table).
  const at = (x: number, y: number) => {
    const xi = Math.min(width - 1, Math.floor(x));
    const yi = Math.min(height - 1, Math.floor(y));
    const fx = x - xi;
    const fy = y - yi;
    const a = sat[yi * w1 + xi];
    const b = sat[yi * w1 + xi + 1];
    const c = sat[(yi + 1) * w1 + xi];
    const d = sat[(yi + 1) * w1 + xi + 1];
    return a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * (1 - fx) * fy + d * fx * fy;
  };
  const out = new Float32Array(size * size);
  const sx = width / size;
  const sy = height / size;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const [x0, x1, y0, y1] = [i * sx, (i + 1) * sx, j * sy, (j + 1) * sy];
      const area = at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0);
      out[j * size + i] = Math.min(1, Math.max(0, area / (sx * sy)));
    }
  }
  return out;
}
