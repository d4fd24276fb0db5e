/**
 * One synthetic frame: the eye, 1–N instruments placed through incisions at the limbus with their
 * tips in the anterior chamber, in depth order (the lens injector, when present, at the bottom),
 * sometimes one tip over another (occlusion), then the lamp's reflections, a global colour cast,
 * a slight defocus blur and sensor noise. Annotations are the visible regions: each instrument's
 * pixels not covered by an instrument above it; cornea and pupil minus all instruments.
 *
 * A layout is accepted only if every instrument stays one 4-connected region with at least half
 * of its in-frame area visible (so each is one Supervisely object and clearly recognisable);
 * otherwise it is redrawn from the same random stream (deterministic), dropping secondary
 * instruments after repeated failures. The first class in the list is always kept.
 */
import { xorshift32 } from '@rpsam2/tensor';
import { CATARACT1K_INSTRUMENTS, cataract1kClassByKey } from '../classes/cataract1k.js';
import type { BinaryMask } from '../mask.js';
import { Rng } from '../rng.js';
import { paintEye, paintHighlights, randomEye, type EyeParams } from './eye.js';
import { DEFAULT_LOOK, type FrameLook } from './look.js';
import { INSTRUMENT_BUILDERS, type InstrumentPose } from './instruments.js';
import { rasterizeParts, type PartRaster } from './raster.js';
import { Scratch } from './scratch.js';
import { samplePart, unit, type Material, type PartSample, type Vec } from './shapes.js';
import { labelComponents4 } from './trace.js';

/** What to draw. */
export interface FrameOptions {
  width: number;
  height: number;
  /** The frame's seed (everything random in the frame derives from it). */
  seed: number;
  /** Instrument classes to place (keys), the first always kept; 1–4 entries. */
  classes: readonly string[];
  /** Probability that a secondary instrument's tip is put over another's (default 0.35). */
  occlusion?: number;
  /** The domain's microscope look (default: {@link DEFAULT_LOOK}). */
  look?: FrameLook;
}

/** An annotated object of a synthetic frame: its visible region, stored over its bounding box. */
export interface SyntheticObject {
  classKey: string;
  classTitle: string;
  kind: 'instrument' | 'anatomy';
  /** Bounding box of the visible region. */
  box: { x0: number; y0: number; w: number; h: number };
  /** The region over the box (row-major, 0/1); `objectMask` expands it to the frame. */
  crop: Uint8Array;
  /** Visible pixels. */
  area: number;
  /** Pixels of the instrument hidden by instruments above it (0 for anatomy). */
  occludedPixels: number;
}

/** A rendered frame and its annotations (anatomy first, then instruments bottom to top). */
export interface SyntheticFrame {
  width: number;
  height: number;
  /** 8-bit RGB, row-major (a renderer's buffer: valid until its next frame). */
  rgb: Uint8Array;
  objects: SyntheticObject[];
}

/** An object's visible region as a full-frame mask. */
export function objectMask(frame: { width: number; height: number }, o: SyntheticObject): BinaryMask {
  const data = new Uint8Array(frame.width * frame.height);
  for (let y = 0; y < o.box.h; y++) data.set(o.crop.subarray(y * o.box.w, (y + 1) * o.box.w), (o.box.y0 + y) * frame.width + o.box.x0);
  return { width: frame.width, height: frame.height, data };
}

/**
 * Renders frames, reusing its buffers from one frame to the next (the returned `rgb` is
 * overwritten by the next `render`). One renderer per thread of work.
 */
export class SyntheticRenderer {
  private readonly scratch = new Scratch();

