/**
 * WGSL math functions that WGSL lacks or that are unsafe on some adapters:
 * - `erf_`: a Maclaurin series near 0 and a rational erfc fit elsewhere (|error| < 1.2e-7);
 * - `tanh_`/`sigmoid_`: built from exp(-|x|) so they never overflow (some drivers return NaN for
 *   tanh(±50));
 * - `sin_`/`cos_`: explicit range reduction by 2π (Cody–Waite, two constants) because SAM 2's
 *   Fourier features reach tens of radians and low-precision units lose accuracy there.
 */
export const MATH_WGSL = /* wgsl */ `
const PI_: f32 = 3.14159265358979;
const TWO_PI_HI_: f32 = 6.28125;
const TWO_PI_LO_: f32 = 1.9353071795864769e-3;
fn reduce2pi_(x: f32) -> f32 {
  let k = round(x * 0.15915494309189535);
  return (x - k * TWO_PI_HI_) - k * TWO_PI_LO_;
}
fn sin_(x: f32) -> f32 { return sin(reduce2pi_(x)); }
fn cos_(x: f32) -> f32 { return cos(reduce2pi_(x)); }
fn tanh_(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn sigmoid_(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn erf_(x: f32) -> f32 {
  // Both forms, then a select: a branch costs more than the arithmetic on SIMD-per-lane adapters
  // (lavapipe: a GELU fused into a 2M-output matmul cost 4.2 ms over the plain product, now 1.4),
  // and each form is exact where it is chosen.
  let a = abs(x);
  // Maclaurin series for |x| < 0.5; the first omitted term is below 2e-8 at |x| = 0.5.
  let z = x * x;
  let near0 = 1.1283791670955126 * x * (1.0 + z * (-0.3333333333 + z * (0.1 + z * (-0.0238095238 + z * (0.0046296296 + z * -0.0007575758)))));
  // erfc(a) = exp(-a^2) * R(a) with a rational fit (Numerical Recipes erfcc, rel. err < 1.2e-7).
  let t = 1.0 / (1.0 + 0.5 * a);
  let r = t * exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
      t * (-0.82215223 + t * 0.17087277)))))))));
  return select(sign(x) * (1.0 - r), near0, a < 0.5);
}
`;
