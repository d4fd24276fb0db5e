/** Binary masks as the metrics, loaders and generator exchange them. */

/**
 * A binary mask, row-major: pixel (x, y) is `data[y * width + x]`; any non-zero value is
 * foreground. Loaders and the generator write 0/1.
 */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An all-background mask. */
export function emptyMask(width: number, height: number): BinaryMask {
  checkSize(width, height, 'emptyMask');
  return { width, height, data: new Uint8Array(width * height) };
}

/** Throws unless the mask's data length matches its size. */
export function checkMask(m: BinaryMask, what = 'mask'): void {
  checkSize(m.width, m.height, what);
  if (m.data.length !== m.width * m.height) {
    throw new Error(`${what}: ${m.data.length} values for a ${m.width}×${m.height} mask (expected ${m.width * m.height})`);
  }
}

/** Throws unless the two masks have the same size. */
export function checkSameSize(a: BinaryMask, b: BinaryMask, what: string): void {
  checkMask(a, `${what}: first mask`);
  checkMask(b, `${what}: second mask`);
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${what}: masks differ in size (${a.width}×${a.height} vs ${b.width}×${b.height})`);
  }
}

/** Number of foreground pixels. */
export function countForeground(m: BinaryMask): number {
  let n = 0;
  const d = m.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/** True when two masks have the same size and the same foreground. */
export function masksEqual(a: BinaryMask, b: BinaryMask): boolean {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if ((a.data[i] !== 0) !== (b.data[i] !== 0)) return false;
  return true;
}

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: size must be positive integers, got ${width}×${height}`);
  }
}
