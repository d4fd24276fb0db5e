/**
 * The one image codec of the project, pure JavaScript so it runs in Node and browsers:
 * PNG decoding via `fast-png` (8/16-bit, grey/RGB/alpha/palette), JPEG via `jpeg-js` (baseline
 * and progressive), chosen over hand-written decoders: both are small, maintained,
 * dependency-free. Also a PNG header reader (sizes and palettes without decoding) and two PNG
 * encoders: `encodeGreyPng` (fast-png; masks, in the page too) and `encodePng` (8-bit grey / RGB /
 * RGBA with a pluggable deflate, Node's zlib by default; the benchmark's frames and label maps).
 */
import { crc32 } from '@rpsam2/tensor';
import { decode as decodePng, encode as encodeFastPng } from 'fast-png';
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

/**
 * The most pixels a JPEG file can describe per byte: 512. Some component is at full resolution,
 * so there are at least w·h/64 blocks of 8×8, and the first scan to reach a block (baseline, or a
 * progressive DC scan) Huffman-codes its DC difference in at least one bit; a file of fewer than
 * w·h/512 bytes is therefore truncated. (jpeg-js decodes Huffman-coded JPEGs only.)
 */
export const JPEG_PIXELS_PER_BYTE = 512;

function decodeJpegRgb(bytes: Uint8Array, label: string): RgbImage {
  const size = jpegHeaderSize(bytes);
  if (size) {
    checkImageSize(size[0], size[1], label);
    // Refused before the decoder allocates the claimed size (a 700-byte file claiming 10000×9000
    // took jpeg-js 10 s and 2.7 GB to fail; 2.2 KB claiming 17 megapixels, ~1 s of CPU).
    if (bytes.length * JPEG_PIXELS_PER_BYTE < size[0] * size[1]) {
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
  return encodeFastPng({ width, height, data, channels: 1, depth: 8 });
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

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** What a PNG's IHDR (and PLTE, when present) chunk says. */
export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
  /** RGB triples of the palette (colour type 3). */
  palette?: Uint8Array;
}

/** True when the bytes start with the (whole, 8-byte) PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return false;
  return true;
}

/**
 * Reads the header chunks (IHDR, and PLTE when present) without decompressing anything: to check
 * sizes before decoding, and to recover raw indices from palette label maps. Throws, naming
 * `label`, on a file that is not a PNG or whose header is truncated or invalid.
 */
export function readPngInfo(bytes: Uint8Array, label = 'png'): PngInfo {
  if (!isPng(bytes)) throw new Error(`${label}: not a PNG file (bad signature)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let info: PngInfo | undefined;
  while (pos + 8 <= bytes.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const start = pos + 8;
    if (start + len + 4 > bytes.length) throw new Error(`${label}: truncated PNG (chunk ${type} runs past the end)`);
    if (!info && type !== 'IHDR') throw new Error(`${label}: invalid PNG (first chunk is ${type}, not IHDR)`);
    if (type === 'IHDR') {
      if (len < 13) throw new Error(`${label}: invalid PNG (IHDR of ${len} bytes)`);
      info = {
        width: dv.getUint32(start),
        height: dv.getUint32(start + 4),
        bitDepth: bytes[start + 8],
        colorType: bytes[start + 9],
        interlaced: bytes[start + 12] === 1,
      };
      if (info.width === 0 || info.height === 0) throw new Error(`${label}: invalid PNG size ${info.width}×${info.height}`);
    } else if (type === 'PLTE') {
      info!.palette = bytes.slice(start, start + len);
    } else if (type === 'IDAT' || type === 'IEND') break;
    pos = start + len + 4;
  }
  if (!info) throw new Error(`${label}: truncated PNG (no IHDR chunk)`);
  return info;
}

/** An 8-bit image to encode: `channels` values per pixel, row-major. */
export interface PngImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Options of {@link encodePng}. */
export interface EncodePngOptions {
  /** Compression level passed to `deflate` (default 3). */
  level?: number;
  /**
   * zlib-format deflate of the filtered rows. Default: Node's `zlib.deflateSync` with the
   * run-length strategy (found through `process.getBuiltinModule`); give one where that is
   * missing (browsers, Node before 20.16).
   */
  deflate?: (raw: Uint8Array, level: number) => Uint8Array;
}

/** The encoder's default deflate over a given zlib: `deflateSync` with the run-length strategy. */
export function zlibRleDeflate(zlib: Pick<typeof import('node:zlib'), 'deflateSync' | 'constants'>): (raw: Uint8Array, level: number) => Uint8Array {
  return (raw, level) => zlib.deflateSync(raw, { level, strategy: zlib.constants.Z_RLE });
}

/** Node's zlib with `Z_RLE`, or undefined outside Node. */
function nodeRleDeflate(): ((raw: Uint8Array, level: number) => Uint8Array) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as typeof import('node:zlib') | undefined;
  return zlib ? zlibRleDeflate(zlib) : undefined;
}

/**
 * Encodes an 8-bit grey / RGB / RGBA image as PNG: Sub-filtered rows, deflated (by default with
 * zlib's run-length strategy at level 3). On noisy camera-like frames LZ77 matching finds almost
 * nothing, so RLE is ~4× faster than the default strategy and no larger; flat regions (masks,
 * label maps) become runs of zeros after the filter and still compress well.
 */
export function encodePng(image: PngImage, options: EncodePngOptions = {}): Uint8Array {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: invalid size ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`encodePng: channels must be 1, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: ${data.length} bytes for ${width}×${height}×${channels} (expected ${width * height * channels})`);
  }
  const deflate = options.deflate ?? nodeRleDeflate();
  if (!deflate) throw new Error('encodePng: no zlib here (not Node 20.16+); pass options.deflate');
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    const row = y * stride;
    raw[o] = 1; // Sub: the difference to the pixel on the left
    for (let i = 0; i < channels && i < stride; i++) raw[o + 1 + i] = data[row + i];
    for (let i = channels; i < stride; i++) raw[o + 1 + i] = (data[row + i] - data[row + i - channels]) & 0xff;
  }
  const idat = deflate(raw, options.level ?? 3);
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const out = new Uint8Array(8 + (12 + 13) + (12 + idat.length) + 12);
  out.set(PNG_SIGNATURE, 0);
  let pos = writeChunk(out, 8, 'IHDR', ihdr);
  pos = writeChunk(out, pos, 'IDAT', idat);
  writeChunk(out, pos, 'IEND', new Uint8Array(0));
  return out;
}

/** Writes a chunk (length, type, body, CRC) at `pos`; returns the position after it. */
function writeChunk(out: Uint8Array, pos: number, type: string, body: Uint8Array): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(pos, body.length);
  for (let i = 0; i < 4; i++) out[pos + 4 + i] = type.charCodeAt(i);
  out.set(body, pos + 8);
  dv.setUint32(pos + 8 + body.length, crc32(out.subarray(pos + 4, pos + 8 + body.length)) >>> 0);
  return pos + 12 + body.length;
}
