/**
 * Comparing recomputed tensors with a golden safetensors file, as every fixture verifier does
 * (`sam2-verify`, `rpsam2-verify`): forward values within the forward tolerance, gradients within
 * the gradient tolerance, indices and flags exactly. It remembers which golden tensors were
 * checked, so a verifier can report the ones it never recomputed.
 */
import type { SafetensorsFile } from '../io/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import { GRAD_TOL, forwardPasses, maxAbsError, relL2Error } from './tolerance.js';

/** One compared tensor. */
export interface CheckResult {
  name: string;
  /** forward: max abs error within 1e-3·max(1, max|ref|); grad: relative L2 ≤ 1e-2; exact: equal. */
  kind: 'forward' | 'grad' | 'exact';
  passed: boolean;
  /** max abs error (forward, exact) or relative L2 error (grad). */
  err: number;
  /** max |ref| (forward). */
  scale?: number;
  note?: string;
}

/** Receives each comparison result (e.g. {@link CheckTally.add}). */
export type CheckReport = (r: CheckResult) => void;

/** Values to compare: a tensor, or host data with its shape. */
export type Checked = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Compares recomputed tensors with the tensors of the same name in a golden safetensors file and
 * reports each result; golden tensors missing from the file are skipped.
 */
export class GoldenChecker {
  /** Golden tensors compared so far. */
  readonly checked = new Set<string>();

  constructor(
    readonly golden: SafetensorsFile,
    private readonly report: CheckReport,
  ) {}

  private async want(name: string): Promise<{ data: Float32Array; shape: number[] } | null> {
    if (!this.golden.has(name)) return null;
    this.checked.add(name);
    return { data: await this.golden.readF32(name), shape: this.golden.entry(name).shape };
  }

  /** Reports a failure when shapes differ (a scalar and a one-element vector count as equal). */
  private shapeMismatch(name: string, kind: CheckResult['kind'], got: readonly number[], want: readonly number[]): boolean {
    if (got.join(',') === want.join(',') || (size(got) === 1 && size(want) === 1)) return false;
    this.report({ name, kind, passed: false, err: Infinity, note: `shape [${got}] vs golden [${want}]` });
    return true;
  }

  /** Forward comparison; golden tensors that do not exist are skipped. */
  async forward(name: string, got: Checked, note?: string): Promise<void> {
    const w = await this.want(name);
    if (!w || this.shapeMismatch(name, 'forward', got.shape, w.shape)) return;
    const data = 'isTensor' in got ? await got.data() : got.data;
    const e = maxAbsError(data, w.data);
    this.report({ name, kind: 'forward', passed: forwardPasses(e), err: e.err, scale: e.scale, note });
  }

  /** Exact comparison (indices, flags). */
  async exact(name: string, got: Checked): Promise<void> {
    const w = await this.want(name);
    if (!w || this.shapeMismatch(name, 'exact', got.shape, w.shape)) return;
    const data = 'isTensor' in got ? await got.data() : got.data;
    let err = 0;
    const bad: number[] = [];
    for (let i = 0; i < w.data.length; i++) {
      const d = Math.abs(data[i] - w.data[i]);
      if (!(d === 0)) {
        err = Math.max(err, Number.isNaN(d) ? Infinity : d);
        bad.push(i);
      }
    }
    const note = bad.length ? `${bad.length} differ (first at ${bad.slice(0, 5).join(', ')})` : undefined;
    this.report({ name, kind: 'exact', passed: bad.length === 0, err, note });
  }

  /** Gradient comparison; a null gradient counts as zeros (and is noted). */
  async grad(name: string, got: Tensor | null): Promise<void> {
    const w = await this.want(name);
    if (!w || (got && this.shapeMismatch(name, 'grad', got.shape, w.shape))) return;
    const err = relL2Error(got ? await got.data() : null, w.data);
    this.report({ name, kind: 'grad', passed: err <= GRAD_TOL, err, note: got ? undefined : 'no gradient reached this tensor' });
  }

  /** Reports every golden tensor (optionally filtered) that was never compared, as a failure. */
  reportUnchecked(filter: (name: string) => boolean = () => true): void {
    for (const key of this.golden.keys()) {
      if (filter(key) && !this.checked.has(key)) this.report({ name: key, kind: 'forward', passed: false, err: Infinity, note: 'in the golden file but not recomputed' });
    }
  }
}

/** One line per result, as the verifier CLIs print them. */
export function formatCheck(r: CheckResult): string {
  const what = r.kind === 'grad' ? `rel L2 ${r.err.toExponential(2)}` : r.kind === 'exact' ? `max diff ${r.err}` : `max abs ${r.err.toExponential(2)} (scale ${(r.scale ?? 0).toPrecision(3)})`;
  return `${r.passed ? 'PASS' : 'FAIL'} ${r.name.padEnd(44)} ${r.kind.padEnd(7)} ${what}${r.note ? `  ${r.note}` : ''}`;
}

/** Counts results and prints each with {@link formatCheck}. */
export class CheckTally {
  passed = 0;
  failed = 0;
  constructor(private readonly print: (line: string) => void = (l) => console.log(l)) {}
  /** Counts a result and prints its line; a bound function, so it can be passed as a {@link CheckReport}. */
  readonly add = (r: CheckResult): void => {
    if (r.passed) this.passed++;
    else this.failed++;
    this.print(formatCheck(r));
  };
  /** The closing line `N passed, M failed`. */
  summary(): string {
    return `${this.passed} passed, ${this.failed} failed`;
  }
}
