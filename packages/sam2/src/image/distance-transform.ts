/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of
 * Sampled Functions", Theory of Computing 8, 2012): the squared distance from every pixel to the
 * nearest feature pixel, by two passes of the 1-D lower envelope of parabolas (columns, then
 * rows), O(W·H). Used for the 'center' correction click of the prompt sampler (the depth of a
 * region, image border included) and by the benchmark's HD95 (boundary-to-boundary distances).
 *
 * Squared distances between pixel centres are integers; every intermediate value here is an
 * integer or a quotient compared against integers, so the result is exact in float64 (a rounding
 * in the intersection abscissa can only flip the choice between two parabolas where they are
 * equal at the sampled point).
 */

/** Options of {@link squaredDistanceTransform}. */
export interface DistanceTransformOptions {
  /**
   * When true, the 1-pixel ring just outside the image counts as feature pixels, as if the image
   * were padded with a ring of features: each pixel's value is then at most its squared distance
   * to the image border, (min(x + 1, y + 1, width − x, height − y))², and never `Infinity`. This is
   * what `cv2.distanceTransform` gives on an image padded with a ring of zeros (SAM 2's
   * `sample_one_point_from_error_center`). Default false: only pixels of the grid are features.
   */
  outsideIsFeature?: boolean;
}

/**
 * Squared Euclidean distance (in pixels², between pixel centres) from each pixel to the nearest
 * feature pixel, i.e. a pixel whose `features` value is non-zero (row-major, pixel (x, y) at
 * `y * width + x`); 0 on the features themselves. Without features (and without
 * `outsideIsFeature`) every value is `Infinity`. Exact (integers in float64).
 *
 * The distance of each pixel of a region to the region's outside is
 * `squaredDistanceTransform(notRegion, …)`, where `notRegion` marks the pixels outside it.
 */
export function squaredDistanceTransform(
  features: Uint8Array,
  width: number,
  height: number,
  options: DistanceTransformOptions = {},
): Float64Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`squaredDistanceTransform: grid size ${width}×${height}; width and height must be integers ≥ 0`);
  }
  if (!(features instanceof Uint8Array)) throw new TypeError('squaredDistanceTransform: features must be a Uint8Array');
  if (features.length !== width * height) {
    throw new RangeError(`squaredDistanceTransform: ${features.length} feature values for a ${width}×${height} grid (expected ${width * height})`);
  }
  const border = options.outsideIsFeature === true;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const out = new Float64Array(width * height);

  // Pass 1, along each column: squared distance to the nearest feature in the same column. The
  // ring rows y = −1 and y = height are features of every column when `border` is set.
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = features[y * width + x] !== 0 ? 0 : Infinity;
    lowerEnvelope(f, height, d, v, z);
    if (border) minWithEnds(d, height);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y];
  }
  // Pass 2, along each row over the column results: min over columns u of (x − u)² + column(u).
  // The ring columns x = −1 and x = width have column distance 0 at every row (each holds a
  // feature in the same row), so they add the parabolas (x + 1)² and (width − x)².
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = out[row + x];
    lowerEnvelope(f, width, d, v, z);
    if (border) minWithEnds(d, width);
    for (let x = 0; x < width; x++) out[row + x] = d[x];
  }
  return out;
}

/** d[q] = min(d[q], (q + 1)², (n − q)²): adds zero-cost sites at q = −1 and q = n. */
function minWithEnds(d: Float64Array, n: number): void {
  for (let q = 0; q < n; q++) {
    const e = Math.min(q + 1, n - q);
    if (e * e < d[q]) d[q] = e * e;
  }
}

/**
 * 1-D transform d(q) = min_p ((q − p)² + f(p)) over the finite samples of f[0..n): the lower
 * envelope of the parabolas rooted at them. Infinite samples are skipped (they never win, and
 * skipping avoids ∞ − ∞ in the intersection formula); with none finite, d is `Infinity`.
 * v holds the envelope's parabola roots, z the abscissae where each takes over.
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
    // Abscissa where the parabola of q overtakes that of p; z[0] = −∞ keeps k ≥ 0.
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
  for (let q = 0, j = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    const p = v[j];
    d[q] = (q - p) * (q - p) + f[p];
  }
}
