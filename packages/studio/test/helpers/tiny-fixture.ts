/** The tiny256 SAM 2 fixture as the engine tests use it: its folder, its config and a test image. */
import { readFileSync } from 'node:fs';
import type { RgbImage } from '@rpsam2/sam2';

export const DIR = new URL('../../../../../shared/fixtures/sam2/tiny256/', import.meta.url).pathname;

/** The fixture's config in the official layout (its top-level image size wins). */
export function configJson(): string {
  const meta = JSON.parse(readFileSync(`${DIR}meta.json`, 'utf8'));
  return JSON.stringify({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size });
}

/** A deterministic RGBA test image with a bright disc on a dark background. */
export function image(w: number, h: number): RgbImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 4 * (y * w + x);
      const inside = (x - 30) ** 2 + (y - 20) ** 2 < 144;
      data[o] = inside ? 230 : 40 + ((x * 7) % 30);
      data[o + 1] = inside ? 210 : 30 + ((y * 5) % 40);
      data[o + 2] = inside ? 190 : 50;
      data[o + 3] = 255;
    }
  }
  return { width: w, height: h, channels: 4, data };
}
