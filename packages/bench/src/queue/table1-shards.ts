/**
 * A run's evaluation through the queue (`bench table1 --queue redis://…`, and each share's
 * test-split evaluation of `bench ood --queue redis://…`, group by group): the evaluated
 * frames of a model group are cut into shards (`table1-shard` jobs, one frame each by default),
 * `bench worker` processes compute them with the run's own evaluation loop, and the run appends
 * the shards' records to samples.jsonl in frame order, skipping what it already holds — so
 * samples.jsonl, and everything computed from it (results.json, table1.*), is what the
 * single-process run writes. A shard after one that is not finished is not merged yet (the order
 * would differ): it waits on disk for the resumed run, whose workers find it done.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isSam2ConfigPath } from '@rpsam2/sam2';
import type { FrameRef, SegmentationDataset } from '../datasets/types.js';
import type { EvalProgress, EvaluationReport, EvaluationTimings } from '../evaluation/evaluate.js';
import { readSamples, sampleKey, type SampleLog } from '../evaluation/samples.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { slug } from '../runs/run-dir.js';
import type { RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { openProducerQueue, runJobs } from './job-runner.js';
import { DEFAULT_JOB_POLICY, DEFAULT_QUEUE_NAME, digest, type ShardMethodSpec, type Table1ShardJobData, type Table1ShardJobResult } from './jobs.js';
import { checkRedis, parseRedisUrl, type RedisTarget } from './redis-connection.js';

/** Where a run's evaluation is sent: `--queue` and `--queue-name` of `bench table1` and `bench ood`. */
export interface EvaluationQueue {
  target: RedisTarget;
  queueName: string;
}

/**
 * Takes `--queue <url>` and `--queue-name <name>` out of a run's flags (they choose where the
 * evaluation runs, not what it computes, so they are not part of config.json and may be given
 * with `--resume`).
 */
export function splitQueueFlags(argv: readonly string[]): { argv: string[]; queue: EvaluationQueue | undefined } {
  const rest: string[] = [];
  let url: string | undefined;
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--queue' || argv[i] === '--queue-name') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${argv[i - 1]} needs a value`);
      if (argv[i - 1] === '--queue') url = v;
      else name = v;
    } else rest.push(argv[i]);
  }
  if (name !== undefined && url === undefined) throw new Error('--queue-name needs --queue');
  if (name !== undefined && !/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`--queue-name '${name}': letters, digits, '_', '-' and '.' only`);
  return { argv: rest, queue: url === undefined ? undefined : { target: parseRedisUrl(url), queueName: name ?? DEFAULT_QUEUE_NAME } };
}

/** A SAM 2 spec with absolute paths (workers may run elsewhere, from another folder). */
export function absoluteSpec(spec: Sam2Spec): Sam2Spec {
  return { weights: spec.weights ? resolve(spec.weights) : '', config: spec.config && isSam2ConfigPath(spec.config) ? resolve(spec.config) : spec.config, dtype: spec.dtype };
}

/** What {@link evaluateWithQueue} needs: the group's identity for the workers and the run's log. */
export interface QueuedEvaluation {
  queue: EvaluationQueue;
  runDir: string;
  dataRoot: string;
  split: string;
  evalDir: string;
  group: { name: string; sam2: Sam2Spec; methods: ShardMethodSpec[] };
  dataset: SegmentationDataset;
  frames: readonly FrameRef[];
  listing: readonly { index: number; classKey: string }[][];
  seeds: number[];
  clickOffset: number;
  log: SampleLog;
  stop: StopSignal;
  io: RunIO;
  onProgress?: (p: EvalProgress) => void;
  /** Frames per shard (default 1). */
  shardFrames?: number;
}

