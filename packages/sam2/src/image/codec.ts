/**
 * Image decoding and mask encoding, pure JavaScript so it runs in Node and browsers:
 * PNG via `fast-png` (8/16-bit, grey/RGB/alpha/palette), JPEG via `jpeg-js` (baseline and
 * progressive). Chosen over hand-written decoders: both are small, maintained, dependency-free.
 */
import { decode as decodePng, encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { RgbImage } from '../predictor/transforms.js';

/** Sniffs PNG/JPEG from the magic bytes and decodes to 8-bit RGB. */
export function decodeImage(bytes: Uint8Array, label = 'image'): RgbImage {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePngRgb(bytes, label);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpegRgb(bytes, label);
  throw new Error(`${label}: not a PNG or JPEG file (unrecognised signature)`);
}

function decodePngRgb(bytes: Uint8Array, label: string): RgbImage {
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
  let img;
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
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
