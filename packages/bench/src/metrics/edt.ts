/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of
 * Sampled Functions", Theory of Computing 8, 2012): the squared distance from every pixel to the
 * nearest site, by two passes of the 1-D lower envelope of parabolas (columns, then rows), O(HW).
 *
 * Squared distances between pixel centres are integers; every intermediate value here is an
 * integer or a quotient compared against integers, so the result is exact in float64 (a rounding
 * in the intersection abscissa can only flip the choice between two parabolas where they are
 * equal at the sampled point).
 */

/**
 * Squared Euclidean distance (in pixels²) from each pixel to the nearest pixel whose `sites` value
 * is non-zero. `Infinity` everywhere when there is no site.
 */
export function squaredDistanceTransform(sites: Uint8Array, width: number, height: number): Float64Array {
  if (sites.length !== width * height) {
    throw new Error(`squaredDistanceTransform: ${sites.length} sites for a ${width}×${height} grid`);
  }
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const out = new Float64Array(width * height);

  // Pass 1, along each column: distance to the nearest site in the same column (squared).
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = sites[y * width + x] !== 0 ? 0 : Infinity;
    lowerEnvelope(f, height, d, v, z);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y];
  }
  // Pass 2, along each row over the column results.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = out[row + x];
    lowerEnvelope(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[row + x] = d[x];
  }
  return out;
}

/**
 * 1-D transform d(q) = min_p ((q − p)² + f(p)) over the finite samples of f[0..n). Infinite
 * samples are skipped (they never win), which also avoids ∞ − ∞ in the intersection formula.
 */
function lowerEnvelope(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    const fqq = fq + q * q;
    let p = v[k];
    // Abscissa where the parabola of q overtakes that of p.
    let s = (fqq - (f[p] + p * p)) / (2 * (q - p));
    while (s <= z[k]) {
      k--;
      p = v[k];
      s = (fqq - (f[p] + p * p)) / (2 * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    d.fill(Infinity, 0, n);
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const p = v[k];
    d[q] = (q - p) * (q - p) + f[p];
  }
}
