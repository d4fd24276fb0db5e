/**
 * Decoding a frame file in the page: the browser's own decoder (`createImageBitmap`, every
 * format it knows), with no colour-space conversion and no premultiplication so the pixels the
 * model sees are the file's values (as `decodeImage` gives them in Node). A failure becomes a
 * {@link FrameDecodeError} that says what the file looks like.
 */
import type { FramePixels } from '../worker/protocol.js';

/** A frame that could not be decoded. */
export class FrameDecodeError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path} could not be decoded: ${why}`);
    this.name = 'FrameDecodeError';
  }
}

/** The image format by magic bytes, or null. */
export function sniffImageFormat(head: Uint8Array): string | null {
  const b = head;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'PNG';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'WebP';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'GIF';
  if (b.length >= 12 && b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70) return 'AVIF/HEIF';
  return null;
}

/** Decodes a frame file to a bitmap (for drawing). */
export async function decodeFrameBitmap(file: Blob, path: string): Promise<ImageBitmap> {
  if (file.size === 0) throw new FrameDecodeError(path, 'the file is empty');
  try {
    return await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const format = sniffImageFormat(head);
    const why = format
      ? `it starts like a ${format} file but the browser cannot decode it (truncated or corrupt?)`
      : 'it is not an image this browser can read (unrecognised file signature)';
    throw new FrameDecodeError(path, `${why} [${(e as Error).message}]`);
  }
}

/** The RGBA pixels of a bitmap (what the encoder gets). */
export function bitmapPixels(bitmap: ImageBitmap): FramePixels {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context to read the frame pixels');
  ctx.drawImage(bitmap, 0, 0);
  const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: 'srgb' });
  return { width: img.width, height: img.height, data: img.data };
}

/** A small thumbnail (data URL) of a bitmap, `width` pixels wide. */
export function thumbnail(bitmap: ImageBitmap, width = 112): string {
  const h = Math.max(1, Math.round((bitmap.height / bitmap.width) * width));
  const c = document.createElement('canvas');
  c.width = width;
  c.height = h;
  const ctx = c.getContext('2d');
  if (!ctx) return '';
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, h);
  return c.toDataURL('image/jpeg', 0.8);
}
