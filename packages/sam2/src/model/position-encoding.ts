/**
 * SAM 2's two positional encodings.
 * - Sine (DETR-style), used by the FPN neck: computed on the CPU in float64 (it depends only on
 *   the map size) and uploaded.
 * - Random Fourier features of the prompt encoder: [sin | cos] of 2π·(2c−1)·G for coordinates c
 *   in [0, 1] and a stored 2×(C/2) Gaussian matrix G. The point path runs on tensors so gradients
 *   flow to the click.
 */
import { cat, affine, matmul, sin, cos, tensor, type Tensor } from '@rpsam2/tensor';

/** The neck's sine encoding of an h×w map with `numPosFeats` channels, [1, C, h, w]. */
export function sinePositionEncoding(numPosFeats: number, h: number, w: number, temperature = 10000): Tensor {
  const half = numPosFeats / 2;
  const scale = 2 * Math.PI;
  const eps = 1e-6;
  const out = new Float32Array(numPosFeats * h * w);
  const dimT = Array.from({ length: half }, (_, i) => temperature ** ((2 * Math.floor(i / 2)) / half));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ye = ((y + 1) / (h + eps)) * scale;
      const xe = ((x + 1) / (w + eps)) * scale;
      for (let i = 0; i < half; i++) {
        const fy = ye / dimT[i];
        const fx = xe / dimT[i];
        // channels: [pos_y (sin/cos interleaved by pairs), pos_x]
        out[(i * h + y) * w + x] = i % 2 === 0 ? Math.sin(fy) : Math.cos(fy);
        out[((half + i) * h + y) * w + x] = i % 2 === 0 ? Math.sin(fx) : Math.cos(fx);
      }
    }
  }
  return tensor(out, [1, numPosFeats, h, w]);
}

/**
 * Fourier features of coordinates in [0, 1]: coords [..., 2] (x, y) → [..., C] with C = 2·G's
 * columns. `gaussian` is [2, C/2].
 */
export function fourierEncode(coords: Tensor, gaussian: Tensor): Tensor {
  const proj = matmul(affine(coords, 2, -1), gaussian);
  const phase = affine(proj, 2 * Math.PI, 0);
  return cat([sin(phase), cos(phase)], -1);
}

/**
 * The dense positional encoding of an h×w grid of pixel centres (CPU, float64), in two layouts:
 * `grid` [1, C, h, w] and `tokens` [1, h·w, C] (the two-way transformer's image tokens).
 */
export function denseFourierEncoding(gaussianData: Float32Array, numFeats: number, h: number, w: number): { grid: Tensor; tokens: Tensor } {
  const c = 2 * numFeats;
  const grid = new Float32Array(c * h * w);
  const tokens = new Float32Array(c * h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const cx = 2 * ((j + 0.5) / w) - 1;
      const cy = 2 * ((i + 0.5) / h) - 1;
      const p = i * w + j;
      for (let f = 0; f < numFeats; f++) {
        const v = 2 * Math.PI * (cx * gaussianData[f] + cy * gaussianData[numFeats + f]);
        grid[f * h * w + p] = tokens[p * c + f] = Math.sin(v);
        grid[(numFeats + f) * h * w + p] = tokens[p * c + numFeats + f] = Math.cos(v);
      }
    }
  }
  return { grid: tensor(grid, [1, c, h, w]), tokens: tensor(tokens, [1, h * w, c]) };
}
