/**
 * `bench worker`'s loop: a BullMQ worker on one WebGPU device that takes one job at a time from
 * the queue and runs it (`embed`: a frame into a feature cache; `label`: a frame's pseudo-labels;
 * `table1-shard`: a few frames of a Table 1 or `bench ood` run's evaluation).
 * BullMQ gives the reliability: a job whose worker dies (crash, SIGKILL, lost machine) loses its
 * lock after the stall timeout and goes back to the queue for another worker; a job that throws is
 * retried with back-off up to its attempts; the jobs' results stay in Redis for the producer. This loop adds a per-job
 * timeout (after which it stops: GPU work cannot be cancelled, so its device may be stuck — let a
 * supervisor restart it) and a clean stop on SIGINT/SIGTERM (the current job finishes first,
 * then the models are freed and the GPU buffer pool must be back at 0 live bytes).
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { getBackend, shutdown } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import type { RunIO } from '../runs/run-io.js';
import { embedFrameJob, removeStaleStaging } from './cache-entry.js';
import { JOB_KINDS, type EmbedJobData, type JobKind, type LabelJobData, type Table1ShardJobData } from './jobs.js';
import { validateEmbedJob, validateLabelJob, validateTable1ShardJob } from './job-validation.js';
import { table1ShardJob, Table1ShardContext } from './table1-shard-job.js';
import { labelFrameJob } from './label-job.js';
import { ModelPool } from './model-pool.js';
import { bullmqClient, checkRedis, closeClient, type RedisTarget } from './redis-connection.js';

/** Settings of a worker. */
export interface QueueWorkerOptions {
  target: RedisTarget;
  queueName: string;
  /** Recorded on the jobs it processes (default `<host>-<pid>`). */
  name?: string;
  /** A job whose worker stops renewing its lock for this long goes back to the queue (ms, default 30 000). */
  stallTimeoutMs?: number;
  /** A job running longer fails (and is retried elsewhere) and this worker stops (ms, default 900 000). */
  jobTimeoutMs?: number;
  io: RunIO;
}

/** How a worker ended. */
export interface QueueWorkerReport {
  /** Jobs finished (completed or failed) by this worker. */
  completed: number;
  failed: number;
  /** Why it stopped: 'signal' (SIGINT/SIGTERM or `stop()`), 'timeout' (a job ran past the job timeout) or 'error' (the worker loop failed). */
  reason: 'signal' | 'timeout' | 'error';
  /** The GPU buffer pool's live bytes after everything was freed (0 unless something leaked; -1 after a timeout, when nothing is freed). */
  liveBytes: number;
}

/** A running worker: `done` resolves when it has stopped. */
export interface RunningQueueWorker {
  readonly name: string;
  /** Asks it to stop after the current job. */
  stop(): void;
  readonly done: Promise<QueueWorkerReport>;
}

class JobTimeoutError extends Error {}

