/**
 * Timing GPU work from the host: every measured run is bracketed by `backend.sync()` (which
 * submits and waits for the queue to drain), or ends when its outputs are read back, so a run's
 * time covers exactly its own dispatches. Other runs that time themselves (a peer runtime on the
 * CPU) go round-robin through the same loop.
 */
import { getBackend, tidy, type Tensor } from '@rpsam2/tensor';
import { median } from './stats.js';

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

/**
 * One measured run, measuring itself: it does its work, waits until the work is done and returns
 * its wall time in ms (so GPU work and a peer runtime's async calls are timed by one loop).
 */
export type TimedRun = () => Promise<number>;

/**
 * A timed run of GPU work: sync, run `fn`, then wait for it — by reading back every tensor it
 * returns when `readBack` is given (the time then includes the copy to the host; `readBack`
 * gets the data, after the clock stops), else by `backend.sync()`. The tensors are disposed.
 */
export function gpuRun(fn: () => Tensor | Tensor[], readBack?: (data: Float32Array[]) => void): TimedRun {
  return async () => {
    const backend = getBackend();
    await backend.sync();
    const t0 = performance.now();
    const out = tidy(fn);
    const outs = Array.isArray(out) ? out : [out];
    let data: Float32Array[] = [];
    if (readBack) data = await Promise.all(outs.map((t) => t.data()));
    else await backend.sync();
    const ms = performance.now() - t0;
    for (const t of outs) t.dispose();
    readBack?.(data);
    return ms;
  };
}

/** A timed run of async work (e.g. a CPU runtime's inference): the wall time until `fn` resolves. */
export function asyncRun(fn: () => Promise<unknown>): TimedRun {
  return async () => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
}

/** The median and min of measured runs (`firstMs`: the first warm-up run). */
export function summarise(runsMs: number[], firstMs: number): Timing {
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), runsMs, firstMs };
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
  return timeInterleaved(
    fns.map((fn) => gpuRun(fn)),
    options,
  );
}

/** Like `timeGpuInterleaved`, for runs that time themselves (GPU work with readback, a peer runtime). */
export async function timeInterleaved(runs: readonly TimedRun[], options: TimingOptions): Promise<Timing[]> {
  const first: number[] = [];
  for (const run of runs) {
    for (let i = 0; i < Math.max(1, options.warmup); i++) {
      const ms = await run();
      if (i === 0) first.push(ms);
    }
  }
  const measured: number[][] = runs.map(() => []);
  let spent = 0;
  for (let i = 0; i < Math.max(1, options.repeats); i++) {
    for (let j = 0; j < runs.length; j++) {
      const ms = await runs[j]();
      measured[j].push(ms);
      spent += ms;
    }
    if (options.budgetMs !== undefined && spent > options.budgetMs * runs.length) break;
  }
  return measured.map((r, j) => summarise(r, first[j]));
}
