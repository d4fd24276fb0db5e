/**
 * A mask's outline as polygons, traced along the pixel edges ("crack following"): every vertex
 * is a pixel corner, so the polygons are the exact boundary of the mask's pixels, and filling
 * them by pixel centres (even-odd) gives the mask back. Holes come out as their own rings.
 */

/** One closed ring of a mask's outline. */
export interface MaskPolygon {
  /** Corner coordinates as a flat [x0, y0, x1, y1, …] list (COCO's polygon layout), not repeated at the end. */
  points: number[];
  /** True for the outline of a hole (background enclosed by the object). */
  hole: boolean;
}

// Directions: 0 = +x, 1 = +y (down), 2 = −x, 3 = −y.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Traces the outline of a row-major mask (non-zero = object). Outer rings run clockwise on screen
 * (y down) with the object on their right, holes anticlockwise; pixels that touch only at a
 * corner get separate rings (4-connectivity).
 */
export function maskPolygons(mask: { width: number; height: number; data: ArrayLike<number> }): MaskPolygon[] {
  const { width: w, height: h, data } = mask;
  if (data.length !== w * h) throw new Error(`maskPolygons: ${data.length} values for ${w}×${h}`);
  const vw = w + 1;
  // Outgoing boundary edges per pixel corner, one bit per direction.
  const out = new Uint8Array(vw * (h + 1));
  const on = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && data[y * w + x] !== 0;
  let edges = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!on(x, y)) continue;
      // Each side facing background is an edge, directed so that the pixel is on its right.
      if (!on(x, y - 1)) (out[y * vw + x] |= 1), edges++;
      if (!on(x + 1, y)) (out[y * vw + x + 1] |= 2), edges++;
      if (!on(x, y + 1)) (out[(y + 1) * vw + x + 1] |= 4), edges++;
      if (!on(x - 1, y)) (out[(y + 1) * vw + x] |= 8), edges++;
    }
  }
  const rings: MaskPolygon[] = [];
  for (let start = 0; edges > 0 && start < out.length; start++) {
    while (out[start]) {
      const points: number[] = [];
      let v = start;
      let d = 31 - Math.clz32(out[start] & -out[start]); // the lowest direction left
      let area2 = 0;
      for (;;) {
        out[v] &= ~(1 << d);
        edges--;
        const x = v % vw;
        const y = (v - x) / vw;
        const nx = x + DX[d];
        const ny = y + DY[d];
        area2 += x * ny - nx * y;
        v = ny * vw + nx;
        if (v === start) break;
        // Where two edges leave a corner (pixels touching diagonally), turning right keeps to the
        // current pixel: diagonal neighbours get rings of their own.
        const right = (d + 1) & 3;
        const next = out[v] & (1 << right) ? right : out[v] & (1 << d) ? d : (d + 3) & 3;
        if (next !== d) points.push(nx, ny);
        d = next;
      }
      // The start corner is a vertex unless the ring runs straight through it.
      const sx = start % vw;
      const sy = (start - sx) / vw;
      if (points.length < 2 || !collinear(points[points.length - 2], points[points.length - 1], sx, sy, points[0], points[1])) points.unshift(sx, sy);
      // Clockwise on screen (y down) has a positive shoelace sum: outer rings.
      rings.push({ points, hole: area2 < 0 });
    }
  }
  return rings;
}

function collinear(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  return (bx - ax) * (cy - by) - (by - ay) * (cx - bx) === 0;
}
