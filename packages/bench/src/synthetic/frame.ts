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
import { CATARACT1K_INSTRUMENTS, cataract1kClassByKey } from '../datasets/cataract1k-classes.js';
import type { BinaryMask } from '../metrics/mask.js';
import { Rng } from '../protocol/rng.js';
import { paintEye, paintHighlights, randomEye, type EyeParams } from './eye.js';
import { INSTRUMENT_BUILDERS, type InstrumentPose } from './instruments.js';
import { rasterizeParts, type PartRaster } from './raster.js';
import { unit, type Material, type Vec } from './shapes.js';
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
}

/** An annotated object of a synthetic frame (its visible region). */
export interface SyntheticObject {
  classKey: string;
  classTitle: string;
  kind: 'instrument' | 'anatomy';
  mask: BinaryMask;
  /** Pixels of the instrument hidden by instruments above it (0 for anatomy). */
  occludedPixels: number;
}

/** A rendered frame and its annotations (anatomy first, then instruments bottom to top). */
export interface SyntheticFrame {
  width: number;
  height: number;
  /** 8-bit RGB, row-major. */
  rgb: Uint8Array;
  objects: SyntheticObject[];
}

const MAX_ATTEMPTS = 60;

/** Renders one frame (pure: the same options give the same frame). */
export function renderSyntheticFrame(options: FrameOptions): SyntheticFrame {
  const { width: W, height: H } = options;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 32 || H < 32) throw new Error(`renderSyntheticFrame: size must be integers ≥ 32, got ${W}×${H}`);
  if (options.classes.length === 0) throw new Error('renderSyntheticFrame: no instrument class to place');
  for (const k of options.classes) if (!INSTRUMENT_BUILDERS[k]) throw new Error(`renderSyntheticFrame: unknown instrument class '${k}' (expected one of ${Object.keys(INSTRUMENT_BUILDERS).join(', ')})`);
  const rng = new Rng(options.seed);
  const scale = (H / 768) * rng.uniform(0.88, 1.15);
  const eye = randomEye(rng, W, H, scale);
  const layout = placeInstruments(rng, eye, options.classes, W, H, scale, options.occlusion ?? 0.35);

  const rgb = new Float32Array(W * H * 3);
  const cornea = new Uint8Array(W * H);
  const pupil = new Uint8Array(W * H);
  paintEye(eye, W, H, rgb, cornea, pupil);
  const vessels = rasterizeParts(eye.vessels, W, H);
  if (vessels) composite(rgb, W, vessels);
  paintHighlights(eye, W, H, rgb);
  for (const k of layout.order) composite(rgb, W, layout.rasters[k]);
  finish(rng, rgb, W, H);

  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < out.length; i++) {
    const v = rgb[i];
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }

  const objects: SyntheticObject[] = [];
  const free = (i: number) => layout.ids[i] === 0;
  for (const [key, m] of [
    ['cornea', cornea],
    ['pupil', pupil],
  ] as const) {
    const data = new Uint8Array(W * H);
    let any = false;
    for (let i = 0; i < data.length; i++) if (m[i] && free(i)) (data[i] = 1), (any = true);
    if (any) objects.push({ classKey: key, classTitle: cataract1kClassByKey(key)!.name, kind: 'anatomy', mask: { width: W, height: H, data }, occludedPixels: 0 });
  }
  for (const k of layout.order) {
    const data = new Uint8Array(W * H);
    for (let i = 0; i < data.length; i++) if (layout.ids[i] === k + 1) data[i] = 1;
    const key = layout.classes[k];
    objects.push({ classKey: key, classTitle: cataract1kClassByKey(key)!.name, kind: 'instrument', mask: { width: W, height: H, data }, occludedPixels: layout.full[k] - layout.visible[k] });
  }
  return { width: W, height: H, rgb: out, objects };
}

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

