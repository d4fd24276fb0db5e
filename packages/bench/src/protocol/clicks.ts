/** Clicks drawn uniformly from a ground-truth mask (the protocol's simulated user). */
import { checkMask, type BinaryMask, type Rng } from '@rpsam2/data';

/**
 * A click on pixel (x, y): x is the column, y the row, both integers. In continuous image
 * coordinates the pixel's centre is (x + 0.5, y + 0.5); the evaluation decides which of the two
 * it hands to the model (and says so in its config).
 */
export interface Click {
  x: number;
  y: number;
}

/**
 * n clicks drawn independently and uniformly from the mask's foreground pixels (with
 * replacement), each exactly uniform: `rng.int(count)` picks the k-th foreground pixel in
 * row-major order. Throws on an empty mask or a bad n.
 */
export function sampleClicks(mask: BinaryMask, n: number, rng: Rng): Click[] {
  checkMask(mask, 'sampleClicks');
  if (!Number.isInteger(n) || n < 0) throw new Error(`sampleClicks: n must be a non-negative integer, got ${n}`);
  const { width, data } = mask;
  let count = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) count++;
  if (count === 0) throw new Error(`sampleClicks: the ${mask.width}×${mask.height} mask is empty`);
  if (n === 0) return [];
  const index = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) index[k++] = i;
  const out: Click[] = [];
  for (let j = 0; j < n; j++) {
    const i = index[rng.int(count)];
    out.push({ x: i % width, y: Math.floor(i / width) });
  }
  return out;
}
