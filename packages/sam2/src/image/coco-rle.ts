/**
 * COCO run-length encoding (pycocotools' format): `{size: [height, width], counts}` with runs
 * over the pixels in column-major order, alternating background / foreground and starting with
 * background; `counts` is either an array of run lengths ("uncompressed") or pycocotools'
 * compressed string (6-bit characters from '0', 5 data bits + a continuation bit each, the last
 * group sign-extended, and each run from the third on stored relative to the run two before).
 */

/** A COCO RLE object. */
export interface CocoRle {
  size: [number, number];
  counts: number[] | string;
}

/** Decodes an RLE into a row-major 0/1 mask; throws with `label` on malformed input. */
export function decodeRle(rle: CocoRle, label = 'rle'): { width: number; height: number; data: Uint8Array } {
  if (!rle || !Array.isArray(rle.size) || rle.size.length !== 2) throw new Error(`${label}: RLE without a [height, width] size`);
  const [height, width] = rle.size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) throw new Error(`${label}: RLE size [${rle.size}] is not two positive integers`);
  const counts = typeof rle.counts === 'string' ? decompressCounts(rle.counts, label) : rle.counts;
  if (!Array.isArray(counts)) throw new Error(`${label}: RLE counts must be an array or a string`);
  const n = width * height;
  const data = new Uint8Array(n);
  let pos = 0;
  for (let k = 0; k < counts.length; k++) {
    const run = counts[k];
    if (!Number.isInteger(run) || run < 0) throw new Error(`${label}: RLE run ${k} is ${run}, not a non-negative integer`);
    if (pos + run > n) throw new Error(`${label}: RLE runs cover more than the ${width}×${height} = ${n} pixels`);
    if (k % 2 === 1) {
      // Column-major position p → row p % height, column ⌊p / height⌋.
      for (let p = pos; p < pos + run; p++) data[(p % height) * width + Math.floor(p / height)] = 1;
    }
    pos += run;
  }
  if (pos !== n) throw new Error(`${label}: RLE runs cover ${pos} of ${n} pixels`);
  return { width, height, data };
}

/** Encodes a row-major mask (non-zero = object) as an uncompressed COCO RLE. */
export function encodeRle(mask: { width: number; height: number; data: ArrayLike<number> }): CocoRle & { counts: number[] } {
  const { width, height, data } = mask;
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = data[y * width + x] !== 0 ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** pycocotools' compressed counts string → run lengths. */
function decompressCounts(s: string, label: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`${label}: compressed RLE string ends inside a number`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`${label}: compressed RLE has an invalid character '${s[p]}'`);
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k); // sign-extend the last group
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}
