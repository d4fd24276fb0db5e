/**
 * The mask overlay of a frame as RGBA pixels at the frame's resolution: each object filled in
 * its class colour (translucent), its outline opaque, later objects over earlier ones; the
 * selected object and the draft stand out (stronger fill, white outline for the draft).
 */
import type { LabelClass } from '../state/classes.js';
import type { FrameLabels } from '../state/labels.js';

/** '#rrggbb' → [r, g, b]. */
export function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Fill and outline opacity (0–255) of each layer. */
export const OVERLAY_ALPHA = { fill: 96, selectedFill: 150, draftFill: 130, outline: 255 } as const;

/** Writes one mask into `out` (RGBA, width × height): fill where set, outline where a 4-neighbour is not. */
export function paintMask(out: Uint8ClampedArray, mask: Uint8Array, width: number, height: number, rgb: [number, number, number], fill: number, outline: [number, number, number]): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width];
      const o = 4 * i;
      if (edge) {
        out[o] = outline[0];
        out[o + 1] = outline[1];
        out[o + 2] = outline[2];
        out[o + 3] = OVERLAY_ALPHA.outline;
      } else {
        out[o] = rgb[0];
        out[o + 1] = rgb[1];
        out[o + 2] = rgb[2];
        out[o + 3] = fill;
      }
    }
  }
}

/** The overlay of a frame's labels (see the module documentation). */
export function overlayPixels(labels: FrameLabels, classes: readonly LabelClass[], width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  const color = (id: number): [number, number, number] => hexRgb(classes.find((c) => c.id === id)?.color ?? '#ffffff');
  for (const o of labels.objects) {
    const r = o.result;
    if (r.width !== width || r.height !== height) continue;
    const rgb = color(o.classId);
    paintMask(out, r.mask, width, height, rgb, o.id === labels.selected ? OVERLAY_ALPHA.selectedFill : OVERLAY_ALPHA.fill, rgb);
  }
  const d = labels.draft;
  if (d?.result && d.result.width === width && d.result.height === height) {
    paintMask(out, d.result.mask, width, height, color(d.classId), OVERLAY_ALPHA.draftFill, [255, 255, 255]);
  }
  return out;
}
