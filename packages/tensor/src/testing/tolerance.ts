/**
 * The project's numeric tolerances against reference values, shared by every verifier:
 * forward tensors within FORWARD_RTOL·max(1, max|ref|) (max abs error), gradients within GRAD_TOL
 * relative L2 error.
 */
export const FORWARD_RTOL = 1e-3;
/** Gradients pass when their relative L2 error against the reference is at most this. */
export const GRAD_TOL = 1e-2;

/** Max abs error (NaN counts as infinite) and the reference's max |value|. */
export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; scale: number } {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    err = Math.max(err, Number.isNaN(d) ? Infinity : d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { err, scale };
}

/** ‖got − want‖ / ‖want‖ (‖got − want‖ when want is all zeros); `got` null means zeros. */
export function relL2Error(got: ArrayLike<number> | null, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got ? got[i] : 0;
    num += (g - want[i]) ** 2;
    den += want[i] ** 2;
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Whether a forward comparison passes. */
export function forwardPasses(e: { err: number; scale: number }, rtol = FORWARD_RTOL): boolean {
  return e.err <= rtol * Math.max(1, e.scale);
}
