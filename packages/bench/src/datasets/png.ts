/**
 * The PNG pieces the benchmark needs beyond `@rpsam2/sam2`'s decoder: a header/palette reader
 * (to validate sizes without decoding, and to recover raw indices from palette label maps) and
 * an 8-bit encoder for grey, RGB and RGBA frames (the synthetic generator and test fixtures).
 * Compression is zlib from `node:zlib`; CRCs from `@rpsam2/tensor`.
 */
import { constants as zlib, deflateSync } from 'node:zlib';
import { crc32 } from '@rpsam2/tensor';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** What the IHDR (and PLTE, when present) chunk says. */
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

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return false;
  return true;
}

/**
 * Reads the header chunks (IHDR, and PLTE when present) without decompressing anything. Throws,
 * naming `label`, on a file that is not a PNG or whose header is truncated or invalid.
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

/**
 * Encodes an 8-bit grey / RGB / RGBA image as PNG: Sub-filtered rows, deflate with zlib's
 * run-length strategy (level `level`, default 3). On noisy camera-like frames LZ77 matching finds
 * almost nothing, so RLE is ~4× faster than the default strategy and no larger; flat regions
 * (masks, label maps) become runs of zeros after the filter and still compress well.
 */
export function encodePng(image: PngImage, options: { level?: number } = {}): Uint8Array {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: invalid size ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`encodePng: channels must be 1, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: ${data.length} bytes for ${width}×${height}×${channels} (expected ${width * height * channels})`);
  }
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    const row = y * stride;
    raw[o] = 1; // Sub: the difference to the pixel on the left
    for (let i = 0; i < channels && i < stride; i++) raw[o + 1 + i] = data[row + i];
    for (let i = channels; i < stride; i++) raw[o + 1 + i] = (data[row + i] - data[row + i - channels]) & 0xff;
  }
  const idat = deflateSync(raw, { level: options.level ?? 3, strategy: zlib.Z_RLE });
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const out = new Uint8Array(8 + (12 + 13) + (12 + idat.length) + 12);
  out.set(SIGNATURE, 0);
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