  /** Renders one frame (the same options give the same frame). */
  render(options: FrameOptions): SyntheticFrame {
    const { width: W, height: H } = options;
    if (!Number.isInteger(W) || !Number.isInteger(H) || W < 32 || H < 32) throw new Error(`renderSyntheticFrame: size must be integers ≥ 32, got ${W}×${H}`);
    if (options.classes.length === 0) throw new Error('renderSyntheticFrame: no instrument class to place');
    for (const k of options.classes) if (!INSTRUMENT_BUILDERS[k]) throw new Error(`renderSyntheticFrame: unknown instrument class '${k}' (expected one of ${Object.keys(INSTRUMENT_BUILDERS).join(', ')})`);
    const sc = this.scratch;
    const rng = new Rng(options.seed);
    const scale = (H / 768) * rng.uniform(0.88, 1.15);
    const look = options.look ?? DEFAULT_LOOK;
    const eye = randomEye(rng, W, H, scale, look);
    const layout = placeInstruments(rng, eye, options.classes, W, H, scale, options.occlusion ?? 0.35, sc);

    const rgb = sc.f32('rgb', W * H * 3);
    const cornea = sc.u8('cornea', W * H).fill(0);
    const pupil = sc.u8('pupil', W * H).fill(0);
    paintEye(eye, W, H, rgb, cornea, pupil, look.vignette);
    const vessels = rasterizeParts(eye.vessels, W, H, 1.5, sc, 'vessels');
    if (vessels) composite(rgb, W, vessels);
    paintHighlights(eye, W, H, rgb);
    for (const k of layout.order) composite(rgb, W, layout.rasters[k]);
    finish(rng, look, rgb, W, H, sc.f32('tmp', W * H * 3));
    // Rounds half to even and clamps to 0–255 natively.
    const out = sc.u8('out', W * H * 3);
    new Uint8ClampedArray(out.buffer, out.byteOffset, out.length).set(rgb);

    const ids = layout.ids;
    const objects: SyntheticObject[] = [];
    // The anatomy lies inside the limbus ellipse's bounding box.
    const ex0 = Math.max(0, Math.floor(eye.cx - eye.rcx - 1));
    const ey0 = Math.max(0, Math.floor(eye.cy - eye.rcy - 1));
    const eyeBox = { x0: ex0, y0: ey0, w: Math.min(W, Math.ceil(eye.cx + eye.rcx + 1)) - ex0, h: Math.min(H, Math.ceil(eye.cy + eye.rcy + 1)) - ey0 };
    for (const [key, m] of [
      ['cornea', cornea],
      ['pupil', pupil],
    ] as const) {
      const o = cropObject(W, H, (i) => m[i] !== 0 && ids[i] === 0, eyeBox);
      if (o && dropSlivers(o, sc)) objects.push({ classKey: key, classTitle: key === 'cornea' ? 'Cornea' : 'Pupil', kind: 'anatomy', ...o, occludedPixels: 0 });
    }
    for (const k of layout.order) {
      const key = layout.classes[k];
      const r = layout.rasters[k];
      const o = cropObject(W, H, (i) => ids[i] === k + 1, { x0: r.x0, y0: r.y0, w: r.w, h: r.h })!;
      objects.push({ classKey: key, classTitle: cataract1kClassByKey(key)!.name, kind: 'instrument', ...o, occludedPixels: layout.full[k] - layout.visible[k] });
    }
    return { width: W, height: H, rgb: out, objects };
  }
}

/** Renders one frame with a fresh renderer (its `rgb` is the caller's to keep). */
export function renderSyntheticFrame(options: FrameOptions): SyntheticFrame {
  const f = new SyntheticRenderer().render(options);
  return { ...f, rgb: f.rgb.slice() };
}

/**
 * Removes the slivers an instrument cuts off an anatomy region (4-connected pieces under 1% of
 * the region and under 200 px), which an annotator would not draw; false when nothing is left.
 */
function dropSlivers(o: Pick<SyntheticObject, 'box' | 'crop' | 'area'>, sc: Scratch): boolean {
  const { labels, count, areas } = labelComponents4({ width: o.box.w, height: o.box.h, data: o.crop }, sc);
  if (count <= 1) return o.area > 0;
  const small = areas.map((a) => a < 0.01 * o.area && a < 200);
  for (let i = 0; i < o.crop.length; i++) {
    if (o.crop[i] && small[labels[i]]) {
      o.crop[i] = 0;
      o.area--;
    }
  }
  return o.area > 0;
}

