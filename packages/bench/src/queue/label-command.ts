/**
 * `bench label <frames…> --clicks clicks.json --out <dir>`: pseudo-labels of video frames from one
 * positive click per object (`clicks-file.ts`), by RP-SAM2 (default: the embedded default SAM 2
 * and the shift block shipped for it) or SAM 2 alone (`--shift-block none`), one JSON file per
 * frame (`label-job.ts`). In this process, or with `--queue redis://…` by `bench worker`
 * processes; both run the same per-frame code and write the same bytes. `--cache` takes the
 * frames' features from a feature cache built by `bench embed` (no encoder pass for them).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { formatDuration, ProgressLine } from '@rpsam2/rpsam2';
import { getBackend } from '@rpsam2/tensor';
import { initNode, lockFolder } from '@rpsam2/tensor/node';
import type { CommandArgs } from '../args.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { withCliInterrupts } from '../runs/run-command.js';
import { int, UsageError } from '../runs/run-args.js';
import { checkQueueName, parseFlags } from './flags.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { readClicksFile } from './clicks-file.js';
import { listFrames } from './frames.js';
import { runJobs } from './job-runner.js';
import { DEFAULT_JOB_POLICY, DEFAULT_QUEUE_NAME, labelJobId, type LabelJobData, type LabelJobResult } from './jobs.js';
import { labelFrameJob } from './label-job.js';
import { ModelPool } from './model-pool.js';
import { bullmqClient, checkRedis, closeClient, parseRedisUrl, type RedisTarget } from './redis-connection.js';

/** The usage line of `bench label` (in `bench --help`). */
export const LABEL_USAGE = `label <frames…> --clicks <clicks.json> --out <dir> [--cache <feature cache>] [--weights <ckpt> [--config <cfg>]]
        [--shift-block <ckpt>|none] [--dtype f32|f16] [--queue redis://host:port [--queue-name rpsam2] [--attempts 3]] [--json]`;

/** `bench label --help`. */
export const LABEL_HELP = `usage: bench ${LABEL_USAGE}

  <frames…>       PNG/JPEG files, or folders of them; a frame's id is its file name without extension
  --clicks        JSON { "<frame id>": [[x, y], …] }: one positive click per object (pixels); frames without clicks are skipped
  --out           one <frame id>.json per frame: each object's click, refined click, score, mask (COCO RLE)
  --cache         take the frames' features from this feature cache (bench embed) where it has them
  --weights       SAM 2 weights (default: the embedded default model); --config its config; --dtype weight storage
  --shift-block   RP-SAM2's shift block (default: the one shipped for the default model; needed with --weights),
                  or none: SAM 2 alone
  --queue         distribute: one job per frame into this Redis (BullMQ), run by \`bench worker\` processes
  --queue-name    the BullMQ queue (default ${DEFAULT_QUEUE_NAME}); --attempts tries per frame (default ${DEFAULT_JOB_POLICY.attempts})
  --json          one JSON object on stdout at the end`;

/** Parsed `bench label` flags. */
export interface LabelArgs extends CommandArgs {
  help?: boolean;
  frames: string[];
  clicks: string;
  outDir: string;
  cacheDir: string;
  model: Sam2Spec;
  shiftBlock: string;
  queue: RedisTarget | null;
  queueName: string;
  attempts: number;
}