/** Runs one group's evaluation through the queue (see the module comment); the report has `evaluate`'s shape. */
export async function evaluateWithQueue(q: QueuedEvaluation): Promise<EvaluationReport> {
  const t0 = performance.now();
  const names = q.group.methods.map((m) => m.name);
  const objectCount = q.listing.reduce((n, l) => n + l.length, 0);
  const total = objectCount * q.seeds.length * names.length;
  const timings: EvaluationTimings = { total: 0, features: 0, masks: 0, metrics: 0, methods: Object.fromEntries(names.map((n) => [n, { ms: 0, clicks: 0 }])) };
  const keysOf = (fi: number) => q.listing[fi].flatMap((o) => names.flatMap((m) => q.seeds.map((s) => sampleKey({ method: m, image: q.frames[fi].id, object: o.index, seed: s }))));
  let resumed = 0;
  q.frames.forEach((_, fi) => (resumed += keysOf(fi).filter((k) => q.log.has(k)).length));
  const report: EvaluationReport = { stopped: false, total, resumed, computed: 0, frames: q.frames.length, framesWithObjects: q.listing.filter((l) => l.length > 0).length, objects: objectCount, timings };
  // Frames with samples still missing, cut into shards in order.
  const pending = q.frames.map((_, fi) => fi).filter((fi) => keysOf(fi).some((k) => !q.log.has(k)));
  const per = q.shardFrames ?? 1;
  const shardDir = join(q.runDir, 'shards', slug(q.group.name));
  const shards: { frames: number[]; data: Table1ShardJobData }[] = [];
  for (let i = 0; i < pending.length; i += per) {
    const fis = pending.slice(i, i + per);
    const frameIds = fis.map((fi) => q.frames[fi].id);
    const data: Table1ShardJobData = {
      runDir: q.runDir,
      dataRoot: q.dataRoot,
      split: q.split,
      evalDir: q.evalDir,
      group: q.group,
      frameIds,
      seeds: q.seeds,
      clickOffset: q.clickOffset,
      shardFile: join(shardDir, `${digest([q.group, frameIds, q.seeds, q.clickOffset])}.jsonl`),
    };
    shards.push({ frames: fis, data });
  }
  if (shards.length === 0) return report;
  await checkRedis(q.queue.target);
  const { queue, close } = openProducerQueue(q.queue.target, q.queue.queueName, 'rpsam2-table1');
  const finished = new Array<boolean>(shards.length).fill(false);
  const failed: string[] = [];
  const shardSamples = shards.map((s) => s.frames.reduce((n, fi) => n + keysOf(fi).filter((k) => !q.log.has(k)).length, 0));
  let finishedSamples = 0;
  let merged = 0;
  // Appends the finished shards at the front of the order to samples.jsonl.
  const mergeReady = async () => {
    while (merged < shards.length && finished[merged]) {
      const s = shards[merged];
      const { records } = await readSamples(s.data.shardFile);
      for (const r of records) {
        if (q.log.has(sampleKey(r))) continue;
        await q.log.append(r);
        report.computed++;
      }
      await rm(s.data.shardFile, { force: true });
      merged++;
    }
  };
  try {
    q.io.out(`  evaluate ${q.group.name}: ${shards.length} shards of ${per} frame(s) queued on ${q.queue.target.display} (queue '${q.queue.queueName}') for \`bench worker\``);
    const run = await runJobs<Table1ShardJobData, Table1ShardJobResult>(
      queue,
      shards.map((s) => ({ id: `table1-${digest([s.data.shardFile, s.data.runDir])}`, name: 'table1-shard', data: s.data })),
      {
        target: q.queue.target,
        queueName: q.queue.queueName,
        policy: DEFAULT_JOB_POLICY,
        stop: q.stop,
        note: (l) => q.io.err(l),
        onOutcome: (o) => {
          if (!o.result) {
            failed.push(`${shards[o.index].data.frameIds.join(', ')}: ${o.failedReason}`);
            return;
          }
          finished[o.index] = true;
          finishedSamples += shardSamples[o.index];
          const t = o.result.timings;
          timings.features += t.features;
          timings.masks += t.masks;
          timings.metrics += t.metrics;
          for (const [m, v] of Object.entries(t.methods)) {
            timings.methods[m] ??= { ms: 0, clicks: 0 };
            timings.methods[m].ms += v.ms;
            timings.methods[m].clicks += v.clicks;
          }
        },
        onRound: (done) => {
          const elapsed = performance.now() - t0;
          const msPer = finishedSamples ? elapsed / finishedSamples : 0;
          q.onProgress?.({ done: report.resumed + finishedSamples, total, computed: finishedSamples, frame: `${done}/${shards.length} shards`, group: q.group.name, msPerSample: msPer, etaMs: msPer * (total - report.resumed - finishedSamples) });
        },
      },
    );
    await mergeReady();
    report.stopped = run.stopped || merged < shards.length;
    if (failed.length) throw new Error(`evaluate ${q.group.name}: ${failed.length} shard(s) failed on the workers:\n  ${failed.slice(0, 5).join('\n  ')}${failed.length > 5 ? `\n  … and ${failed.length - 5} more` : ''}\nresume the run (--resume) to try them again`);
  } finally {
    await close();
    // Nothing left to merge: drop the group's shard folder (with any temporary file a killed worker left).
    if (merged === shards.length) {
      await rm(shardDir, { recursive: true, force: true });
      if ((await readdir(join(q.runDir, 'shards')).catch(() => ['?'])).length === 0) await rmdir(join(q.runDir, 'shards')).catch(() => undefined);
    }
  }
  timings.total = performance.now() - t0;
  return report;
}
