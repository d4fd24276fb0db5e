/**
 * The anatomy of a synthetic frame: the eye under the operating microscope. The cornea (limbus
 * disk) and the pupil are annotated; the iris, sclera, vessels, the red reflex in the pupil,
 * vignetting of the microscope field and the corneal reflections of its lamp are rendered only.
 */
import type { Rng } from '../rng.js';
import { DEFAULT_LOOK, type FrameLook } from './look.js';
import type { Part } from './shapes.js';

/** The eye's geometry and colours for one frame. */
export interface EyeParams {
  cx: number;
  cy: number;
  /** Limbus (cornea) radii. */
  rcx: number;
  rcy: number;
  /** Pupil centre and radii. */
  px: number;
  py: number;
  rpx: number;
  rpy: number;
  iris: [number, number, number];
  reflex: [number, number, number];
  sclera: [number, number, number];
  skin: [number, number, number];
  irisFreq: number;
  irisPhase: number;
  /** Radius (relative to the pupil) of a faint capsulorhexis edge, 0 for none. */
  rhexis: number;
  vessels: Part[];
  highlights: { x: number; y: number; rx: number; ry: number; strength: number }[];
}

/** Draws an eye for a width × height frame at microscope zoom `scale` (reflections as the look has them). */
export function randomEye(rng: Rng, width: number, height: number, scale: number, look: FrameLook = DEFAULT_LOOK): EyeParams {
  const rc = rng.uniform(0.33, 0.44) * height * (scale / (height / 768));
  const cx = width / 2 + rng.uniform(-0.08, 0.08) * width;
  const cy = height / 2 + rng.uniform(-0.08, 0.08) * height;
  const rcx = rc * rng.uniform(0.98, 1.06);
  const rcy = rc * rng.uniform(0.95, 1.02);
  const rp = rc * rng.uniform(0.48, 0.7);
  const px = cx + rng.uniform(-0.05, 0.05) * rc;
  const py = cy + rng.uniform(-0.05, 0.05) * rc;
  const brown = rng.chance(0.6);
  const iris: [number, number, number] = brown ? [120, 80, 50] : [105, 115, 120];
  const k = rng.uniform(0.75, 1.15);
  iris[0] *= k;
  iris[1] *= k;
  iris[2] *= k;
  // Red reflex (most frames) or the grey-yellow of a cloudy lens.
  const reflex: [number, number, number] = rng.chance(0.75) ? [rng.uniform(195, 240), rng.uniform(85, 125), rng.uniform(35, 60)] : [rng.uniform(150, 190), rng.uniform(140, 170), rng.uniform(90, 120)];
  const sclera: [number, number, number] = [rng.uniform(205, 235), rng.uniform(165, 190), rng.uniform(150, 175)];
  const skin: [number, number, number] = [rng.uniform(150, 200), rng.uniform(70, 110), rng.uniform(55, 85)];

  const vessels: Part[] = [];
  const nv = rng.intIn(5, 11);
  for (let v = 0; v < nv; v++) {
    let ang = rng.uniform(0, 2 * Math.PI);
    let r = rc * rng.uniform(1.04, 1.15);
    let p: [number, number] = [cx + Math.cos(ang) * r, cy + Math.sin(ang) * r];
    const width0 = Math.max(0.7, rng.uniform(0.7, 1.8) * (height / 768));
    let turn = rng.uniform(-0.06, 0.06);
    for (let seg = 0; seg < 9; seg++) {
      r += rc * rng.uniform(0.04, 0.09);
      turn += rng.uniform(-0.04, 0.04);
      ang += turn;
      const q: [number, number] = [cx + Math.cos(ang) * r, cy + Math.sin(ang) * r];
      vessels.push({ type: 'capsule', a: p, b: q, ra: width0 * (1 - seg * 0.06), rb: width0 * (0.94 - seg * 0.06), mat: { kind: 'matte', color: [150, 35, 35], gloss: 0, alpha: 0.45 } });
      p = q;
    }
  }

  const highlights: EyeParams['highlights'] = [];
  const nh = rng.intIn(look.highlights.count[0], look.highlights.count[1]);
  for (let h = 0; h < nh; h++) {
    const a = rng.uniform(0, 2 * Math.PI);
    const d = rng.uniform(0, 0.6) * rc;
    const size = rng.uniform(look.highlights.size[0], look.highlights.size[1]) * (height / 768);
    highlights.push({ x: cx + Math.cos(a) * d, y: cy + Math.sin(a) * d, rx: size * rng.uniform(0.7, 1.6), ry: size * rng.uniform(0.7, 1.6), strength: rng.uniform(0.6, 1) });
  }

  return {
    cx,
    cy,
    rcx,
    rcy,
    px,
    py,
    rpx: rp * rng.uniform(0.97, 1.03),
    rpy: rp * rng.uniform(0.97, 1.03),
    iris,
    reflex,
    sclera,
    skin,
    irisFreq: rng.intIn(40, 90),
    irisPhase: rng.uniform(0, 2 * Math.PI),
    rhexis: rng.chance(0.5) ? rng.uniform(0.6, 0.85) : 0,
    vessels,
    highlights,
  };
}

