/**
 * A {@link GpuWait} for Dawn in Node (used by `initNode`).
 *
 * Why: while any of its promises is pending, Dawn's Node binding polls its event queue from
 * back-to-back `setImmediate` callbacks, a busy loop on the JS thread: the thread used 0.78–0.98 s
 * of CPU during a 1.2 s wait for ten 1024³ matmuls (2026-12-07, 2 cores, lavapipe). On a CPU
 * adapter that core is taken from the driver's own threads. Here, after the first 2 ms of a wait
 * (short waits, as on a real GPU, are not delayed), the thread sleeps between event-loop turns
 * (1 ms at first), so Dawn's poll still runs every turn (events are delivered, a nap late at
 * most) and the driver gets the CPU: the same ten matmuls took 0.70 s instead of 1.12–1.21 s,
 * with 30–40 ms of JS-thread CPU.
 *
 * Naps grow as a wait goes on ({@link napMs}): every wake-up takes a core from a CPU adapter's
 * threads for a moment, so a long wait woken every millisecond ran measurably slower.
 *
 * One nap loop serves every wait in flight, so concurrent readbacks do not multiply the naps.
 * `Atomics.wait` blocks the thread; Node allows it on its main thread (browsers do not, which is
 * why this is Node's wait only).
 */
import type { GpuWait } from './gpu-wait.js';

/**
 * How long to sleep between event-loop turns once the naps of a wait have gone on for
 * `elapsedMs`: 1 ms for the first 8 ms, then 2 ms, 4 ms after 64 ms and 8 ms after 512 ms. The
 * extra latency when the GPU finishes is at most one nap, a small part of a wait that long.
 *
 * Why: each wake-up (an event-loop turn, Dawn's poll) costs a CPU adapter ~35 µs of its threads'
 * time. On lavapipe (2 cores, 2026-12-07) the 1024³ matmul kernel took 53.7 ms (min of 14) with
 * 1 ms naps and 51.8 ms with 8 ms naps, by the GPU's own timestamps; ten of them waited for
 * together took 530–536 ms (min of 10) with this schedule against 543–552 ms with 1 ms naps, and
 * the Hiera-T encoder 10.3–10.6 s against 10.8–10.9 s (`bench sam2 --sizes t`, alternated).
 *
 * @internal exported for tests
 */
export function napMs(elapsedMs: number): number {
  return elapsedMs < 8 ? 1 : elapsedMs < 64 ? 2 : elapsedMs < 512 ? 4 : 8;
}

/**
 * The first turns of a wait do not nap: a real GPU often answers within a millisecond, and a nap
 * would add up to a millisecond to every short sync (timings of small kernels included). On a CPU
 * adapter waits last tens of milliseconds or more, so this much spinning costs little.
 */
const SPIN_MS = 2;

/**
 * The time a napping wait reads and the sleep it takes. Injected so that tests can drive the
 * schedule with a clock of their own: timings on a shared machine prove nothing.
 *
 * @internal
 */
export interface NapClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Blocks the thread for `ms` milliseconds. */
  sleep(ms: number): void;
}

/** A napping wait and the count of naps it has taken (for tests). @internal */
export interface NapWait {
  wait: GpuWait;
  stats: { naps: number };
}

const napCell = new Int32Array(new SharedArrayBuffer(4));
/** The real clock: `performance.now` and `Atomics.wait` (Node allows it on the main thread). */
const realClock: NapClock = {
  now: () => performance.now(),
  sleep: (ms) => void Atomics.wait(napCell, 0, 0, ms),
};

/**
 * Makes a napping wait on `clock`. One nap loop serves every wait in flight on it.
 *
 * @internal exported for tests; Node uses {@link napWhileWaiting}
 */
export function createNapWait(clock: NapClock): NapWait {
  const stats = { naps: 0 };
  let inFlight = 0;
  let looping = false;
  /**
   * When the naps may start: SPIN_MS after the first wait of a burst. Set by the wait, not by the
   * loop: a loop still finishing its last turn when the next wait starts would otherwise nap at
   * once (an empty submit's wait took 1.17 ms instead of ~0.1 ms when it followed another wait).
   */
  let napFrom = 0;

  async function napLoop(): Promise<void> {
    looping = true;
    try {
      while (inFlight > 0) {
        // A turn first: Dawn's poll runs in it and may settle the wait without a nap.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const napping = clock.now() - napFrom;
        if (inFlight > 0 && napping >= 0) {
          stats.naps++;
          clock.sleep(napMs(napping));
        }
      }
    } finally {
      looping = false;
    }
  }

  const wait: GpuWait = <T>(pending: Promise<T>): Promise<T> => {
    if (inFlight === 0) napFrom = clock.now() + SPIN_MS;
    inFlight++;
    if (!looping) void napLoop();
    return pending.finally(() => {
      inFlight--;
    });
  };
  return { wait, stats };
}

const nodeNapWait = createNapWait(realClock);

/** Waits for `pending` while napping between event-loop turns (see the file comment). */
export const napWhileWaiting: GpuWait = nodeNapWait.wait;
