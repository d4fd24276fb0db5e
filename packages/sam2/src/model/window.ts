/**
 * Hiera's non-overlapping windows: pad H and W up to a multiple of the window (zeros at the
 * bottom/right), cut row-major windows, and the inverse (which crops the padding away).
 */
import { pad, permute, reshape, slice, type Tensor } from '@rpsam2/tensor';

/** [B, H, W, C] → [B·nH·nW, ws, ws, C], with the padded size. */
export function windowPartition(x: Tensor, ws: number): { windows: Tensor; paddedHW: [number, number] } {
  const [b, h, w, c] = x.shape;
  const padH = (ws - (h % ws)) % ws;
  const padW = (ws - (w % ws)) % ws;
  const xp = padH || padW ? pad(x, [0, 0, 0, padW, 0, padH], 0) : x;
  const hp = h + padH;
  const wp = w + padW;
  const t = reshape(xp, [b, hp / ws, ws, wp / ws, ws, c]);
  const windows = reshape(permute(t, [0, 1, 3, 2, 4, 5]), [-1, ws, ws, c]);
  return { windows, paddedHW: [hp, wp] };
}

/** Inverse of {@link windowPartition}: [B·nH·nW, ws, ws, C] → [B, H, W, C]. */
export function windowUnpartition(windows: Tensor, ws: number, paddedHW: [number, number], hw: [number, number]): Tensor {
  const [hp, wp] = paddedHW;
  const [h, w] = hw;
  const c = windows.shape[3];
  const b = windows.shape[0] / ((hp / ws) * (wp / ws));
  const t = reshape(windows, [b, hp / ws, wp / ws, ws, ws, c]);
  const x = reshape(permute(t, [0, 1, 3, 2, 4, 5]), [b, hp, wp, c]);
  return hp > h || wp > w ? slice(x, [null, { end: h }, { end: w }, null]) : x;
}
