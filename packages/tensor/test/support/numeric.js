/**
 * Small numeric helpers shared by the tests of every package: seeded test data and central
 * finite differences. Plain JavaScript with its types in numeric.d.ts (like fuzz.js), so tests
 * outside this package can import it without pulling a file outside their TypeScript rootDir.
 */

/** mulberry32 from the state `seed >>> 0`: a uniform generator on [0, 1). */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h of a scalar function, one per element of x. */
export function centralDiff(f, x, h = 1e-6) {
  return x.map((_, i) => {
    const p = [...x];
    const m = [...x];
    p[i] += h;
    m[i] -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}
