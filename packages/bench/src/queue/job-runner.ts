/**
 * Adding a batch of jobs to a BullMQ queue and waiting until each has finished, for the
 * producers (`bench embed --queue`, `bench label --queue`). Jobs have deterministic ids: finished
 * jobs of an earlier run with the same ids are removed first (the workers' results are idempotent,
 * so running them again is a no-op), jobs still queued or running are joined, not duplicated.
 * Finishing is detected by polling the jobs' states in windows (no event can be missed, and a
 * large batch costs a bounded number of Redis calls per round).
 */
import { Queue, type Job } from 'bullmq';
import { formatDuration } from '@rpsam2/rpsam2';
import type { StopSignal } from '../runs/stop-signal.js';
import { jobOptions, type JobPolicy } from './jobs.js';
import type { RedisTarget } from './redis-connection.js';

/** One job to add. */
export interface QueuedJob<D> {
  id: string;
  name: string;
  data: D;
}

/** How one job ended. */
export interface JobOutcome<R> {
  /** Position in the batch. */
  index: number;
  id: string;
  /** The result of a completed job. */
  result?: R;
  /** Why it failed for good (attempts used up, or an unrecoverable error). */
  failedReason?: string;
  /** Started more than once (a stalled or killed worker's job, or a retried one). */
  redelivered: boolean;
}

/** Options of {@link runJobs}. */
export interface RunJobsOptions<R> {
  target: RedisTarget;
  queueName: string;
  policy: JobPolicy;
  stop: StopSignal;
  /** Called once per finished job. */
  onOutcome(o: JobOutcome<R>): void;
  /** Called after each polling round with the jobs finished so far. */
  onRound?(done: number, total: number): void;
  /** Prints the "nothing finished for a minute" notes (default: nowhere). */
  note?: (line: string) => void;
  /** Poll interval, ms (default 250). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW = 500;

/**
 * Adds `jobs` to `queue` and waits until every one has completed or failed for good, or a stop
 * is requested (then the rest stay queued). Returns the time from the first add to the last
 * finish and whether it stopped early.
 */
export async function runJobs<D, R>(queue: Queue, jobs: readonly QueuedJob<D>[], o: RunJobsOptions<R>): Promise<{ ms: number; stopped: boolean }> {
  for (const j of jobs) {
    const state = await queue.getJobState(j.id);
    if (state === 'completed' || state === 'failed') await (await queue.getJob(j.id))?.remove().catch(() => undefined);
  }
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i += WINDOW) {
    await queue.addBulk(jobs.slice(i, i + WINDOW).map((j) => ({ name: j.name, data: j.data, opts: jobOptions(j.id, o.policy) })));
  }
  const pending = new Map(jobs.map((j, i) => [j.id, i]));
  let cursor = 0;
  let lastChange = performance.now();
  let lastNote = performance.now();
  while (pending.size && !o.stop.requested) {
    const window = [...pending.keys()].slice(cursor, cursor + WINDOW);
    cursor = window.length < WINDOW ? 0 : cursor + WINDOW;
    const states = await Promise.all(window.map((id) => queue.getJobState(id)));
    for (const [k, id] of window.entries()) {
      const state = states[k];
      const index = pending.get(id)!;
      if (state === 'unknown') {
        // Removed behind our back (e.g. an obliterated queue): add it again; results are idempotent.
        await queue.add(jobs[index].name, jobs[index].data, jobOptions(id, o.policy));
        continue;
      }
      if (state !== 'completed' && state !== 'failed') continue;
      const job = (await queue.getJob(id)) as Job<D, R> | undefined;
      if (!job) continue;
      pending.delete(id);
      lastChange = performance.now();
      const redelivered = job.attemptsStarted > 1 || job.stalledCounter > 0;
      o.onOutcome(state === 'completed' ? { index, id, result: job.returnvalue, redelivered } : { index, id, failedReason: job.failedReason || 'failed', redelivered });
    }
    o.onRound?.(jobs.length - pending.size, jobs.length);
    if (pending.size && performance.now() - lastChange > 60_000 && performance.now() - lastNote > 60_000) {
      lastNote = performance.now();
      const workers = await queue.getWorkersCount().catch(() => -1);
      const note = `  no job finished for ${formatDuration(performance.now() - lastChange)}; ${workers >= 0 ? `${workers} worker(s) connected to queue '${o.queueName}'` : 'worker count unknown'}${workers === 0 ? `: start one with \`bench worker --queue ${o.target.display}${o.queueName === 'rpsam2' ? '' : ` --queue-name ${o.queueName}`}\`` : ''}`;
      o.note?.(note);
    }
    if (pending.size) await sleep(o.pollMs ?? 250);
  }
  return { ms: performance.now() - t0, stopped: pending.size > 0 };
}