/** The pixels of `region` where `inside` holds, cropped to their bounding box. */
function cropObject(W: number, H: number, inside: (i: number) => boolean, region: { x0: number; y0: number; w: number; h: number }): Pick<SyntheticObject, 'box' | 'crop' | 'area'> | undefined {
  let x0 = W;
  let y0 = H;
  let x1 = -1;
  let y1 = -1;
  let area = 0;
  for (let y = region.y0; y < region.y0 + region.h; y++) {
    for (let x = region.x0; x < region.x0 + region.w; x++) {
      if (!inside(y * W + x)) continue;
      area++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (area === 0) return undefined;
  const box = { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
  const crop = new Uint8Array(box.w * box.h);
  for (let y = 0; y < box.h; y++) for (let x = 0; x < box.w; x++) if (inside((y0 + y) * W + x0 + x)) crop[y * box.w + x] = 1;
  return { box, crop, area };
}

const MAX_ATTEMPTS = 60;

/**
 * Instrument size relative to the eye: the builders' units are calibrated so that ×2.6 gives
 * real proportions (a cornea of ≈11.5 mm spans ≈550 px at 1024×768, ≈48 px/mm: a slit knife
 * ≈2.5 mm wide, a 27G cannula ≈0.4 mm).
 */
const INSTRUMENT_ZOOM = 2.6;

interface Layout {
  classes: string[];
  rasters: PartRaster[];
  /** Depth order, bottom first. */
  order: number[];
  /** Instrument id + 1 per pixel (0 none), topmost. */
  ids: Uint8Array;
  full: number[];
  visible: number[];
}

function placeInstruments(rng: Rng, eye: EyeParams, classes: readonly string[], W: number, H: number, scale: number, occlusion: number, sc: Scratch): Layout {
  const minArea = Math.max(40, 0.0003 * W * H);
  const rc = (eye.rcx + eye.rcy) / 2;
  const reach = 2 * Math.hypot(W, H);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const n = Math.max(1, Math.min(classes.length, 4) - Math.floor(attempt / 15));
    const chosen = classes.slice(0, n);
    const poses: InstrumentPose[] = [];
    const theta0 = rng.uniform(0, 2 * Math.PI);
    for (let i = 0; i < n; i++) {
      const theta = i === 0 ? theta0 : theta0 + (i % 2 ? 1 : -1) * rng.uniform(1.1, 2.8) + (i >= 2 ? rng.uniform(-0.4, 0.4) : 0);
      const inc: Vec = [eye.cx + Math.cos(theta) * eye.rcx * rng.uniform(0.95, 1.05), eye.cy + Math.sin(theta) * eye.rcy * rng.uniform(0.95, 1.05)];
      let tip: Vec;
      if (i > 0 && rng.chance(occlusion)) {
        const other = poses[rng.int(i)].tip;
        const a = rng.uniform(0, 2 * Math.PI);
        const d = rng.uniform(0, 24) * scale * INSTRUMENT_ZOOM;
        tip = [other[0] + Math.cos(a) * d, other[1] + Math.sin(a) * d];
      } else {
        const a = rng.uniform(0, 2 * Math.PI);
        const d = rng.uniform(0, 0.6) * rc;
        tip = [eye.px + Math.cos(a) * d, eye.py + Math.sin(a) * d];
      }
      if (Math.hypot(inc[0] - tip[0], inc[1] - tip[1]) < 0.35 * rc) {
        const out = unit([inc[0] - eye.cx, inc[1] - eye.cy]);
        tip = [inc[0] - out[0] * 0.55 * rc, inc[1] - out[1] * 0.55 * rc];
      }
      poses.push({ tip, dir: unit([inc[0] - tip[0], inc[1] - tip[1]]), scale: scale * INSTRUMENT_ZOOM, reach });
    }
    const rasters: PartRaster[] = [];
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const r = rasterizeParts(INSTRUMENT_BUILDERS[chosen[i]](poses[i], rng), W, H, 1.5, sc, `inst${i}`);
      if (!r) ok = false;
      else rasters.push(r);
    }
    if (!ok) continue;
    // Depth: the lens injector at the bottom, the rest in random order.
    const rest = rng.shuffle([...Array(n).keys()].filter((i) => chosen[i] !== 'LI'));
    const order = [...[...Array(n).keys()].filter((i) => chosen[i] === 'LI'), ...rest];
    const ids = sc.u8('ids', W * H).fill(0);
    const full = new Array<number>(n).fill(0);
    for (const k of order) {
      const r = rasters[k];
      for (let y = 0; y < r.h; y++) {
        for (let x = 0; x < r.w; x++) {
          if (r.sd[y * r.w + x] < 0) {
            ids[(r.y0 + y) * W + r.x0 + x] = k + 1;
            full[k]++;
          }
        }
      }
    }
    const visible = rasters.map((r, k) => countInBox(ids, W, r, k + 1));
    for (let k = 0; k < n && ok; k++) {
      if (visible[k] < minArea || visible[k] < 0.5 * full[k]) ok = false;
      else ok = connectedInBox(ids, W, rasters[k], k + 1, sc);
    }
    if (ok) return { classes: chosen, rasters, order, ids, full, visible };
  }
  throw new Error(`renderSyntheticFrame: no valid layout for [${classes.join(', ')}] in ${MAX_ATTEMPTS} attempts`);
}

/** Pixels with this id inside the raster's box (all of them: an instrument lies within its box). */
function countInBox(ids: Uint8Array, W: number, r: PartRaster, id: number): number {
  let c = 0;
  for (let y = 0; y < r.h; y++) {
    const row = (r.y0 + y) * W + r.x0;
    for (let x = 0; x < r.w; x++) if (ids[row + x] === id) c++;
  }
  return c;
}

/** True when the pixels with this id inside the raster's box form one 4-connected region. */
function connectedInBox(ids: Uint8Array, W: number, r: PartRaster, id: number, sc: Scratch): boolean {
  const data = sc.u8('conn', r.w * r.h);
  for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) data[y * r.w + x] = ids[(r.y0 + y) * W + r.x0 + x] === id ? 1 : 0;
  return labelComponents4({ width: r.w, height: r.h, data }, sc).count === 1;
}

