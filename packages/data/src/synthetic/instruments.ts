/**
 * The 10 Cataract-1k instrument classes as procedural shapes, each built from a pose (the working
 * tip, the direction of the shaft out of the eye, the microscope zoom) and a random stream. The
 * classes differ where a model can see it: width, tip geometry, bends, number of arms, materials.
 *
 * | key | instrument               | shape                                                           |
 * | --- | ------------------------ | --------------------------------------------------------------- |
 * | SK  | slit knife               | wide spear blade (≈26 px) with two facets, thin neck, shaft     |
 * | IK  | incision knife           | narrow pointed blade (≈11 px), bent 20–35° off the shaft        |
 * | CC  | capsulorhexis cystotome  | thin needle with a short hook bent ≈90°, plastic hub far back   |
 * | CF  | capsulorhexis forceps    | two long thin arms in a narrow V, tiny inward hooks, titanium   |
 * | KF  | Katena forceps           | two short thick arms in a wide V ending in flat paddles         |
 * | G   | gauge (cannula)          | thin tube with an angled tip and an open end, hub far back      |
 * | IA  | irrigation–aspiration    | polished round-tipped tube (≈15 px), bent tip, dark side port   |
 * | PhT | phacoemulsification tip  | bevelled metal tip out of a thick matte silicone sleeve         |
 * | LI  | lens injector            | wide tapered glass nozzle, mostly transparent, folded lens      |
 * | S   | spatula                  | thin bent shaft ending in a flat oval paddle                    |
 *
 * Sizes are in pixels at 1024×768 and scale with the frame (`pose.scale`); no part is thinner
 * than 1 px in radius, so masks stay 4-connected at small sizes.
 */
import type { Rng } from '../rng.js';
import { add, local, rotate, type Material, type Part, type Vec } from './shapes.js';

/** Where an instrument is: its working tip, the unit direction from the tip out of the eye, zoom. */
export interface InstrumentPose {
  tip: Vec;
  dir: Vec;
  /** Pixels per "1024×768 pixel". */
  scale: number;
  /** How far shafts extend (beyond the frame). */
  reach: number;
}

/**
 * Draws one instrument class at a pose: the parts (capsules, polygons, ellipses with their materials)
 * that make up its shape, in pixels, drawn in order; `rng` varies sizes and materials.
 */
export type InstrumentBuilder = (pose: InstrumentPose, rng: Rng) => Part[];

const MIN_R = 1.05;

function metal(rng: Rng, base: number, tint: readonly [number, number, number] = [1, 1, 1], gloss = 0.8): Material {
  const b = base * rng.uniform(0.9, 1.08);
  return { kind: 'metal', color: [b * tint[0], b * tint[1], b * tint[2]], gloss, alpha: 1 };
}

function mat(kind: Material['kind'], color: readonly [number, number, number], gloss: number, alpha = 1): Material {
  return { kind, color, gloss, alpha };
}

/** A colour scaled by one random brightness factor. */
function jitter(rng: Rng, c: readonly [number, number, number], lo: number, hi: number): [number, number, number] {
  const k = rng.uniform(lo, hi);
  return [c[0] * k, c[1] * k, c[2] * k];
}

/** Radius in pixels at this zoom, at least MIN_R. */
const rad = (pose: InstrumentPose, r: number) => Math.max(MIN_R, r * pose.scale);

/** A capsule from a to the far end along dir (the part of a shaft that leaves the frame). */
function shaft(pose: InstrumentPose, from: Vec, r0: number, r1: number, m: Material): Part {
  return { type: 'capsule', a: from, b: add(from, pose.dir, pose.reach), ra: rad(pose, r0), rb: rad(pose, r1), mat: m };
}

/** A polygon given in local (u, v) units around the tip along `axis`. */
function blade(pose: InstrumentPose, axis: Vec, uv: readonly (readonly [number, number])[], halfWidth: number, m: Material): Part {
  const s = pose.scale;
  return { type: 'polygon', pts: uv.map(([u, v]) => local(pose.tip, axis, u * s, v * s)), origin: pose.tip, axis, halfWidth: Math.max(1, halfWidth * s), mat: m };
}

const slitKnife: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const axis = rotate(pose.dir, rng.uniform(-0.15, 0.15));
  const w = rng.uniform(0.9, 1.15);
  const len = rng.uniform(52, 62);
  const steel = mat('blade', jitter(rng, [218, 218, 212], 0.92, 1.05), 0.9);
  const bladePart = blade(pose, axis, [[0, 0], [16, -10.5 * w], [len - 10, -13 * w], [len, -6 * w], [len, 6 * w], [len - 10, 13 * w], [16, 10.5 * w]], 13 * w, steel);
  const neckA = local(pose.tip, axis, (len - 2) * s, 0);
  const neckB = local(pose.tip, axis, (len + 18) * s, 0);
  const m = metal(rng, 190);
  return [bladePart, { type: 'capsule', a: neckA, b: neckB, ra: rad(pose, 3.5), rb: rad(pose, 4.5), mat: m }, shaft(pose, neckB, 5, 6.5, m)];
};

