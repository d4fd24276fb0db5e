/**
 * Adding a batch of jobs to a BullMQ queue and waiting until each has finished, for the
 * producers (`bench embed --queue`, `bench label --queue`). Jobs have deterministic ids: finished
 * jobs of an earlier run with the same ids are removed first (the workers' results are idempotent,
 * so running them again is a no-op), jobs still queued or running are joined, not duplicated.
 * Finishing is detected by polling the jobs' states in windows (no event can be missed, and a
 * large batch costs a bounded number of Redis calls per round). Also what the producers of one job
 * per frame count and print the same way (`FrameJobTally`).
 */
import { Queue, type Job } from 'bullmq';
import { formatDuration, type ProgressLine } from '@rpsam2/rpsam2';
import type { StopSignal } from '../runs/stop-signal.js';
import { DEFAULT_QUEUE_NAME, jobOptions, type JobPolicy } from './jobs.js';
import { bullmqClient, closeClient, type RedisTarget } from './redis-connection.js';

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
      const note = `  no job finished for ${formatDuration(performance.now() - lastChange)}; ${workers >= 0 ? `${workers} worker(s) connected to queue '${o.queueName}'` : 'worker count unknown'}${workers === 0 ? `: start one with \`${workerCommandLine(o.target, o.queueName)}\`` : ''}`;
      o.note?.(note);
    }
    if (pending.size) await sleep(o.pollMs ?? 250);
  }
  return { ms: performance.now() - t0, stopped: pending.size > 0 };
}

/** A producer's own connection to a queue. */
export interface ProducerQueue {
  queue: Queue;
  /** Closes the queue, then its client; never throws. */
  close(): Promise<void>;
}

/**
 * Opens queue `queueName` on `target` with a client named `clientName`. Connection errors are
 * not reported as events (an unhandled 'error' would end the process): {@link runJobs} waits
 * through a Redis restart, and a lost Redis shows as the calls' errors.
 */
export function openProducerQueue(target: RedisTarget, queueName: string, clientName: string): ProducerQueue {
  const client = bullmqClient(target, clientName);
  client.on('error', () => undefined);
  const queue = new Queue(queueName, { connection: client });
  queue.on('error', () => undefined);
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      await closeClient(client);
    },
  };
}

/** What a producer of one job per frame counts (`bench embed --queue`, `bench label`). */
export interface FrameJobTally {
  /** Frames a worker computed in this run. */
  computed: number;
  /** Frames whose output was there already (the job was a no-op). */
  cached: number;
  failed: { id: string; reason: string }[];
  /** Jobs that were started more than once (a stalled or killed worker's, or a retried one). */
  redelivered: number;
  /** Completed jobs per worker name. */
  workers: Record<string, number>;
  /** True when a stop request (Ctrl-C) ended the run early (queued jobs stay queued). */
  stopped: boolean;
  /** From the first job added to the last one finished, ms. */
  ms: number;
}

/** Counts a completed frame job: computed or cached, and one more for its worker. */
export function tallyResult(t: FrameJobTally, r: FrameJobResult): void {
  if (r.outcome === 'computed') t.computed++;
  else t.cached++;
  t.workers[r.worker] = (t.workers[r.worker] ?? 0) + 1;
}

/** Counts a frame job that failed for good, and prints it with `log`. */
export function tallyFailure(t: FrameJobTally, id: string, reason: string, log: (line: string) => void): void {
  t.failed.push({ id, reason });
  log(`  failed: ${id}: ${reason}`);
}

/** What a frame job returns that {@link FrameJobTally} counts. */
export interface FrameJobResult {
  outcome: 'computed' | 'cached';
  worker: string;
}

/** Counts one outcome of {@link runJobs} for frame `id`; returns the job's result when it completed. */
export function tallyOutcome<R extends FrameJobResult>(t: FrameJobTally, o: JobOutcome<R>, id: string, log: (line: string) => void): R | undefined {
  if (o.redelivered) t.redelivered++;
  if (!o.result) {
    tallyFailure(t, id, o.failedReason!, log);
    return undefined;
  }
  tallyResult(t, o.result);
  return o.result;
}

/** The progress line of `what` over `total` frame jobs started at `t0`: the counts, the rate and the time left. */
export function frameProgressText(what: string, done: number, total: number, t: FrameJobTally, t0: number): string {
  const rate = done / ((performance.now() - t0) / 1000);
  return `  ${what}: ${done}/${total} frames (${t.computed} computed, ${t.cached} cached, ${t.failed.length} failed), ${rate.toFixed(2)} frames/s${done && done < total ? `, eta ${formatDuration(((total - done) / rate) * 1000)}` : ''}`;
}

/** Where {@link runFrameJobs} queues its jobs, and how. */
export type FrameQueueOptions = Pick<RunJobsOptions<unknown>, 'target' | 'queueName' | 'policy' | 'stop' | 'pollMs'>;

/** The jobs of {@link runFrameJobs} and where their outcomes go. */
export interface FrameJobsOptions<D, R> {
  /** The jobs' name (`embed`, `label`), also the progress line's. */
  name: string;
  jobs: readonly D[];
  /** A job's deterministic id. */
  jobId(data: D): string;
  /** Gets the counts, and `ms` and `stopped` of the run. */
  tally: FrameJobTally;
  /** Progress, failures and notes go here. */
  bar: ProgressLine;
  /** Where the line saying what is queued goes. */
  announce(line: string): void;
  /** Name the command that starts a worker in that line. */
  workerHint?: boolean;
  /** Called with each completed job's result and its frame id. */
  onResult?(result: R, frameId: string): void;
}

/** The command that starts a worker for queue `queueName` on `target`. */
export function workerCommandLine(target: RedisTarget, queueName: string): string {
  return `bench worker --queue ${target.display}${queueName === DEFAULT_QUEUE_NAME ? '' : ` --queue-name ${queueName}`}`;
}

/**
 * The queued side of a producer of one job per frame (`bench embed --queue`, `bench label
 * --queue`): opens the queue, runs the jobs with {@link runJobs}, counts their outcomes under
 * their frames and prints the progress, and closes the queue however it ends.
 */
export async function runFrameJobs<D extends { frame: { id: string } }, R extends FrameJobResult>(where: FrameQueueOptions, o: FrameJobsOptions<D, R>): Promise<void> {
  const log = (line: string) => o.bar.log(line);
  const { queue, close } = openProducerQueue(where.target, where.queueName, 'rpsam2-producer');
  try {
    o.announce(`queueing ${o.jobs.length} ${o.name} jobs on ${where.target.display} (queue '${where.queueName}')${o.workerHint ? `; the workers: \`${workerCommandLine(where.target, where.queueName)}\`` : ''}`);
    const t0 = performance.now();
    const run = await runJobs<D, R>(
      queue,
      o.jobs.map((data) => ({ id: o.jobId(data), name: o.name, data })),
      {
        target: where.target,
        queueName: where.queueName,
        policy: where.policy,
        stop: where.stop,
        pollMs: where.pollMs,
        note: log,
        onOutcome: (out) => {
          const id = o.jobs[out.index].frame.id;
          const result = tallyOutcome(o.tally, out, id, log);
          if (result) o.onResult?.(result, id);
        },
        onRound: (done, total) => o.bar.update(frameProgressText(o.name, done, total, o.tally, t0)),
      },
    );
    o.tally.ms = run.ms;
    o.tally.stopped = run.stopped;
  } finally {
    await close();
  }
}
