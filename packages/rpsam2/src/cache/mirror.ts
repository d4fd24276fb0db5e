/**
 * Mirroring a cached image for training (`augment.featureHflip` / `featureVflip`): the stored
 * features, masks, grid points and candidates flipped left–right and/or top–bottom together.
 *
 * SAM 2 resizes every image to a square without padding, so its token grids cover the image
 * exactly and a flip of the grids is the same geometric flip as the image's. The features
 * themselves are not SAM 2's features of the flipped image (the encoder is not flip-equivariant):
 * this is an augmentation of the shift block's input, cheap because it needs no encoder pass.
 */

/** Which axes to flip. */
export interface Mirror {
  /** Left–right (x → W − 1 − x). */
  h: boolean;
  /** Top–bottom (y → H − 1 − y). */
  v: boolean;
}

/** A [..., H, W] f32 array (row-major, last two axes spatial) flipped along the chosen axes. */
export function mirrorGrid(data: Float32Array, shape: readonly number[], m: Mirror): Float32Array {
  if (shape.length < 2) throw new RangeError(`mirrorGrid: shape [${shape}] needs two spatial axes`);
  const h = shape[shape.length - 2];
  const w = shape[shape.length - 1];
  if (data.length % (h * w) !== 0) throw new RangeError(`mirrorGrid: ${data.length} values do not fill planes of ${h}×${w}`);
  return flipPlanes(data, new Float32Array(data.length), h, w, m);
}

/** An H×W 0/1 mask flipped along the chosen axes. */
export function mirrorMask(mask: Uint8Array, h: number, w: number, m: Mirror): Uint8Array {
  if (mask.length !== h * w) throw new RangeError(`mirrorMask: ${mask.length} values for ${h}×${w}`);
  return flipPlanes(mask, new Uint8Array(mask.length), h, w, m);
}

/** Pixel points [n·2] (x, y: pixel indices) of an H×W image flipped along the chosen axes. */
export function mirrorPixels(px: Float32Array, h: number, w: number, m: Mirror): Float32Array {
  return reflectPoints(px, w - 1, h - 1, m);
}

/** Normalised points [n·2] (pixel index ÷ size, as `normalizeClicks`) flipped along the chosen axes. */
export function mirrorNormalized(norm: Float32Array, h: number, w: number, m: Mirror): Float32Array {
  return reflectPoints(norm, (w - 1) / w, (h - 1) / h, m);
}

/** `data`'s H×W planes written flipped into `out` (same length). */
function flipPlanes<T extends Float32Array | Uint8Array>(data: T, out: T, h: number, w: number, m: Mirror): T {
  for (let p = 0; p < data.length; p += h * w) {
    for (let y = 0; y < h; y++) {
      const src = p + (m.v ? h - 1 - y : y) * w;
      const dst = p + y * w;
      if (m.h) for (let x = 0; x < w; x++) out[dst + x] = data[src + w - 1 - x];
      else out.set(data.subarray(src, src + w), dst);
    }
  }
  return out;
}

/** Points [n·2] reflected as x → xMax − x and y → yMax − y on the chosen axes. */
function reflectPoints(points: Float32Array, xMax: number, yMax: number, m: Mirror): Float32Array {
  return Float32Array.from(points, (v, i) => (i % 2 === 0 ? (m.h ? xMax - v : v) : m.v ? yMax - v : v));
}
