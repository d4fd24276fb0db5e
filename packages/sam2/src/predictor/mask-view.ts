/**
 * One predicted mask as its own object: the H×W 0/1 bytes, its predicted IoU and its area, and
 * the common output forms (RGBA / ImageData for a canvas, PNG, COCO RLE, polygons), so callers
 * need not slice the predictors' flat [B, K, H, W] arrays themselves.
 */
import { encodeGreyPng } from '../image/codec.js';
import { encodeRle, type CocoRle } from '../image/coco-rle.js';
import { maskPolygons, type MaskPolygon } from '../image/mask-contours.js';

/** An RGBA colour, each channel 0–255. */
export type Rgba = readonly [number, number, number, number];

/**
 * One mask at the original image size. `data` is row-major, `width`·`height` bytes, 1 = object,
 * 0 = background. Views from `Sam2ImagePredictor.predict` threshold lazily (on first use of
 * `data`), so predictions whose views are never read cost nothing extra.
 */
export class MaskView {
  #data: Uint8Array | null;
  #source: ArrayLike<number> | null;
  #area = -1;

  /**
   * @param data row-major 0/1 bytes (taken over, not copied), or values that are thresholded at
   *   0 on first use (logits, or 0/1 floats)
   * @param score the predicted IoU
   * @param index which of the decoder's masks it is (0 for single-mask output)
   */
  constructor(
    data: Uint8Array | Float32Array,
    readonly width: number,
    readonly height: number,
    readonly score: number,
    readonly index = 0,
  ) {
    if (data.length !== width * height) throw new Error(`MaskView: ${data.length} values for ${width}×${height}`);
    this.#data = data instanceof Uint8Array ? data : null;
    this.#source = data instanceof Uint8Array ? null : data;
  }

  /** The mask: `width`·`height` bytes, row-major, 1 = object. */
  get data(): Uint8Array {
    if (!this.#data) {
      const src = this.#source!;
      const out = new Uint8Array(src.length);
      for (let i = 0; i < out.length; i++) out[i] = src[i] > 0 ? 1 : 0;
      this.#data = out;
      this.#source = null;
    }
    return this.#data;
  }

  /** Object pixels. */
  get area(): number {
    if (this.#area < 0) {
      let n = 0;
      for (const v of this.data) if (v) n++;
      this.#area = n;
    }
    return this.#area;
  }

  /**
   * The mask as RGBA pixels (`width`·`height`·4, ready for `new ImageData(…)` or a texture):
   * `color` on the object (default opaque white), `background` elsewhere (default transparent).
   */
  toRgba(color: Rgba = [255, 255, 255, 255], background: Rgba = [0, 0, 0, 0]): Uint8ClampedArray<ArrayBuffer> {
    const d = this.data;
    const out = new Uint8ClampedArray(d.length * 4);
    for (let i = 0; i < d.length; i++) out.set(d[i] ? color : background, i * 4);
    return out;
  }

  /** The mask as an `ImageData` (browsers and workers; Node has no `ImageData`: use `toRgba`). */
  toImageData(color?: Rgba, background?: Rgba): ImageData {
    if (typeof ImageData === 'undefined') throw new Error('MaskView.toImageData: ImageData is not available here (Node); use toRgba()');
    return new ImageData(this.toRgba(color, background), this.width, this.height);
  }

  /** The mask as an 8-bit greyscale PNG, 255 = object, 0 = background (as `sam2 predict` writes). */
  toPng(): Uint8Array {
    const d = this.data;
    const grey = new Uint8Array(d.length);
    for (let i = 0; i < d.length; i++) grey[i] = d[i] ? 255 : 0;
    return encodeGreyPng(grey, this.width, this.height);
  }

  /**
   * The mask as COCO's uncompressed RLE (`{ size: [height, width], counts }`, column-major runs
   * starting with background): pycocotools reads it with `mask.frPyObjects(rle, h, w)`; decode it
   * here with `decodeRle`.
   */
  toRle(): CocoRle & { counts: number[] } {
    return encodeRle(this);
  }

  /**
   * The mask's outline as polygons along the pixel edges (vertices at pixel corners), holes as
   * rings with `hole: true`. COCO `segmentation` polygons take the outer rings' `points`; a mask
   * with holes is exact only as RLE.
   */
  toPolygons(): MaskPolygon[] {
    return maskPolygons(this);
  }
}

/** The view with the highest score (the first on ties); throws on an empty list. */
export function bestMask(views: readonly MaskView[]): MaskView {
  if (!views.length) throw new Error('bestMask: no masks');
  return views.reduce((b, v) => (v.score > b.score ? v : b));
}
