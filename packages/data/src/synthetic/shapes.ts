/**
 * The generator's drawing primitives: tapered capsules (shafts, tubes, needles, forceps arms),
 * polygons (blades) and ellipses (paddles, ports), each with a material. An instrument is a list
 * of parts; it is rasterised once into a signed-distance field over its bounding box, which gives
 * both its exact mask (pixel centre inside ⇔ distance < 0) and its anti-aliased coverage and
 * shading coordinates.
 */

/** A point or direction in image pixels (x right, y down). */
export type Vec = readonly [number, number];

/** How a part is shaded. */
export interface Material {
  /**
   * metal: cylinder shading with a specular stripe; blade: two flat bevelled facets with a sheen;
   * matte: soft cylinder shading, no highlight (silicone); glass: mostly transparent with bright
   * rims; dark: a hole or port.
   */
  kind: 'metal' | 'blade' | 'matte' | 'glass' | 'dark';
  /** Base colour, 0–255. */
  color: readonly [number, number, number];
  /** Specular strength (0–1). */
  gloss: number;
  /** Opacity (1 opaque; the lens injector's glass is ~0.2). */
  alpha: number;
}

/** A part of an instrument. */
export type Part =
  | { type: 'capsule'; a: Vec; b: Vec; ra: number; rb: number; mat: Material }
  | { type: 'polygon'; pts: Vec[]; origin: Vec; axis: Vec; halfWidth: number; mat: Material }
  | { type: 'ellipse'; c: Vec; rx: number; ry: number; angle: number; mat: Material };

/** Per-pixel result of evaluating a part. */
export interface PartSample {
  /** Signed distance in pixels (negative inside). */
  sd: number;
  /** Coordinate along the part (pixels). */
  along: number;
  /** Coordinate across the part, −1…1 inside. */
  across: number;
}

/** Integer bounding box [x0, y0, x1, y1] (inclusive) of a part, padded by `pad` pixels. */
export function partBounds(p: Part, pad = 1.5): [number, number, number, number] {
  let xa: number;
  let ya: number;
  let xb: number;
  let yb: number;
  if (p.type === 'capsule') {
    const r = Math.max(p.ra, p.rb);
    xa = Math.min(p.a[0], p.b[0]) - r;
    xb = Math.max(p.a[0], p.b[0]) + r;
    ya = Math.min(p.a[1], p.b[1]) - r;
    yb = Math.max(p.a[1], p.b[1]) + r;
  } else if (p.type === 'polygon') {
    xa = Math.min(...p.pts.map((q) => q[0]));
    xb = Math.max(...p.pts.map((q) => q[0]));
    ya = Math.min(...p.pts.map((q) => q[1]));
    yb = Math.max(...p.pts.map((q) => q[1]));
  } else {
    const r = Math.max(p.rx, p.ry);
    xa = p.c[0] - r;
    xb = p.c[0] + r;
    ya = p.c[1] - r;
    yb = p.c[1] + r;
  }
  return [Math.floor(xa - pad), Math.floor(ya - pad), Math.ceil(xb + pad), Math.ceil(yb + pad)];
}

/** Evaluates a part at point (x, y) into `out`. */
export function samplePart(p: Part, x: number, y: number, out: PartSample): void {
  if (p.type === 'capsule') {
    const abx = p.b[0] - p.a[0];
    const aby = p.b[1] - p.a[1];
    const len2 = abx * abx + aby * aby;
    const px = x - p.a[0];
    const py = y - p.a[1];
    let t = len2 > 0 ? (px * abx + py * aby) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = px - t * abx;
    const dy = py - t * aby;
    const dist = Math.sqrt(dx * dx + dy * dy);
    const r = p.ra + (p.rb - p.ra) * t;
    out.sd = dist - r;
    out.along = t * Math.sqrt(len2);
    // Signed perpendicular side from the cross product, scaled by the local radius.
    const side = abx * py - aby * px >= 0 ? 1 : -1;
    out.across = r > 0 ? (side * dist) / r : 0;
    return;
  }
  if (p.type === 'ellipse') {
    const c = Math.cos(p.angle);
    const s = Math.sin(p.angle);
    const lx = (x - p.c[0]) * c + (y - p.c[1]) * s;
    const ly = -(x - p.c[0]) * s + (y - p.c[1]) * c;
    const k = Math.sqrt((lx / p.rx) ** 2 + (ly / p.ry) ** 2);
    out.sd = (k - 1) * Math.min(p.rx, p.ry);
    out.along = lx;
    out.across = ly / p.ry;
    return;
  }
  // Polygon: distance to the nearest edge, negative inside (even-odd).
  const pts = p.pts;
  let best = Infinity;
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const ax = pts[j][0];
    const ay = pts[j][1];
    const bx = pts[i][0];
    const by = pts[i][1];
    const ex = bx - ax;
    const ey = by - ay;
    const wx = x - ax;
    const wy = y - ay;
    const l2 = ex * ex + ey * ey;
    let t = l2 > 0 ? (wx * ex + wy * ey) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const qx = wx - t * ex;
    const qy = wy - t * ey;
    const d2 = qx * qx + qy * qy;
    if (d2 < best) best = d2;
    if (ay > y !== by > y && x < ax + ((y - ay) * ex) / ey) inside = !inside;
  }
  const d = Math.sqrt(best);
  out.sd = inside ? -d : d;
  const rx = x - p.origin[0];
  const ry = y - p.origin[1];
  out.along = rx * p.axis[0] + ry * p.axis[1];
  out.across = (-rx * p.axis[1] + ry * p.axis[0]) / p.halfWidth;
}

/** a + b·k */
export function add(a: Vec, b: Vec, k = 1): Vec {
  return [a[0] + b[0] * k, a[1] + b[1] * k];
}

/** Rotates a direction by an angle (radians, clockwise on screen). */
export function rotate(v: Vec, angle: number): Vec {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [v[0] * c - v[1] * s, v[0] * s + v[1] * c];
}

/** The perpendicular of a direction (rotated +90°). */
export function perp(v: Vec): Vec {
  return [-v[1], v[0]];
}

/** The unit vector of v. */
export function unit(v: Vec): Vec {
  const l = Math.hypot(v[0], v[1]);
  return l > 0 ? [v[0] / l, v[1] / l] : [1, 0];
}

/** Maps local instrument coordinates (u along the axis, v across) to the image. */
export function local(origin: Vec, axis: Vec, u: number, v: number): Vec {
  const n = perp(axis);
  return [origin[0] + axis[0] * u + n[0] * v, origin[1] + axis[1] * u + n[1] * v];
}