const incisionKnife: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const axis = rotate(pose.dir, (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.35, 0.6));
  const len = rng.uniform(30, 38);
  const steel = mat('blade', [196, 205, 222], 0.95);
  const bladePart = blade(pose, axis, [[0, 0], [len - 10, -5.2], [len, -5.6], [len, 5.6], [len - 10, 5.2]], 5.6, steel);
  const neckA = local(pose.tip, axis, (len - 1) * s, 0);
  const neckB = local(pose.tip, axis, (len + 20) * s, 0);
  const m = metal(rng, 175, [0.97, 1, 1.04]);
  return [bladePart, { type: 'capsule', a: neckA, b: neckB, ra: rad(pose, 2.6), rb: rad(pose, 3.4), mat: m }, shaft(pose, neckB, 4.2, 5.2, m)];
};

const cystotome: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const hookDir = rotate(pose.dir, (rng.chance(0.5) ? 1 : -1) * rng.uniform(1.35, 1.8));
  const hookLen = rng.uniform(8, 12) * s;
  const bend = add(pose.tip, hookDir, hookLen);
  const needle = metal(rng, 205, [1, 1, 1], 0.9);
  const hubStart = add(bend, pose.dir, rng.uniform(230, 300) * s);
  const hub = mat('matte', [150 + rng.uniform(-20, 20), 175, 190], 0.3, 0.85);
  return [
    { type: 'capsule', a: pose.tip, b: bend, ra: rad(pose, 1.4), rb: rad(pose, 1.8), mat: needle },
    { type: 'capsule', a: bend, b: hubStart, ra: rad(pose, 1.9), rb: rad(pose, 2.8), mat: needle },
    shaft(pose, hubStart, 7.5, 8.5, hub),
  ];
};

/** Two arms from a joint to the tips at ±open, plus the closed body behind the joint. */
function forceps(pose: InstrumentPose, o: { armLen: number; open: number; armR: [number, number]; bodyR: [number, number]; m: Material; paddles: boolean; hooks: boolean }): Part[] {
  const s = pose.scale;
  const joint = local(pose.tip, pose.dir, o.armLen * s, 0);
  const parts: Part[] = [];
  for (const side of [-1, 1]) {
    const tip = local(pose.tip, pose.dir, 0, side * o.open * s);
    parts.push({ type: 'capsule', a: joint, b: tip, ra: rad(pose, o.armR[0]), rb: rad(pose, o.armR[1]), mat: o.m });
    if (o.hooks) {
      const hook = local(pose.tip, pose.dir, -3.5 * s, side * (o.open - 3.5) * s);
      parts.push({ type: 'capsule', a: tip, b: hook, ra: rad(pose, o.armR[1]), rb: rad(pose, 1.3), mat: o.m });
    }
    if (o.paddles) {
      const armDir: Vec = [tip[0] - joint[0], tip[1] - joint[1]];
      const c = add(tip, armDir, -3.5 * s / Math.hypot(armDir[0], armDir[1]));
      parts.push({ type: 'ellipse', c, rx: rad(pose, 7.5), ry: rad(pose, 3.4), angle: Math.atan2(armDir[1], armDir[0]), mat: o.m });
    }
  }
  parts.push(shaft(pose, joint, o.bodyR[0], o.bodyR[1], o.m));
  return parts;
}

const capsulorhexisForceps: InstrumentBuilder = (pose, rng) =>
  forceps(pose, {
    armLen: rng.uniform(105, 135),
    open: rng.uniform(3.5, 11),
    armR: [2.7, 2.0],
    bodyR: [5.5, 7],
    m: metal(rng, 168, [1.02, 0.99, 0.93], 0.55),
    paddles: false,
    hooks: true,
  });

const katenaForceps: InstrumentBuilder = (pose, rng) =>
  forceps(pose, {
    armLen: rng.uniform(62, 80),
    open: rng.uniform(9, 19),
    armR: [4.2, 3.2],
    bodyR: [8, 9.5],
    m: metal(rng, 205, [1, 1, 1], 0.85),
    paddles: true,
    hooks: false,
  });

const gauge: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const tipAxis = rotate(pose.dir, (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.25, 0.5));
  const bend = local(pose.tip, tipAxis, rng.uniform(30, 42) * s, 0);
  const tube = metal(rng, 185, [1, 1, 1], 0.6);
  const hubStart = add(bend, pose.dir, rng.uniform(210, 260) * s);
  return [
    { type: 'capsule', a: pose.tip, b: bend, ra: rad(pose, 3.0), rb: rad(pose, 3.2), mat: tube },
    { type: 'capsule', a: bend, b: hubStart, ra: rad(pose, 3.2), rb: rad(pose, 3.7), mat: tube },
    { type: 'ellipse', c: pose.tip, rx: rad(pose, 1.6), ry: rad(pose, 2.4), angle: Math.atan2(tipAxis[1], tipAxis[0]), mat: mat('dark', [45, 40, 38], 0) },
    shaft(pose, hubStart, 9, 10, mat('matte', [130, 160, 150], 0.3, 0.9)),
  ];
};

