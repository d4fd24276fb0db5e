/**
 * Exact polygon rasterisation, the one rule every annotation in the benchmark goes through
 * (Supervisely and COCO polygons, and the generator's round trip):
 *
 * - Coordinates are continuous image coordinates in pixels: x to the right, y down, pixel (c, r)
 *   covers the unit square [c, c+1) × [r, r+1), so its centre is (c + 0.5, r + 0.5).
 * - A pixel is inside when its centre is inside by the **even-odd rule** over all rings of the
 *   shape together (exterior and holes alike, so a hole is a ring inside the exterior).
 * - A centre exactly on an edge follows the half-open convention: an edge spans the rows whose
 *   centre y satisfies y_min ≤ y < y_max, and a span of a scanline covers centres x with
 *   x_left ≤ x < x_right. Adjacent polygons sharing an edge therefore never share a pixel, and
 *   a polygon along pixel edges (integer vertices) rasterises to exactly the pixels it encloses.
 *
 * Vertices may lie outside the image; the result is clipped to it.
 */

/** A closed ring of [x, y] vertices (the last vertex connects back to the first). */
export type Ring = readonly (readonly number[])[];

/**
 * Rasterises rings with the even-odd rule into `out` (a row-major width × height array),
 * setting inside pixels to `value` (other pixels are left as they are). Returns `out`.
 */
export function rasterizeRings(rings: readonly Ring[], width: number, height: number, out = new Uint8Array(width * height), value = 1): Uint8Array {
  if (out.length !== width * height) throw new Error(`rasterizeRings: output has ${out.length} values for ${width}×${height}`);
  // Crossings per row: each edge adds its x at the centre line of every row it spans.
  const rows: number[][] = new Array(height);
  for (const ring of rings) {
    const n = ring.length;
    for (let i = 0; i < n; i++) {
      const a = ring[i];
      const b = ring[(i + 1) % n];
      const x0 = a[0];
      const y0 = a[1];
      const x1 = b[0];
      const y1 = b[1];
      if (y0 === y1) continue; // horizontal edges never cross a centre line in the half-open rule
      const ymin = Math.min(y0, y1);
      const ymax = Math.max(y0, y1);
      // Rows r whose centre r + 0.5 lies in [ymin, ymax).
      const r0 = Math.max(0, Math.ceil(ymin - 0.5));
      const r1 = Math.min(height - 1, Math.ceil(ymax - 0.5) - 1);
      const slope = (x1 - x0) / (y1 - y0);
      for (let r = r0; r <= r1; r++) {
        const x = x0 + (r + 0.5 - y0) * slope;
        (rows[r] ??= []).push(x);
      }
    }
  }
  for (let r = 0; r < height; r++) {
    const xs = rows[r];
    if (!xs) continue;
    xs.sort((p, q) => p - q);
    const base = r * width;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Centres c + 0.5 in [xa, xb).
      const c0 = Math.max(0, Math.ceil(xs[k] - 0.5));
      const c1 = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      for (let c = c0; c <= c1; c++) out[base + c] = value;
    }
  }
  return out;
}

/** Twice the signed area of a ring (shoelace; positive when clockwise on screen, y down). */
export function ringArea2(ring: Ring): number {
  let s = 0;
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % n];
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s;
}

/**
 * Why a ring is not a usable polygon, or undefined when it is: it must be an array of at least 3
 * [x, y] pairs of finite numbers.
 */
export function ringProblem(ring: unknown): string | undefined {
  if (!Array.isArray(ring)) return `is not an array of points (${typeof ring})`;
  if (ring.length < 3) return `has ${ring.length} point${ring.length === 1 ? '' : 's'} (a polygon needs at least 3)`;
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i];
    if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      return `point ${i} is ${JSON.stringify(p)}, not [x, y] numbers`;
    }
  }
  return undefined;
}

/** Whether (x, y) lies inside `ring` (even-odd) or on one of its edges. */
export function pointInOrOnRing(x: number, y: number, ring: Ring): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    // On the edge: collinear and within its bounding box.
    if ((x - xi) * (yj - yi) === (y - yi) * (xj - xi) && Math.min(xi, xj) <= x && x <= Math.max(xi, xj) && Math.min(yi, yj) <= y && y <= Math.max(yi, yj)) return true;
    if (yi > y !== yj > y && x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
  }
  return inside;
}

/**
 * Why a hole does not fit its exterior, or undefined when every vertex of the hole lies inside
 * the exterior or on its edges. Under the even-odd rule a hole outside its exterior would add
 * pixels instead of removing them (a ground-truth object the annotator never drew).
 */
export function holeProblem(exterior: Ring, hole: Ring): string | undefined {
  for (let i = 0; i < hole.length; i++) {
    const [x, y] = hole[i];
    if (!pointInOrOnRing(x, y, exterior)) return `point ${i} (${x}, ${y}) lies outside the exterior polygon`;
  }
  return undefined;
}
