/** Op-vector adapters: resample ops (interpolate, point sampling). */
import { interpolate, samplePoints, type InterpolateMode } from '../../ops/index.js';
import type { OpAdapter } from './types.js';

export const resampleAdapters: Record<string, OpAdapter> = {
  interpolate: ([x], a) => {
    if (a.scale_factor !== undefined && a.scale_factor !== null) {
      const s = Array.isArray(a.scale_factor) ? a.scale_factor : [a.scale_factor, a.scale_factor];
      return interpolate(x, { scaleFactor: [Number(s[0]), Number(s[1])], mode: a.mode as InterpolateMode, alignCorners: Boolean(a.align_corners), antialias: Boolean(a.antialias) });
    }
    if (!Array.isArray(a.size) || a.size.length !== 2) throw new Error(`interpolate: unsupported size ${JSON.stringify(a.size)} (expected [h, w])`);
    return interpolate(x, { size: [Number(a.size[0]), Number(a.size[1])], mode: a.mode as InterpolateMode, alignCorners: Boolean(a.align_corners), antialias: Boolean(a.antialias) });
  },
  /** grid_sample at normalised points: image [N, C, H, W], points [N, 1, P, 2] → [N, C, 1, P]. */
  bilinear_sample: ([image, points]) => samplePoints(image, points),
};
