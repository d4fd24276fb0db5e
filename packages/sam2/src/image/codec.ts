/**
 * Image decoding and mask encoding, pure JavaScript so it runs in Node and browsers:
 * PNG via `fast-png` (8/16-bit, grey/RGB/alpha/palette), JPEG via `jpeg-js` (baseline and
 * progressive). Chosen over hand-written decoders: both are small, maintained, dependency-free.
 */
import { decode as decodePng, encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { RgbImage } from '../predictor/transforms.js';

/**
 * The largest image decoded, in pixels (100 megapixels: 300 MB as RGB, more while decoding). The
 * size a header claims is checked before anything is allocated, so a small file claiming a huge
 * image is refused with a clear message instead of failing deep inside the decoder.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** Sniffs PNG/JPEG from the magic bytes and decodes to 8-bit RGB. */
export function decodeImage(bytes: Uint8Array, label = 'image'): RgbImage {
  if (isPngBytes(bytes)) return decodePngRgb(bytes, label);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpegRgb(bytes, label);
  throw new Error(`${label}: not a PNG or JPEG file (unrecognised signature)`);
}

function isPngBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/**
 * Why an image of `width` × `height` pixels is refused ("image too large (…; limit …)"), or
 * undefined. Shared by the decoders and by annotation loaders, which allocate masks of the size
 * a file claims.
 */
export function imageSizeProblem(width: number, height: number): string | undefined {
  if (width * height <= MAX_IMAGE_PIXELS) return undefined;
  const mp = (n: number) => `${+(n / 1e6).toPrecision(3)} megapixels`;
  return `image too large (${width}×${height} = ${mp(width * height)}; limit ${mp(MAX_IMAGE_PIXELS)})`;
}

function checkImageSize(width: number, height: number, label: string): void {
  const problem = imageSizeProblem(width, height);
  if (problem) throw new Error(`${label}: ${problem}; downscale it first`);
}

/** Width and height from a PNG's IHDR chunk (bytes 16–23), or null when there is none. */
function pngHeaderSize(bytes: Uint8Array): [number, number] | null {
  if (bytes.length < 24 || String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]) !== 'IHDR') return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

/** Samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Refuses a PNG whose image data cannot hold the pixels its header claims: deflate expands at
 * most 1032:1, so fewer compressed bytes than (filtered rows) / 1032 mean a truncated or corrupt
 * file. Checked before decoding, which would otherwise allocate the claimed size (up to
 * gigabytes from a few hundred bytes) and fill it with zeros.
 */
function checkPngDataLength(bytes: Uint8Array, width: number, height: number, label: string): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const depth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]] ?? 1;
  let idat = 0;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const len = v.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (type === 'IDAT') idat += Math.min(len, bytes.length - at - 8);
    if (type === 'IEND') break;
    at += 12 + len;
  }
  const raw = height * (1 + Math.ceil((width * channels * depth) / 8));
  if (idat * 1032 + 1032 < raw) throw new Error(`${label}: cannot decode PNG (truncated or corrupt: ${idat} bytes of image data cannot hold ${width}×${height} pixels)`);
}

/** Width and height from a JPEG's first SOF marker, or null when none is found. */
function jpegHeaderSize(bytes: Uint8Array): [number, number] | null {
  let i = 2;
  while (i + 9 <= bytes.length && bytes[i] === 0xff) {
    const m = bytes[i + 1];
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size.
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return [(bytes[i + 7] << 8) | bytes[i + 8], (bytes[i + 5] << 8) | bytes[i + 6]];
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  return null;
}

function decodePngRgb(bytes: Uint8Array, label: string): RgbImage {
  const size = pngHeaderSize(bytes);
  if (size) {
    checkImageSize(size[0], size[1], label);
    checkPngDataLength(bytes, size[0], size[1], label);
  }
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new Error(`${label}: cannot decode PNG (${(e as Error).message})`);
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const src = png.data;
  const palette = png.palette;
  const shift = depth === 16 ? 8 : 0;
  for (let i = 0; i < n; i++) {
    if (palette) {
      const e = palette[src[i]];
      out[i * 3] = e[0];
      out[i * 3 + 1] = e[1];
      out[i * 3 + 2] = e[2];
    } else if (channels === 1 || channels === 2) {
      const v = src[i * channels] >> shift;
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v;
    } else {
      out[i * 3] = src[i * channels] >> shift;
      out[i * 3 + 1] = src[i * channels + 1] >> shift;
      out[i * 3 + 2] = src[i * channels + 2] >> shift;
    }
  }
  return { width, height, channels: 3, data: out };
}

function decodeJpegRgb(bytes: Uint8Array, label: string): RgbImage {
  const size = jpegHeaderSize(bytes);
  if (size) {
    checkImageSize(size[0], size[1], label);
    // Every MCU (at most 32×32 pixels) costs at least one bit of entropy-coded data, so a file
    // under w·h / 8192 bytes is truncated; refused before the decoder allocates the claimed size
    // (a 700-byte file claiming 10000×9000 took 10 s and 2.7 GB to fail).
    if (bytes.length * 8192 < size[0] * size[1]) {
      throw new Error(`${label}: cannot decode JPEG (truncated or corrupt: ${bytes.length} bytes cannot hold ${size[0]}×${size[1]} pixels)`);
    }
  }
  let img;
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
  } catch (e) {
    throw new Error(`${label}: cannot decode JPEG (${(e as Error).message})`);
  }
  return { width: img.width, height: img.height, channels: 3, data: img.data };
}

/** A single-channel 8-bit image (e.g. a mask, 0/255) as PNG bytes. */
export function encodeGreyPng(data: Uint8Array, width: number, height: number): Uint8Array {
  if (data.length !== width * height) throw new Error(`encodeGreyPng: ${data.length} bytes for ${width}×${height}`);
  return encodePng({ width, height, data, channels: 1, depth: 8 });
}

/** An 8-bit single-channel PNG decoded to its values (label maps, masks). */
export function decodeGreyPng(bytes: Uint8Array, label = 'mask'): { width: number; height: number; data: Uint8Array } {
  const img = decodePngRgb(bytes, label);
  const out = new Uint8Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i * 3];
  return { width: img.width, height: img.height, data: out };
}

/** An 8-bit RGB image as baseline JPEG bytes (`quality` 1–100; figures and screenshots for docs). */
export function encodeJpeg(image: RgbImage, quality = 85): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) throw new Error(`encodeJpeg: ${data.length} bytes for ${width}×${height} RGB`);
  if (!(quality >= 1 && quality <= 100)) throw new RangeError(`encodeJpeg: quality must be in [1, 100], got ${quality}`);
  // jpeg-js reads RGBA.
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba[j] = data[i];
    rgba[j + 1] = data[i + 1];
    rgba[j + 2] = data[i + 2];
    rgba[j + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, quality).data);
}
