/**
 * The dispatch profiler's public API, on the current backend: `startProfile()` … `await
 * stopProfile()` (or `await profile(fn)`), then `formatProfile(report)`. While a profile runs,
 * every compute dispatch is timed on the GPU and aggregated by kernel key and `profileScope` label;
 * results are the same as without profiling, execution is slower (a compute pass per dispatch).
 */
import { getBackend } from '../runtime.js';
import type { ProfileReport } from './report.js';

/** Starts timing every dispatch (see `Backend.startProfile`). */
export function startProfile(): void {
  getBackend().startProfile();
}

/** Stops the profile: waits for the recorded work's timings and returns the report. */
export function stopProfile(): Promise<ProfileReport> {
  return getBackend().stopProfile();
}

/** Whether a profile is running. */
export function isProfiling(): boolean {
  return getBackend().profiler !== null;
}

/**
 * Runs `fn` under a profile and returns its result with the report (the profile is stopped even
 * when `fn` throws).
 */
export async function profile<T>(fn: () => T | Promise<T>): Promise<{ result: T; report: ProfileReport }> {
  startProfile();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await stopProfile().catch(() => undefined);
    throw e;
  }
  return { result, report: await stopProfile() };
}

/**
 * Runs `fn` (synchronous) with `label` attached to the dispatches it records, nested labels joined
 * by '/'. Costs nothing but the call when no profile runs.
 */
export function profileScope<T>(label: string, fn: () => T): T {
  const p = getBackend().profiler;
  if (!p) return fn();
  const outer = p.label;
  p.label = outer ? `${outer}/${label}` : label;
  try {
    return fn();
  } finally {
    p.label = outer;
  }
}
