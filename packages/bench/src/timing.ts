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

/** Runs `fn` (which returns the tensors it made, all disposed after each run) and times it. */
export async function timeGpu(fn: () => Tensor | Tensor[], options: TimingOptions): Promise<Timing> {
  const backend = getBackend();
  const once = async (): Promise<number> => {
    await backend.sync();
    const t0 = performance.now();
    const out = tidy(fn);
    await backend.sync();
    const ms = performance.now() - t0;
    for (const t of Array.isArray(out) ? out : [out]) t.dispose();
    return ms;
  };
  let firstMs = 0;
  for (let i = 0; i < Math.max(1, options.warmup); i++) {
    const ms = await once();
    if (i === 0) firstMs = ms;
  }
  const runsMs: number[] = [];
  let spent = 0;
  for (let i = 0; i < Math.max(1, options.repeats); i++) {
    const ms = await once();
    runsMs.push(ms);
    spent += ms;
    if (options.budgetMs !== undefined && spent > options.budgetMs) break;
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], runsMs, firstMs };
}
