/**
 * SAM 2's image and coordinate transforms: the image is resized straight to S×S (aspect ratio not
 * kept) with antialiased bilinear filtering, scaled to [0, 1] and normalised with ImageNet
 * mean/std; prompt coordinates scale from the original frame to the model frame; low-res mask
 * logits are resized back with plain bilinear (align_corners false).
 */
import { interpolate, sub, div, tensor, tidy, type Tensor } from '@rpsam2/tensor';

/** ImageNet per-channel mean (R, G, B) of pixels scaled to [0, 1], subtracted before the encoder. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
/** ImageNet per-channel standard deviation (R, G, B) of pixels scaled to [0, 1], divided by after the mean. */
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** An 8-bit RGB or RGBA image in row-major order. */
export interface RgbImage {
  width: number;
  height: number;
  /** width·height·channels bytes. */
  data: Uint8Array | Uint8ClampedArray;
  channels: 3 | 4;
}

/** Checks an image's fields; errors say what is wrong. */
export function validateImage(img: RgbImage, what = 'image'): void {
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new Error(`${what}: width and height must be positive integers`);
  }
  if (img.channels !== 3 && img.channels !== 4) throw new Error(`${what}: channels must be 3 (RGB) or 4 (RGBA), got ${img.channels}`);
  const n = img.width * img.height * img.channels;
  if (!img.data || img.data.length !== n) {
    throw new Error(`${what}: ${img.data?.length ?? 0} bytes for ${img.width}×${img.height}×${img.channels} (expected ${n})`);
  }
}

/**
 * The one rule for clicks in image pixels, shared by the `sam2` and `rpsam2` predictors and CLIs:
 * a click must be finite, and the CLIs also refuse one outside [0, width] × [0, height]. The
 * edges are inside: pixel i spans [i, i + 1), so x = width is the image's right edge. Returns
 * why the click breaks the rule, or null. (The library APIs accept clicks off the image, as SAM 2
 * does, and refuse only non-finite ones.)
 */
export function clickProblem(x: number, y: number, width?: number, height?: number): string | null {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return `click ${x},${y} is not a pair of finite numbers`;
  if (width !== undefined && height !== undefined && (x < 0 || y < 0 || x > width || y > height)) {
    return `click ${x},${y} lies outside the ${width}×${height} image (x must be in [0, ${width}], y in [0, ${height}])`;
  }
  return null;
}

/** [1, 3, H, W] float in [0, 1] from 8-bit pixels (alpha dropped). */
export function imageToTensor(img: RgbImage): Tensor {
  validateImage(img);
  const { width: w, height: h, channels: c } = img;
  const out = new Float32Array(3 * h * w);
  for (let i = 0; i < h * w; i++) {
    out[i] = img.data[i * c] / 255;
    out[h * w + i] = img.data[i * c + 1] / 255;
    out[2 * h * w + i] = img.data[i * c + 2] / 255;
  }
  return tensor(out, [1, 3, h, w]);
}

/** The model input: resize to size×size (bilinear, antialiased) and normalise. */
export function preprocess(img: RgbImage, size: number): Tensor {
  return tidy(() => {
    const x = imageToTensor(img);
    const resized = interpolate(x, { size: [size, size], mode: 'bilinear', alignCorners: false, antialias: true });
    const mean = tensor(IMAGENET_MEAN, [1, 3, 1, 1]);
    const std = tensor(IMAGENET_STD, [1, 3, 1, 1]);
    return div(sub(resized, mean), std);
  });
}

/** Mask logits [B, K, h, w] → [B, K, H, W] at the original size. */
export function postprocessMasks(lowRes: Tensor, origHW: [number, number]): Tensor {
  return interpolate(lowRes, { size: origHW, mode: 'bilinear', alignCorners: false });
}
