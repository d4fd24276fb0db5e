/**
 * Input checks shared by the figure renderers. Every error names the function and the argument
 * path (e.g. `renderBarPlot: series[1].values[2].mean is NaN`), so a broken evaluation run says
 * which number went wrong instead of producing a figure with a hole in it.
 */

/** Throws unless `v` is a non-empty array. */
export function checkNonEmptyArray(fn: string, path: string, v: unknown): void {
  if (!Array.isArray(v)) throw new Error(`${fn}: ${path} must be an array, got ${typeof v}`);
  if (v.length === 0) throw new Error(`${fn}: ${path} is empty`);
}

/** Throws unless `v` is a finite number (with `[lo, hi]` bounds when given). */
export function checkFinite(fn: string, path: string, v: unknown, lo = -Infinity, hi = Infinity): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${fn}: ${path} is ${String(v)} (expected a finite number)`);
  if (v < lo || v > hi) throw new Error(`${fn}: ${path} is ${v} (expected a number in ${lo}..${hi})`);
}

/** Throws unless `v` is a string. */
export function checkString(fn: string, path: string, v: unknown): void {
  if (typeof v !== 'string') throw new Error(`${fn}: ${path} must be a string, got ${typeof v}`);
}

/** Throws unless `values` has `expected` entries; `unit` names what they count. */
export function checkLength(fn: string, path: string, values: ArrayLike<unknown>, expected: number, unit: string): void {
  if (!values || typeof values.length !== 'number') throw new Error(`${fn}: ${path} must be an array`);
  if (values.length !== expected) throw new Error(`${fn}: ${path} has ${values.length} values for ${expected} ${unit}`);
}

/**
 * Throws unless `std` is a standard deviation: finite and ≥ 0, or NaN, which `meanStd` gives
 * for a single seed and which the plots draw without an error bar or band.
 */
export function checkStd(fn: string, path: string, std: unknown): void {
  if (typeof std !== 'number') throw new Error(`${fn}: ${path} is ${String(std)} (expected a number)`);
  if (Number.isNaN(std)) return;
  if (!Number.isFinite(std) || std < 0) throw new Error(`${fn}: ${path} is ${std} (expected a finite number ≥ 0, or NaN for none)`);
}

/** Throws unless `r` is a finite [lo, hi] with lo < hi. */
export function checkRange(fn: string, path: string, r: unknown): void {
  if (!Array.isArray(r) || r.length !== 2) throw new Error(`${fn}: ${path} must be [lo, hi]`);
  checkFinite(fn, `${path}[0]`, r[0]);
  checkFinite(fn, `${path}[1]`, r[1]);
  if (!(r[0] < r[1])) throw new Error(`${fn}: ${path} is [${r[0]}, ${r[1]}] (expected lo < hi)`);
}
