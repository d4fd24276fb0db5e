/**
 * Axis ticks at "nice" values: steps of 1, 2 or 5 times a power of ten, the largest count not
 * above the requested one plus one (so [0, 1] with 5 asked gives 0, 0.2, …, 1), values computed
 * as integer multiples of the step and rounded to the step's decimals (no 0.30000000000000004),
 * labels with exactly the decimals the step needs.
 */

/** Ticks of an axis. */
export interface Ticks {
  /** Tick values, ascending. */
  values: number[];
  /** Distance between ticks. */
  step: number;
  /** Decimals that write every tick exactly (0 for integer steps). */
  decimals: number;
}

// Floating-point slack when comparing a mantissa or a multiple against its bound.
const EPS = 1e-9;

/**
 * The nice step for about `target` intervals over `span`: 1, 2 or 5 × 10^k, the smallest one
 * that gives at most `target` intervals.
 */
export function niceStep(span: number, target: number): number {
  if (!(span > 0) || !Number.isFinite(span)) throw new Error(`niceStep: span must be a positive finite number, got ${span}`);
  if (!Number.isInteger(target) || target < 1) throw new Error(`niceStep: target must be a positive integer, got ${target}`);
  const raw = span / target;
  const exp = Math.floor(Math.log10(raw));
  const base = 10 ** exp;
  const f = raw / base;
  const m = f <= 1 + EPS ? 1 : f <= 2 + EPS ? 2 : f <= 5 + EPS ? 5 : 10;
  return m * base;
}

/** Decimals needed to write multiples of `step` exactly (step = m·10^k with m ∈ {1, 2, 5}). */
export function stepDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + EPS));
}

/** `value` written with `decimals` decimals, with a true minus sign and never "−0". */
export function formatTick(value: number, decimals: number): string {
  const s = value.toFixed(decimals);
  if (/^-0(\.0*)?$/.test(s)) return s.slice(1);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}

/**
 * Nice ticks inside [lo, hi] (inclusive, with floating-point slack), about `target` intervals.
 * lo = hi is widened to a unit-sized interval around it so that a constant series still gets an
 * axis. Throws on non-finite bounds or lo > hi.
 */
export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  [lo, hi] = checkRange(lo, hi, 'niceTicks');
  const step = niceStep(hi - lo, target);
  const decimals = stepDecimals(step);
  const first = Math.ceil(lo / step - EPS);
  const last = Math.floor(hi / step + EPS);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(roundTo(i * step, decimals));
  return { values, step, decimals };
}

/**
 * The smallest range of nice bounds containing [lo, hi], with its ticks (the usual automatic
 * axis range): e.g. [0.62, 0.87] → [0.6, 0.9] with ticks every 0.05.
 */
export function niceDomain(lo: number, hi: number, target = 5): Ticks & { lo: number; hi: number } {
  [lo, hi] = checkRange(lo, hi, 'niceDomain');
  const step = niceStep(hi - lo, target);
  const decimals = stepDecimals(step);
  const first = Math.floor(lo / step + EPS);
  const last = Math.ceil(hi / step - EPS);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(roundTo(i * step, decimals));
  return { values, step, decimals, lo: values[0], hi: values[values.length - 1] };
}

function checkRange(lo: number, hi: number, what: string): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`${what}: range must be finite, got [${lo}, ${hi}]`);
  if (lo > hi) throw new Error(`${what}: range is reversed ([${lo}, ${hi}])`);
  if (lo === hi) {
    const pad = lo === 0 ? 0.5 : Math.abs(lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

function roundTo(v: number, decimals: number): number {
  const r = Number(v.toFixed(decimals));
  return r === 0 ? 0 : r;
}

/**
 * A logarithmic axis over data in [lo, hi] (both > 0): the domain is the data's range widened by
 * 5 % of its log span on each side; ticks are the values 1, 2 and 5 × 10^k inside it when it
 * spans at most two decades, the powers of ten otherwise (every n-th one beyond 8 decades). With
 * fewer than two ticks inside, the domain grows to the nearest tick on each side.
 */
export function logTicks(lo: number, hi: number): { values: number[]; lo: number; hi: number } {
  if (!(lo > 0) || !(hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`logTicks: range must be positive and finite, got [${lo}, ${hi}]`);
  if (lo > hi) throw new Error(`logTicks: range is reversed ([${lo}, ${hi}])`);
  let a = Math.log10(lo);
  let b = Math.log10(hi);
  if (b - a < 1e-9) {
    a -= 0.5;
    b += 0.5;
  }
  const pad = 0.05 * (b - a);
  a -= pad;
  b += pad;
  const mantissas = b - a <= 2 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil((b - a) / 8));
  const grid: number[] = [];
  for (let e = Math.floor(a) - 1; e <= Math.ceil(b) + 1; e++) {
    if (e % every !== 0) continue;
    for (const m of mantissas) grid.push(m * 10 ** e);
  }
  let values = grid.filter((v) => Math.log10(v) >= a - EPS && Math.log10(v) <= b + EPS);
  if (values.length < 2) {
    const below = grid.filter((v) => Math.log10(v) < a).pop()!;
    const above = grid.find((v) => Math.log10(v) > b)!;
    values = [below, ...values, above];
    a = Math.min(a, Math.log10(below));
    b = Math.max(b, Math.log10(above));
  }
  return { values: values.map((v) => Number(v.toPrecision(12))), lo: 10 ** a, hi: 10 ** b };
}

/** A log-axis tick label: plain decimals in [0.001, 10 000), otherwise `2e−5` style. */
export function formatLogTick(v: number): string {
  if (v >= 1e-3 && v < 1e4) return String(Number(v.toPrecision(6)));
  const [m, e] = v.toExponential().split('e');
  const exp = Number(e);
  return `${Number(Number(m).toPrecision(6))}e${exp < 0 ? '\u2212' : ''}${Math.abs(exp)}`;
}
