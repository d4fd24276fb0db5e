/**
 * The PNG pieces the benchmark uses (header/palette reader, 8-bit grey / RGB / RGBA encoder) are
 * `@rpsam2/sam2`'s codec, the project's one PNG implementation; re-exported here so the dataset
 * modules and their importers keep this path. The encoder gets Node's zlib explicitly: sam2 finds
 * it through `process.getBuiltinModule`, which Node 20 has only from 20.16.
 */
import * as zlib from 'node:zlib';
import { encodePng as encodePngWith, zlibRleDeflate, type EncodePngOptions, type PngImage } from '@rpsam2/sam2';

export { readPngInfo, isPng, type PngImage, type PngInfo } from '@rpsam2/sam2';

const deflate = zlibRleDeflate(zlib);

/** sam2's `encodePng` with Node's zlib handed over (the same run-length deflate as sam2's default). */
export function encodePng(image: PngImage, options: EncodePngOptions = {}): Uint8Array {
  return encodePngWith(image, { deflate, ...options });
}
