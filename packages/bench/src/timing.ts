/**
 * Timing GPU work from the host: every measured run is bracketed by `backend.sync()` (which
 * submits and waits for the queue to drain), so a run's time covers exactly its own dispatches.
 */
import { getBackend, tidy, type Tensor } from '@rpsam2/tensor';

export interface TimingOptions {
  /** Measured runs (after the warm-up runs). */
  repeats: number;
  /** Unmeasured runs first (pipeline compilation, buffer pool warm-up). */
  warmup: number;
  /** Stop repeating once this much measured time has passed (at least one run is kept). */
  budgetMs?: number;
}

export interface Timing {
  /** Median of the measured runs, in ms. */
  medianMs: number;
  minMs: number;
  /** All measured runs, in ms, in order. */
  runsMs: number[];
  /** The first warm-up run (includes shader compilation), in ms. */
  firstMs: number;
}

/** One timed run of `fn`: sync, run, sync; the tensors it returns are disposed. */
async function timeOnce(fn: () => Tensor | Tensor[]): Promise<number> {
  const backend = getBackend();
  await backend.sync();
  const t0 = performance.now();
  const out = tidy(fn);
  await backend.sync();
  const ms = performance.now() - t0;
  for (const t of Array.isArray(out) ? out : [out]) t.dispose();
  return ms;
}

function summarise(runsMs: number[], firstMs: number): Timing {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], runsMs, firstMs };
}

/** Runs `fn` (which returns the tensors it made, all disposed after each run) and times it. */
export async function timeGpu(fn: () => Tensor | Tensor[], options: TimingOptions): Promise<Timing> {
  return (await timeGpuInterleaved([fn], options))[0];
}

/**
 * Times several functions round-robin (a, b, a, b, …), so that a change in machine load
 * affects all of them alike — for ratios between them (e.g. library vs baseline kernel).
 */
export async function timeGpuInterleaved(fns: readonly (() => Tensor | Tensor[])[], options: TimingOptions): Promise<Timing[]> {
  const first: number[] = [];
  for (const fn of fns) {
    for (let i = 0; i < Math.max(1, options.warmup); i++) {
      const ms = await timeOnce(fn);
      if (i === 0) first.push(ms);
    }
  }
  const runs: number[][] = fns.map(() => []);
  let spent = 0;
  for (let i = 0; i < Math.max(1, options.repeats); i++) {
    for (let j = 0; j < fns.length; j++) {
      const ms = await timeOnce(fns[j]);
      runs[j].push(ms);
      spent += ms;
    }
    if (options.budgetMs !== undefined && spent > options.budgetMs * fns.length) break;
  }
  return runs.map((r, j) => summarise(r, first[j]));
}
