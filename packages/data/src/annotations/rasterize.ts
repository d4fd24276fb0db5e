/** Annotated object geometry → binary mask, with the rules of `polygon.ts` and `@rpsam2/sam2`'s RLE codec. */
import { decodeRle } from '@rpsam2/sam2';
import type { BinaryMask } from '../mask.js';
import { rasterizeRings } from './polygon.js';
import type { ObjectShape } from './types.js';

/** Rasterises a shape at width × height (0/1 values). */
export function rasterizeShape(shape: ObjectShape, width: number, height: number, label = 'object'): BinaryMask {
  switch (shape.type) {
    case 'polygon':
      return { width, height, data: rasterizeRings(shape.rings, width, height) };
    case 'polygons': {
      // COCO: the union of the polygons (each filled even-odd on its own).
      const data = new Uint8Array(width * height);
      for (const ring of shape.polygons) rasterizeRings([ring], width, height, data, 1);
      return { width, height, data };
    }
    case 'rle': {
      const m = decodeRle(shape.rle, label);
      if (m.width !== width || m.height !== height) throw new Error(`${label}: RLE is ${m.width}×${m.height}, the frame ${width}×${height}`);
      return m;
    }
  }
}
