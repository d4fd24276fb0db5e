/**
 * Reading frames and label maps from disk. Decoding is `@rpsam2/sam2`'s (fast-png, jpeg-js);
 * this module adds what datasets need on top: file names in every error, and label maps read as
 * raw values whatever the PNG flavour (grey, grey-as-RGB, or palette indices recovered through
 * the PLTE chunk).
 */
import { readFile } from 'node:fs/promises';
import { decodeGreyPng, decodeImage } from '@rpsam2/sam2';
import { readPngInfo } from './png.js';

/** An 8-bit RGB image, row-major, 3 values per pixel (the type `@rpsam2/sam2` predicts on). */
export interface RgbFrame {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

/** A map of 8-bit label values, row-major. */
export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Reads a PNG or JPEG file as RGB; errors name the file. */
export async function readRgbImage(path: string): Promise<RgbFrame> {
  const bytes = await readBytes(path);
  const img = decodeImage(bytes, path);
  const d = img.data;
  return { width: img.width, height: img.height, channels: 3, data: d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.length) };
}

/**
 * Reads a label PNG as raw 8-bit values: 8-bit grey as is; RGB only when the three channels
 * agree; palette PNGs map back to their indices (the palette's colours must be distinct).
 * Throws, naming the file, for other bit depths than 8 or colour-coded label maps.
 */
export async function readLabelPng(path: string): Promise<LabelMap> {
  const bytes = await readBytes(path);
  return decodeLabelPng(bytes, path);
}

/** As {@link readLabelPng}, from bytes. */
export function decodeLabelPng(bytes: Uint8Array, label: string): LabelMap {
  const info = readPngInfo(bytes, label);
  if (info.bitDepth !== 8) throw new Error(`${label}: ${info.bitDepth}-bit label PNG (expected 8-bit label values)`);
  if (info.colorType === 3) {
    const pal = info.palette;
    if (!pal || pal.length < 3) throw new Error(`${label}: palette PNG without a PLTE chunk`);
    const index = new Map<number, number>();
    for (let i = 0; i < pal.length / 3; i++) {
      const key = (pal[3 * i] << 16) | (pal[3 * i + 1] << 8) | pal[3 * i + 2];
      if (index.has(key)) throw new Error(`${label}: palette label PNG has duplicate colours (indices ${index.get(key)} and ${i}); cannot recover label values`);
      index.set(key, i);
    }
    const rgb = decodeImage(bytes, label);
    const out = new Uint8Array(rgb.width * rgb.height);
    for (let i = 0; i < out.length; i++) {
      out[i] = index.get((rgb.data[3 * i] << 16) | (rgb.data[3 * i + 1] << 8) | rgb.data[3 * i + 2])!;
    }
    return { width: rgb.width, height: rgb.height, data: out };
  }
  if (info.colorType === 2 || info.colorType === 6) {
    const rgb = decodeImage(bytes, label);
    const out = new Uint8Array(rgb.width * rgb.height);
    for (let i = 0; i < out.length; i++) {
      const r = rgb.data[3 * i];
      if (rgb.data[3 * i + 1] !== r || rgb.data[3 * i + 2] !== r) {
        const x = i % rgb.width;
        const y = Math.floor(i / rgb.width);
        throw new Error(`${label}: colour label PNG (pixel (${x}, ${y}) is RGB ${r},${rgb.data[3 * i + 1]},${rgb.data[3 * i + 2]}); expected grey label values`);
      }
      out[i] = r;
    }
    return { width: rgb.width, height: rgb.height, data: out };
  }
  return decodeGreyPng(bytes, label);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
