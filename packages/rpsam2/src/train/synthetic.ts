/**
 * Small generated images for tests and smoke runs: filled ellipses and bars (rotated rectangles)
 * of random sizes and colours on a noisy background, one mask per shape (a later shape occludes
 * the earlier ones). Seeded: the same options give the same images.
 */
import { SeededRandom } from '@rpsam2/tensor';
import { InMemoryDataset, maskArea, type DatasetItem, type DatasetObject } from './dataset.js';

/**
 * Options of {@link syntheticShapes} and {@link syntheticShapesItem}: image count and size, shapes per
 * image and their sizes, noise and seed.
 */
export interface SyntheticShapesOptions {
  /** Number of images (default 8). */
  count?: number;
  /** Image size (default 96×128). */
  height?: number;
  width?: number;
  /** Shapes per image, inclusive range (default [1, 2]). */
  objectsPerImage?: [number, number];
  /** Shape size as a fraction of the shorter image side, inclusive range (default [0.25, 0.5]). */
  sizeRange?: [number, number];
  /** Background noise amplitude in grey levels (default 40). */
  noise?: number;
  /** Shapes whose visible area ends up below this many pixels are dropped (default 30). */
  minArea?: number;
  seed?: number;
}

/** One generated image with its shapes (see the module comment). */
export function syntheticShapesItem(index: number, options: SyntheticShapesOptions = {}): DatasetItem {
  const h = options.height ?? 96;
  const w = options.width ?? 128;
  const [oMin, oMax] = options.objectsPerImage ?? [1, 2];
  const [sMin, sMax] = options.sizeRange ?? [0.25, 0.5];
  const noise = options.noise ?? 40;
  const minArea = options.minArea ?? 30;
  const rng = new SeededRandom(((options.seed ?? 0) * 7919 + index * 104729 + 1) >>> 0);
  const data = new Uint8Array(h * w * 3);
  // Background: a mid-grey tint with per-pixel noise.
  const base = [90 + rng.int(40), 90 + rng.int(40), 90 + rng.int(40)];
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = clampByte(base[c] + (rng.next() - 0.5) * 2 * noise);
  }
  const nObj = oMin + rng.int(oMax - oMin + 1);
  const owner = new Int16Array(h * w).fill(-1);
  const classes: string[] = [];
  const side = Math.min(h, w);
  for (let k = 0; k < nObj; k++) {
    const isBar = rng.next() < 0.5;
    const size = side * rng.uniform(sMin, sMax);
    const cx = rng.uniform(0.2, 0.8) * w;
    const cy = rng.uniform(0.2, 0.8) * h;
    const angle = rng.uniform(0, Math.PI);
    // Ellipse: semi-axes size/2 and size/2·[0.5, 1]; bar: length size, thickness size·[0.15, 0.3].
    const a = size / 2;
    const b = isBar ? (size * rng.uniform(0.15, 0.3)) / 2 : (size / 2) * rng.uniform(0.5, 1);
    const colour = [rng.int(256), rng.int(256), rng.int(256)];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * cos + dy * sin) / a;
        const v = (-dx * sin + dy * cos) / b;
        const inside = isBar ? Math.abs(u) <= 1 && Math.abs(v) <= 1 : u * u + v * v <= 1;
        if (!inside) continue;
        const i = y * w + x;
        owner[i] = k;
        for (let c = 0; c < 3; c++) data[i * 3 + c] = clampByte(colour[c] + (rng.next() - 0.5) * noise * 0.5);
      }
    }
    classes.push(isBar ? 'bar' : 'ellipse');
  }
  const objects: DatasetObject[] = [];
  for (let k = 0; k < nObj; k++) {
    const mask = new Uint8Array(h * w);
    for (let i = 0; i < h * w; i++) if (owner[i] === k) mask[i] = 1;
    if (maskArea(mask) >= minArea) objects.push({ mask, className: classes[k] });
  }
  return { id: `shapes-${String(index).padStart(4, '0')}`, image: { width: w, height: h, channels: 3, data }, objects };
}

/** A dataset of generated shape images (see {@link syntheticShapesItem}). */
export function syntheticShapes(options: SyntheticShapesOptions = {}): InMemoryDataset {
  const n = options.count ?? 8;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`syntheticShapes: count ${n} must be a positive integer`);
  return new InMemoryDataset(
    Array.from({ length: n }, (_, i) => syntheticShapesItem(i, options)),
    `synthetic-shapes(${n}, seed ${options.seed ?? 0})`,
  );
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