/** Blends a raster's parts over the image with anti-aliased coverage and their materials. */
function composite(rgb: Float32Array, W: number, r: PartRaster): void {
  const c: [number, number, number] = [0, 0, 0];
  const ps: PartSample = { sd: 0, along: 0, across: 0 };
  for (let y = 0; y < r.h; y++) {
    for (let x = 0; x < r.w; x++) {
      const j = y * r.w + x;
      const cov = 0.5 - r.sd[j];
      if (cov <= 0 || r.part[j] < 0) continue;
      const part = r.parts[r.part[j]];
      samplePart(part, r.x0 + x + 0.5, r.y0 + y + 0.5, ps);
      const alpha = Math.min(1, cov) * shade(part.mat, ps.along, ps.across, c);
      const i = 3 * ((r.y0 + y) * W + r.x0 + x);
      rgb[i] += (c[0] - rgb[i]) * alpha;
      rgb[i + 1] += (c[1] - rgb[i + 1]) * alpha;
      rgb[i + 2] += (c[2] - rgb[i + 2]) * alpha;
    }
  }
}

/** The material's colour at (along, across) into `out`; returns its opacity. */
function shade(m: Material, along: number, across: number, out: [number, number, number]): number {
  const a = across < -1 ? -1 : across > 1 ? 1 : across;
  const n = Math.sqrt(Math.max(0, 1 - a * a));
  const [r, g, b] = m.color;
  let k: number;
  let spec = 0;
  let alpha = m.alpha;
  switch (m.kind) {
    case 'metal':
      // Cylinder lit from one side: Lambert term plus a sharp highlight stripe and a faint rim.
      k = 0.38 + 0.62 * n * (0.8 - 0.2 * a);
      spec = m.gloss * (215 * Math.exp(-(((a + 0.35) / 0.16) ** 2)) + 60 * Math.exp(-(((a - 0.62) / 0.1) ** 2)));
      break;
    case 'blade':
      // Two bevelled facets, a sheen varying along the blade, darker edges.
      k = (a < 0 ? 1 : 0.76) * (0.9 + 0.1 * Math.sin(along * 0.09)) * (Math.abs(a) > 0.85 ? 0.82 : 1);
      spec = m.gloss * 90 * Math.exp(-(((a + 0.25) / 0.3) ** 2));
      break;
    case 'matte':
      k = 0.55 + 0.45 * n;
      spec = m.gloss * 40 * Math.exp(-(((a + 0.3) / 0.35) ** 2));
      break;
    case 'glass':
      // Mostly transparent; the walls (|across| near 1) and a thin reflection show.
      k = 0.85 + 0.15 * n;
      spec = m.gloss * 170 * Math.exp(-(((a + 0.5) / 0.07) ** 2));
      alpha = Math.min(0.85, m.alpha + 0.55 * a ** 6 + spec / 400);
      break;
    default:
      k = 1;
  }
  out[0] = r * k + spec;
  out[1] = g * k + spec;
  out[2] = b * k + spec;
  return alpha;
}

