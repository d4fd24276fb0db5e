/**
 * How the backend waits for WebGPU's promises (a readback's `mapAsync`, `onSubmittedWorkDone`,
 * a profile's timestamps). In a browser the plain `await` is right; in Node, Dawn's binding
 * makes waiting cost a CPU core (see `nap-wait.ts`), so `initNode` passes a wait that naps.
 */

/**
 * Resolves or rejects as `pending` does; decides only what the calling thread does meanwhile.
 * Must not change the outcome or its order relative to other waits.
 */
export type GpuWait = <T>(pending: Promise<T>) => Promise<T>;

/** The plain wait: `await` the promise (the default, and what browsers need). */
export const awaitPromise: GpuWait = (pending) => pending;