/**
 * Starts a worker (see the module comment): checks that Redis answers (a clear error naming the
 * URL otherwise), opens the WebGPU device and begins taking jobs. The caller owns signal handling
 * and calls `stop()`.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningQueueWorker> {
  const { io } = o;
  const name = o.name ?? `${hostname()}-${process.pid}`;
  const stallTimeoutMs = o.stallTimeoutMs ?? 30_000;
  const jobTimeoutMs = o.jobTimeoutMs ?? 900_000;
  await checkRedis(o.target);
  const stale = await removeStaleStaging();
  if (stale) io.err(`worker ${name}: removed ${stale} staging folder(s) of workers that were killed mid-job`);
  await initNode();
  const pool = new ModelPool();
  const shards = new Table1ShardContext();
  const client = bullmqClient(o.target, `rpsam2-worker-${name}`);
  let redisDown = false;
  client.on('error', (e: Error) => {
    if (!redisDown) io.err(`worker ${name}: Redis at ${o.target.display}: ${e.message} (reconnecting)`);
    redisDown = true;
  });
  client.on('ready', () => {
    if (redisDown) io.err(`worker ${name}: Redis at ${o.target.display} is back`);
    redisDown = false;
  });
  let completed = 0;
  let failed = 0;
  let reason = 'signal' as QueueWorkerReport['reason'];
  let timeoutRecorded: Promise<void> = Promise.resolve();
  let finish: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (finish = r));

  const processor = async (job: Job) => {
    if (!(JOB_KINDS as readonly string[]).includes(job.name)) throw new UnrecoverableError(`unknown job kind '${job.name}' (this worker runs: ${JOB_KINDS.join(', ')}); update the worker`);
    const kind = job.name as JobKind;
    const data = kind === 'embed' ? validateEmbedJob(job.data) : kind === 'label' ? validateLabelJob(job.data) : validateTable1ShardJob(job.data);
    const what = 'frame' in data ? data.frame.id : data.frameIds.join(', ');
    io.out(`job ${job.id}: ${kind} ${what} (attempt ${job.attemptsStarted}/${job.opts.attempts ?? 1})`);
    const onStage = (stage: string) => void job.updateProgress({ stage }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobTimeoutError(`${kind} ${what}: timed out after ${(jobTimeoutMs / 1000).toFixed(0)} s on worker ${name}`)), jobTimeoutMs);
    });
    try {
      const work =
        kind === 'embed'
          ? embedFrameJob(data as EmbedJobData, pool, name, onStage)
          : kind === 'label'
            ? labelFrameJob(data as LabelJobData, pool, name, onStage)
            : table1ShardJob(data as Table1ShardJobData, shards, name);
      return await Promise.race([work, timeout]);
    } catch (e) {
      if (e instanceof JobTimeoutError) {
        reason = 'timeout';
        // BullMQ records the failure (for a retry elsewhere) after this throw: wait for it before closing.
        timeoutRecorded = new Promise<void>((r) => {
          const t = setTimeout(r, 5000);
          worker.once('failed', () => {
            clearTimeout(t);
            r();
          });
        });
        // The GPU work goes on and cannot be cancelled: take no further job.
        io.err(`worker ${name}: ${e.message}; stopping (its device may be stuck: restart the worker)`);
        finish();
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };

  const worker = new Worker(o.queueName, processor, {
    connection: client,
    name,
    concurrency: 1,
    lockDuration: stallTimeoutMs,
    stalledInterval: stallTimeoutMs,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', (e) => {
    if (!redisDown) io.err(`worker ${name}: ${e.message}`);
  });
  worker.on('completed', (job, r: { outcome?: string; ms?: number }) => {
    completed++;
    io.out(`job ${job.id}: ${r?.outcome ?? 'done'} in ${((r?.ms ?? 0) / 1000).toFixed(2)} s`);
  });
  worker.on('failed', (job, e) => {
    failed++;
    io.err(`job ${job?.id}: failed (attempt ${job?.attemptsMade ?? '?'}/${job?.opts.attempts ?? 1}): ${e.message}`);
  });
  worker.run().catch((e) => {
    io.err(`worker ${name}: ${(e as Error).message}`);
    reason = 'error';
    finish();
  });
  await worker.waitUntilReady();
  io.out(`worker ${name}: waiting for jobs on ${o.target.display}, queue '${o.queueName}' (one job at a time; stall timeout ${stallTimeoutMs / 1000} s, job timeout ${jobTimeoutMs / 1000} s)`);

  const done = (async (): Promise<QueueWorkerReport> => {
    await stopped;
    if (reason === 'timeout') {
      // The stuck job may still use the models and its device: free nothing, the process ends.
      await timeoutRecorded;
      await worker.close(true).catch(() => undefined);
      await closeClient(client);
      io.out(`worker ${name}: stopped (timeout) after ${completed} jobs, ${failed} failed`);
      return { completed, failed, reason, liveBytes: -1 };
    }
    await worker.close();
    await closeClient(client);
    await pool.dispose();
    shards.dispose();
    const backend = getBackend();
    await backend.sync();
    const liveBytes = backend.stats().liveBytes;
    io.out(`worker ${name}: stopped (${reason}) after ${completed} jobs${failed ? `, ${failed} failed` : ''}; GPU pool: ${liveBytes} live bytes`);
    shutdown();
    return { completed, failed, reason, liveBytes };
  })();
  return { name, stop: () => finish(), done };
}