/** Desaturation, colour cast, lamp gradient, defocus blur and sensor noise (as `look` has them), in place. */
function finish(rng: Rng, look: FrameLook, rgb: Float32Array, W: number, H: number, tmp: Float32Array): void {
  const cast = look.cast.map(([lo, hi]) => rng.uniform(lo, hi));
  const gain = rng.uniform(look.gain[0], look.gain[1]);
  // The sensor's colour response first, then the white balance (so the cast is not washed out).
  if (look.saturation !== 1) desaturate(rgb, look.saturation);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] *= cast[0] * gain;
    rgb[i + 1] *= cast[1] * gain;
    rgb[i + 2] *= cast[2] * gain;
  }
  // Only looks that have them draw a gradient direction (default frames stay as they were).
  if (look.illumination > 0) lampGradient(rgb, W, H, look.illumination, rng.uniform(0, 2 * Math.PI));
  const passes = rng.intIn(look.blurPasses[0], look.blurPasses[1]);
  for (let p = 0; p < passes; p++) boxBlur3(rgb, tmp, W, H);
  // Gaussian noise: a fixed table of normal quantiles indexed by 16-bit halves of a xorshift
  // stream seeded from the frame (fast, deterministic).
  const sigma = rng.uniform(look.noise[0], look.noise[1]);
  const table = normalTable();
  let s = rng.u32() | 1;
  for (let i = 0; i + 1 < rgb.length; i += 2) {
    s = xorshift32(s);
    rgb[i] += sigma * table[s & 0xffff];
    rgb[i + 1] += sigma * table[(s >>> 16) & 0xffff];
  }
  if (rgb.length % 2) rgb[rgb.length - 1] += sigma * table[(s >>> 3) & 0xffff];
}

/** Brightness falling off linearly along direction `angle` (±strength/2 about the centre): an off-axis lamp. */
function lampGradient(rgb: Float32Array, W: number, H: number, strength: number, angle: number): void {
  const [cx, cy] = [Math.cos(angle), Math.sin(angle)];
  const half = Math.hypot(W, H) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const t = ((x - W / 2) * cx + (y - H / 2) * cy) / half; // −1 … 1
      const k = 1 + 0.5 * strength * t;
      const i = 3 * (y * W + x);
      rgb[i] *= k;
      rgb[i + 1] *= k;
      rgb[i + 2] *= k;
    }
  }
}

/** Mixes each pixel towards its grey value (Rec. 601 luma) by 1 − `saturation`. */
function desaturate(rgb: Float32Array, saturation: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const l = 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2];
    rgb[i] = l + (rgb[i] - l) * saturation;
    rgb[i + 1] = l + (rgb[i + 1] - l) * saturation;
    rgb[i + 2] = l + (rgb[i + 2] - l) * saturation;
  }
}

let NORMAL_TABLE: Float32Array | undefined;

/** 65536 standard-normal quantiles at (k + 0.5) / 65536 (Acklam's rational approximation). */
function normalTable(): Float32Array {
  if (NORMAL_TABLE) return NORMAL_TABLE;
  const t = new Float32Array(65536);
  for (let k = 0; k < 65536; k++) t[k] = normalQuantile((k + 0.5) / 65536);
  return (NORMAL_TABLE = t);
}

function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** A 3×3 box blur (separable), in place, on interleaved RGB; edges clamp. */
function boxBlur3(rgb: Float32Array, tmp: Float32Array, W: number, H: number): void {
  const third = 1 / 3;
  const stride = 3 * W;
  for (let y = 0; y < H; y++) {
    const o = y * stride;
    for (let c = 0; c < 3; c++) {
      tmp[o + c] = (2 * rgb[o + c] + rgb[o + 3 + c]) * third;
      tmp[o + stride - 3 + c] = (2 * rgb[o + stride - 3 + c] + rgb[o + stride - 6 + c]) * third;
    }
    for (let i = o + 3; i < o + stride - 3; i++) tmp[i] = (rgb[i - 3] + rgb[i] + rgb[i + 3]) * third;
  }
  for (let i = 0; i < stride; i++) rgb[i] = (2 * tmp[i] + tmp[i + stride]) * third;
  const last = (H - 1) * stride;
  for (let i = last; i < last + stride; i++) rgb[i] = (2 * tmp[i] + tmp[i - stride]) * third;
  for (let i = stride; i < last; i++) rgb[i] = (tmp[i - stride] + tmp[i] + tmp[i + stride]) * third;
}

/** The instrument keys the generator draws (all 10 classes). */
export const SYNTHETIC_CLASSES: readonly string[] = CATARACT1K_INSTRUMENTS.map((c) => c.key);