/** Parses `bench label`'s flags (a {@link UsageError} naming the flag on bad input). */
export function parseLabelArgs(argv: string[]): CommandArgs {
  const { values, positionals } = parseFlags(argv, {
    clicks: { type: 'string' },
    out: { type: 'string' },
    cache: { type: 'string' },
    weights: { type: 'string' },
    config: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
    'shift-block': { type: 'string' },
    queue: { type: 'string' },
    'queue-name': { type: 'string', default: DEFAULT_QUEUE_NAME },
    attempts: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) return { json: false, quick: false, rest: [], help: true } as CommandArgs;
  if (!values.clicks) throw new UsageError(`--clicks <clicks.json> is required`);
  if (!values.out) throw new UsageError(`--out <dir> is required`);
  if (positionals.length === 0) throw new UsageError(`no frames given (PNG/JPEG files or folders)`);
  if (values.config && !values.weights) throw new UsageError('--config needs --weights (the embedded default model has its own config)');
  if (values.weights && values['shift-block'] === undefined) {
    throw new UsageError('--weights: SAM 2 weights of your own need a shift block trained for them (--shift-block <checkpoint>), or --shift-block none for SAM 2 alone');
  }
  if (values.dtype !== 'f32' && values.dtype !== 'f16') throw new UsageError(`--dtype needs f32 or f16, got '${values.dtype}'`);
  checkQueueName(values['queue-name']!);
  if (!values.queue && values.attempts !== undefined) throw new UsageError('--attempts needs --queue');
  const sb = values['shift-block'];
  const args: LabelArgs = {
    json: values.json!,
    quick: false,
    rest: [],
    frames: positionals,
    clicks: values.clicks,
    outDir: resolve(values.out),
    cacheDir: values.cache ? resolve(values.cache) : '',
    model: { weights: values.weights ? resolve(values.weights) : '', config: values.config ? (/[/\\.]/.test(values.config) ? resolve(values.config) : values.config) : '', dtype: values.dtype },
    shiftBlock: sb === undefined || sb === 'default' ? '' : sb === 'none' ? 'none' : resolve(sb),
    queue: values.queue ? parseRedisUrl(values.queue) : null,
    queueName: values['queue-name']!,
    attempts: values.attempts === undefined ? DEFAULT_JOB_POLICY.attempts : int('--attempts', values.attempts, 1),
  };
  return args;
}

/** The outcome of `bench label`. */
export interface LabelReport {
  frames: number;
  objects: number;
  computed: number;
  cached: number;
  /** Frames whose features came from the feature cache. */
  fromCache: number;
  failed: { id: string; reason: string }[];
  redelivered: number;
  workers: Record<string, number>;
  stopped: boolean;
  ms: number;
}

/** The jobs of `args`: frames with clicks, in frame order (a click for an unknown frame is a usage error). */
export async function labelJobs(args: LabelArgs): Promise<LabelJobData[]> {
  const frames = await listFrames(args.frames);
  const clicks = await readClicksFile(args.clicks);
  const known = new Set(frames.map((f) => f.id));
  const unknown = [...clicks.keys()].filter((id) => !known.has(id));
  if (unknown.length) throw new UsageError(`--clicks ${args.clicks}: no frame named ${unknown.slice(0, 5).map((u) => `'${u}'`).join(', ')}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''} among the ${frames.length} frames given`);
  return frames
    .filter((f) => clicks.has(f.id))
    .map((f) => ({ outDir: args.outDir, cacheDir: args.cacheDir, model: args.model, shiftBlock: args.shiftBlock, frame: { id: f.id, path: f.path }, clicks: clicks.get(f.id)! }));
}

/** Runs `bench label` (see the module comment) with the given streams and stop signal. */
export async function runLabel(args: LabelArgs, io: RunIO, stop: StopSignal): Promise<number> {
  if (args.help) {
    io.out(LABEL_HELP);
    return 0;
  }
  const jobs = await labelJobs(args);
  const r: LabelReport = { frames: jobs.length, objects: 0, computed: 0, cached: 0, fromCache: 0, failed: [], redelivered: 0, workers: {}, stopped: false, ms: 0 };
  const record = (res: LabelJobResult) => {
    r.objects += res.objects;
    if (res.outcome === 'computed') r.computed++;
    else r.cached++;
    if (res.features === 'cache') r.fromCache++;
    r.workers[res.worker] = (r.workers[res.worker] ?? 0) + 1;
  };
  const bar = new ProgressLine(io.progress);
  const progress = (done: number, t0: number) => {
    const rate = done / ((performance.now() - t0) / 1000);
    bar.update(`  label: ${done}/${jobs.length} frames (${r.computed} computed, ${r.cached} cached, ${r.failed.length} failed), ${rate.toFixed(2)} frames/s${done && done < jobs.length ? `, eta ${formatDuration(((jobs.length - done) / rate) * 1000)}` : ''}`);
  };
  if (args.queue) await checkRedis(args.queue);
  await mkdir(args.outDir, { recursive: true });
  const lock = await lockFolder(args.outDir, `bench label${args.queue ? ' --queue' : ''}`, (l) => io.err(l));
  try {
    if (args.queue) {
      const client = bullmqClient(args.queue, 'rpsam2-producer');
      client.on('error', () => undefined);
      const queue = new Queue(args.queueName, { connection: client });
      queue.on('error', () => undefined);
      try {
        io.err(`queueing ${jobs.length} label jobs on ${args.queue.display} (queue '${args.queueName}')`);
        const t0 = performance.now();
        const run = await runJobs<LabelJobData, LabelJobResult>(
          queue,
          jobs.map((data) => ({ id: labelJobId(data), name: 'label', data })),
          {
            target: args.queue,
            queueName: args.queueName,
            policy: { ...DEFAULT_JOB_POLICY, attempts: args.attempts },
            stop,
            note: (l) => bar.log(l),
            onOutcome: (o) => {
              if (o.redelivered) r.redelivered++;
              if (o.result) record(o.result);
              else {
                r.failed.push({ id: jobs[o.index].frame.id, reason: o.failedReason! });
                bar.log(`  failed: ${jobs[o.index].frame.id}: ${o.failedReason}`);
              }
            },
            onRound: (done) => progress(done, t0),
          },
        );
        r.ms = run.ms;
        r.stopped = run.stopped;
      } finally {
        await queue.close().catch(() => undefined);
        await closeClient(client);
      }
    } else {
      await initNode();
      const pool = new ModelPool();
      const t0 = performance.now();
      try {
        for (const [i, job] of jobs.entries()) {
          if (stop.requested) {
            r.stopped = true;
            break;
          }
          try {
            record(await labelFrameJob(job, pool, 'local'));
          } catch (e) {
            r.failed.push({ id: job.frame.id, reason: (e as Error).message });
            bar.log(`  failed: ${job.frame.id}: ${(e as Error).message}`);
          }
          progress(i + 1, t0);
        }
      } finally {
        await pool.dispose();
      }
      r.ms = performance.now() - t0;
      const live = getBackend().stats().liveBytes;
      if (live !== 0) io.err(`warning: ${live} bytes still live in the GPU pool after freeing the models`);
    }
  } finally {
    bar.done();
    await lock.release();
  }
  const fps = (r.computed + r.cached) / (r.ms / 1000);
  if (args.json) io.out(JSON.stringify({ mode: args.queue ? 'queue' : 'local', out: args.outDir, ...r, framesPerSecond: fps }));
  else {
    const per = Object.entries(r.workers).map(([w, n]) => `${w}: ${n}`).join(', ');
    io.out(`${r.stopped ? 'stopped' : 'done'}: ${r.computed} frames labelled (${r.objects} objects${r.fromCache ? `, ${r.fromCache} frames from the feature cache` : ''}), ${r.cached} already labelled, ${r.failed.length} failed${args.queue ? `, ${r.redelivered} redelivered; workers ${per || 'none'}` : ''}, in ${formatDuration(r.ms)} (${fps.toFixed(2)} frames/s) → ${args.outDir}`);
  }
  if (r.stopped && args.queue) io.err('the remaining jobs stay queued: rerun the same command to wait for them (frames already labelled cost nothing)');
  return r.stopped ? 130 : r.failed.length ? 1 : 0;
}

/** `bench label` from the command line. */
export async function labelCommand(args: CommandArgs): Promise<number> {
  return withCliInterrupts('bench label', (stop) => runLabel(args as LabelArgs, processIO, stop));
}