function placeInstruments(rng: Rng, eye: EyeParams, classes: readonly string[], W: number, H: number, scale: number, occlusion: number): Layout {
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
        const d = rng.uniform(0, 24) * scale;
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
      poses.push({ tip, dir: unit([inc[0] - tip[0], inc[1] - tip[1]]), scale, reach });
    }
    const rasters: PartRaster[] = [];
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const r = rasterizeParts(INSTRUMENT_BUILDERS[chosen[i]](poses[i], rng), W, H);
      if (!r) ok = false;
      else rasters.push(r);
    }
    if (!ok) continue;
    // Depth: the lens injector at the bottom, the rest in random order.
    const rest = rng.shuffle([...Array(n).keys()].filter((i) => chosen[i] !== 'LI'));
    const order = [...[...Array(n).keys()].filter((i) => chosen[i] === 'LI'), ...rest];
    const ids = new Uint8Array(W * H);
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
    const visible = new Array<number>(n).fill(0);
    for (let i = 0; i < ids.length; i++) if (ids[i]) visible[ids[i] - 1]++;
    for (let k = 0; k < n && ok; k++) {
      if (visible[k] < minArea || visible[k] < 0.5 * full[k]) ok = false;
      else ok = connectedInBox(ids, W, rasters[k], k + 1);
    }
    if (ok) return { classes: chosen, rasters, order, ids, full, visible };
  }
  throw new Error(`renderSyntheticFrame: no valid layout for [${classes.join(', ')}] in ${MAX_ATTEMPTS} attempts`);
}

/** True when the pixels with this id inside the raster's box form one 4-connected region. */
function connectedInBox(ids: Uint8Array, W: number, r: PartRaster, id: number): boolean {
  const data = new Uint8Array(r.w * r.h);
  for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) data[y * r.w + x] = ids[(r.y0 + y) * W + r.x0 + x] === id ? 1 : 0;
  return labelComponents4({ width: r.w, height: r.h, data }).count === 1;
}

/** Blends a raster's parts over the image with anti-aliased coverage and their materials. */
function composite(rgb: Float32Array, W: number, r: PartRaster): void {
  const c: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < r.h; y++) {
    for (let x = 0; x < r.w; x++) {
      const j = y * r.w + x;
      const cov = 0.5 - r.sd[j];
      if (cov <= 0 || r.part[j] < 0) continue;
      const m = r.parts[r.part[j]].mat;
      const alpha = Math.min(1, cov) * shade(m, r.along[j], r.across[j], c);
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

/** Colour cast, defocus blur and sensor noise, in place. */
function finish(rng: Rng, rgb: Float32Array, W: number, H: number): void {
  const cast = [rng.uniform(0.93, 1.07), rng.uniform(0.95, 1.05), rng.uniform(0.9, 1.08)];
  const gain = rng.uniform(0.9, 1.1);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] *= cast[0] * gain;
    rgb[i + 1] *= cast[1] * gain;
    rgb[i + 2] *= cast[2] * gain;
  }
  const passes = rng.intIn(1, 2);
  const tmp = new Float32Array(rgb.length);
  for (let p = 0; p < passes; p++) boxBlur3(rgb, tmp, W, H);
  // Gaussian-like noise (sum of four uniforms) from an inline xorshift, seeded by the frame.
  const sigma = rng.uniform(1.5, 5);
  let s = rng.u32() | 1;
  const k = (sigma * Math.sqrt(3)) / 4294967296;
  for (let i = 0; i < rgb.length; i++) {
    let sum = 0;
    for (let j = 0; j < 4; j++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      sum += s >>> 0;
    }
    rgb[i] += (sum - 2 * 4294967296) * k;
  }
}

/** A 3×3 box blur (separable), in place; edges clamp. */
function boxBlur3(rgb: Float32Array, tmp: Float32Array, W: number, H: number): void {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const l = x > 0 ? x - 1 : x;
      const r = x < W - 1 ? x + 1 : x;
      for (let c = 0; c < 3; c++) tmp[3 * (y * W + x) + c] = (rgb[3 * (y * W + l) + c] + rgb[3 * (y * W + x) + c] + rgb[3 * (y * W + r) + c]) / 3;
    }
  }
  for (let y = 0; y < H; y++) {
    const u = y > 0 ? y - 1 : y;
    const d = y < H - 1 ? y + 1 : y;
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) rgb[3 * (y * W + x) + c] = (tmp[3 * (u * W + x) + c] + tmp[3 * (y * W + x) + c] + tmp[3 * (d * W + x) + c]) / 3;
    }
  }
}

/** The instrument keys the generator draws (all 10 classes). */
export const SYNTHETIC_CLASSES: readonly string[] = CATARACT1K_INSTRUMENTS.map((c) => c.key);