const irrigationAspiration: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const tipAxis = rotate(pose.dir, (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.2, 0.55));
  const bend = local(pose.tip, tipAxis, rng.uniform(28, 38) * s, 0);
  const polished = metal(rng, 215, [1, 1, 1], 1);
  const port = local(pose.tip, tipAxis, 10 * s, (rng.chance(0.5) ? 1 : -1) * 2.5 * s);
  return [
    { type: 'capsule', a: pose.tip, b: bend, ra: rad(pose, 7.2), rb: rad(pose, 7.5), mat: polished },
    shaft(pose, bend, 7.5, 8.5, polished),
    { type: 'ellipse', c: port, rx: rad(pose, 3.3), ry: rad(pose, 2.0), angle: Math.atan2(tipAxis[1], tipAxis[0]), mat: mat('dark', [40, 32, 30], 0) },
  ];
};

const phacoTip: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const protrude = rng.uniform(24, 36);
  const bevel = rng.chance(0.5) ? 1 : -1;
  const tipMetal = mat('blade', [200, 198, 190], 0.9);
  // The bevelled (oblique) end: one corner of the tip set back by 5 px.
  const [ua, ub] = bevel > 0 ? [5, 0] : [0, 5];
  const tipPart = blade(pose, pose.dir, [[ua, -6], [protrude + 2, -6], [protrude + 2, 6], [ub, 6]], 6, tipMetal);
  const sleeveStart = local(pose.tip, pose.dir, protrude * s, 0);
  const sleeve = mat('matte', jitter(rng, [192, 202, 210], 0.9, 1.04), 0.25);
  const parts: Part[] = [tipPart, shaft(pose, sleeveStart, 11, 12.5, sleeve)];
  for (const side of [-1, 1]) {
    parts.push({ type: 'ellipse', c: local(pose.tip, pose.dir, (protrude + 14) * s, side * 6.5 * s), rx: rad(pose, 2.4), ry: rad(pose, 1.8), angle: Math.atan2(pose.dir[1], pose.dir[0]), mat: mat('dark', [70, 72, 78], 0) });
  }
  parts.push({ type: 'ellipse', c: local(pose.tip, pose.dir, 1.5 * s, 0), rx: rad(pose, 1.6), ry: rad(pose, 3.6), angle: Math.atan2(pose.dir[1], pose.dir[0]), mat: mat('dark', [50, 45, 42], 0) });
  return parts;
};

const lensInjector: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const glass = mat('glass', [226, 233, 238], 0.9, rng.uniform(0.16, 0.26));
  const nozzleEnd = local(pose.tip, pose.dir, rng.uniform(95, 125) * s, 0);
  const parts: Part[] = [
    { type: 'capsule', a: pose.tip, b: nozzleEnd, ra: rad(pose, 9), rb: rad(pose, 25), mat: glass },
    shaft(pose, nozzleEnd, 26, 28, glass),
  ];
  if (rng.chance(0.65)) {
    // The folded intraocular lens inside the cartridge.
    parts.push({
      type: 'ellipse',
      c: local(pose.tip, pose.dir, rng.uniform(45, 70) * s, 0),
      rx: rad(pose, 30),
      ry: rad(pose, 9),
      angle: Math.atan2(pose.dir[1], pose.dir[0]),
      mat: mat('glass', [230, 215, 150], 0.4, 0.3),
    });
  }
  return parts;
};

const spatula: InstrumentBuilder = (pose, rng) => {
  const s = pose.scale;
  const tipAxis = rotate(pose.dir, (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.4, 0.8));
  const bend = local(pose.tip, tipAxis, rng.uniform(18, 26) * s, 0);
  const m = metal(rng, 180, [1, 1, 0.98], 0.5);
  return [
    { type: 'ellipse', c: local(pose.tip, tipAxis, 3 * s, 0), rx: rad(pose, 9.5), ry: rad(pose, 4.6), angle: Math.atan2(tipAxis[1], tipAxis[0]), mat: m },
    { type: 'capsule', a: local(pose.tip, tipAxis, 3 * s, 0), b: bend, ra: rad(pose, 2.2), rb: rad(pose, 2.6), mat: m },
    shaft(pose, bend, 2.8, 3.6, m),
  ];
};

/** Builders by class key (Table 1's abbreviations). */
export const INSTRUMENT_BUILDERS: Readonly<Record<string, InstrumentBuilder>> = {
  CC: cystotome,
  CF: capsulorhexisForceps,
  G: gauge,
  IA: irrigationAspiration,
  IK: incisionKnife,
  KF: katenaForceps,
  LI: lensInjector,
  PhT: phacoTip,
  SK: slitKnife,
  S: spatula,
};
