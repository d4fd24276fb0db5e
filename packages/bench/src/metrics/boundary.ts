/** Mask boundaries in the MONAI convention used for HD95. */
import { checkMask, type BinaryMask } from '@rpsam2/data';

/**
 * The boundary of a mask: `mask XOR erosion(mask)` with a 3×3 cross (4-connected) structuring
 * element, where pixels outside the image count as background (scipy's `binary_erosion` default,
 * as MONAI's `get_mask_edges` uses it). So a foreground pixel is on the boundary when one of its
 * 4 neighbours is background or lies outside the image. Returns 0/1 per pixel.
 */
export function maskBoundary(mask: BinaryMask): Uint8Array {
  checkMask(mask, 'maskBoundary');
  const { width: w, height: h, data } = mask;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      if (data[i] === 0) continue;
      if (x === 0 || x === w - 1 || y === 0 || y === h - 1 || data[i - 1] === 0 || data[i + 1] === 0 || data[i - w] === 0 || data[i + w] === 0) {
        out[i] = 1;
      }
    }
  }
  return out;
}
