/**
 * The producer side of `bench embed --queue`: one `embed` job per frame into a BullMQ queue, then
 * waiting for the workers (`bench worker`) while printing progress, then the cache's index merged
 * from the jobs' results. The cache folder is locked for the whole run (a second build into it is
 * refused), and jobs have deterministic ids, so an interrupted producer, rerun, joins the jobs
 * still queued; frames already in the cache cost a worker one file check.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ProgressLine, settingsDiff, type CacheEntry, type CacheSettings } from '@rpsam2/rpsam2';
import { lockFolder } from '@rpsam2/tensor/node';
import type { RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { mergeCacheIndex } from './cache-index.js';
import { readIndexFile } from './cache-entry.js';
import type { FrameFile } from './frames.js';
import { embedJobId, type EmbedJobData, type EmbedJobResult, type JobPolicy } from './jobs.js';
import { runFrameJobs, type FrameJobTally } from './job-runner.js';
import { checkRedis, type RedisTarget } from './redis-connection.js';

/** What `bench embed --queue` needs. */
export interface EmbedQueueOptions extends Pick<EmbedJobData, 'cacheDir' | 'datasetName' | 'model' | 'featureDtype' | 'gridStep' | 'epsilon'> {
  target: RedisTarget;
  queueName: string;
  frames: readonly FrameFile[];
  policy: JobPolicy;
  io: RunIO;
  stop: StopSignal;
  /** How often job states are polled (ms, default 250). */
  pollMs?: number;
}

/** The outcome of a queued build (`computed`: frames encoded by a worker in this run; `cached`: frames whose file was in the cache already). */
export interface EmbedQueueReport extends FrameJobTally {
  total: number;
  /** The merged index's entry count (null when nothing was merged). */
  indexed: number | null;
}

/** The job data of each frame. */
export function embedJobs(o: Pick<EmbedQueueOptions, 'frames' | 'cacheDir' | 'datasetName' | 'model' | 'featureDtype' | 'gridStep' | 'epsilon'>): EmbedJobData[] {
  return o.frames.map((f) => ({
    cacheDir: o.cacheDir,
    datasetName: o.datasetName,
    model: o.model,
    featureDtype: o.featureDtype,
    gridStep: o.gridStep,
    epsilon: o.epsilon,
    frame: { id: f.id, path: f.path },
  }));
}

/** Runs the producer (see the module comment). */
export async function embedWithQueue(o: EmbedQueueOptions): Promise<EmbedQueueReport> {
  const { io } = o;
  await checkRedis(o.target);
  await mkdir(join(o.cacheDir, 'images'), { recursive: true });
  const old = await readIndexFile(o.cacheDir);
  if (old) {
    // The model part of the settings is checked by the workers, which load it.
    const diff = settingsDiff(old, { ...old, dtype: o.featureDtype, gridStep: o.gridStep, epsilon: o.epsilon });
    if (diff.length) throw new Error(`feature cache ${o.cacheDir} was built with other settings:\n  ${diff.join('\n  ')}\nuse another cache folder (or delete this one)`);
  }
  const lock = await lockFolder(o.cacheDir, 'bench embed --queue', (l) => io.err(l));
  const report: EmbedQueueReport = { total: o.frames.length, computed: 0, cached: 0, failed: [], redelivered: 0, workers: {}, stopped: false, ms: 0, indexed: null };
  const results = new Map<string, EmbedJobResult>();
  const bar = new ProgressLine(io.progress);
  try {
    await runFrameJobs<EmbedJobData, EmbedJobResult>(o, {
      name: 'embed',
      jobs: embedJobs(o),
      jobId: embedJobId,
      tally: report,
      bar,
      announce: (line) => io.err(line),
      workerHint: true,
      onResult: (result, id) => results.set(id, result),
    });
    bar.done();
    const entries: CacheEntry[] = [];
    let settings: CacheSettings | null = null;
    for (const f of o.frames) {
      const r = results.get(f.id);
      if (!r) continue;
      if (settings && settingsDiff(settings, r.settings).length) throw new Error(`workers returned different cache settings (${settingsDiff(settings, r.settings).join('; ')}): are they running different builds or reading different weights files?`);
      settings ??= r.settings;
      entries.push(r.entry);
    }
    if (settings) report.indexed = (await mergeCacheIndex(o.cacheDir, settings, o.datasetName, entries)).entries.length;
    return report;
  } finally {
    bar.done();
    await lock.release();
  }
}