function smooth(a: number, b: number, t: number): number {
  let u = (t - a) / (b - a);
  u = u < 0 ? 0 : u > 1 ? 1 : u;
  return u * u * (3 - 2 * u);
}

/**
 * Paints the eye into `rgb` (float, 3 values per pixel, row-major) and writes the anatomy
 * masks (1 inside) for the cornea and the pupil.
 */
export function paintEye(e: EyeParams, width: number, height: number, rgb: Float32Array, cornea: Uint8Array, pupil: Uint8Array, vignette = DEFAULT_LOOK.vignette): void {
  const invDiag = 1 / Math.sqrt(width * width + height * height);
  const irisOuter = 0.93;
  const pupilEdge = e.rpx / e.rcx;
  const irisSpan = Math.max(1e-3, irisOuter - pupilEdge);
  const [ir, ig, ib] = e.iris;
  for (let y = 0; y < height; y++) {
    const fy = y + 0.5;
    const dy = (fy - e.cy) / e.rcy;
    const qy = (fy - e.py) / e.rpy;
    const vy = fy - height / 2;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const fx = x + 0.5;
      const dx = (fx - e.cx) / e.rcx;
      const rho = Math.sqrt(dx * dx + dy * dy);
      const qx = (fx - e.px) / e.rpx;
      const rp = Math.sqrt(qx * qx + qy * qy);
      let r: number;
      let g: number;
      let b: number;
      if (rp < 1) {
        pupil[i] = 1;
        // Red reflex: bright centre, darker rim; a faint capsulorhexis edge.
        let f = 1 - 0.38 * rp * rp - 0.25 * smooth(0.85, 1, rp);
        if (e.rhexis > 0 && Math.abs(rp - e.rhexis) < 0.1) f *= 1 + 0.09 * Math.exp(-(((rp - e.rhexis) / 0.025) ** 2));
        r = e.reflex[0] * f;
        g = e.reflex[1] * f;
        b = e.reflex[2] * f;
      } else if (rho < irisOuter) {
        // Iris: radial fibres, a collarette ring, darker towards the limbus.
        const t = rho > pupilEdge ? (rho - pupilEdge) / irisSpan : 0;
        const ang = Math.atan2(dy, dx);
        const fib = 0.82 + 0.12 * Math.sin(ang * e.irisFreq + e.irisPhase + 6 * t) + 0.06 * Math.sin(ang * e.irisFreq * 2.3 - 4 * t);
        const coll = Math.abs(t - 0.28) < 0.25 ? 1 + 0.12 * Math.exp(-(((t - 0.28) / 0.06) ** 2)) : 1;
        const f = fib * coll * (1 - 0.35 * smooth(0.6, 1, t));
        r = ir * f;
        g = ig * f;
        b = ib * f;
      } else {
        // Limbus ring, then sclera fading to skin / drape.
        const limbus = Math.abs(rho - 1) < 0.15 ? 1 - 0.45 * Math.exp(-(((rho - 1) / 0.035) ** 2)) : 1;
        const s = smooth(1.0, 1.7, rho);
        const inner = smooth(irisOuter, 1.03, rho);
        const io = 0.7 * (1 - inner);
        r = (ir * io + inner * (e.sclera[0] * (1 - s) + e.skin[0] * s)) * limbus;
        g = (ig * io + inner * (e.sclera[1] * (1 - s) + e.skin[1] * s)) * limbus;
        b = (ib * io + inner * (e.sclera[2] * (1 - s) + e.skin[2] * s)) * limbus;
      }
      if (rho < 1) cornea[i] = 1;
      // Microscope field: dark corners.
      const vx = fx - width / 2;
      const vig = 1 - vignette * smooth(0.32, 0.62, Math.sqrt(vx * vx + vy * vy) * invDiag);
      rgb[3 * i] = r * vig;
      rgb[3 * i + 1] = g * vig;
      rgb[3 * i + 2] = b * vig;
    }
  }
}

/** Adds the lamp's reflections (soft white spots) on the cornea. */
export function paintHighlights(e: EyeParams, width: number, height: number, rgb: Float32Array): void {
  for (const h of e.highlights) {
    const x0 = Math.max(0, Math.floor(h.x - 3 * h.rx));
    const x1 = Math.min(width - 1, Math.ceil(h.x + 3 * h.rx));
    const y0 = Math.max(0, Math.floor(h.y - 3 * h.ry));
    const y1 = Math.min(height - 1, Math.ceil(h.y + 3 * h.ry));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = (x + 0.5 - h.x) / h.rx;
        const dy = (y + 0.5 - h.y) / h.ry;
        const a = h.strength * Math.exp(-(dx * dx + dy * dy) * 1.4);
        if (a < 0.004) continue;
        const i = 3 * (y * width + x);
        rgb[i] += (255 - rgb[i]) * a;
        rgb[i + 1] += (255 - rgb[i + 1]) * a;
        rgb[i + 2] += (252 - rgb[i + 2]) * a;
      }
    }
  }
}
