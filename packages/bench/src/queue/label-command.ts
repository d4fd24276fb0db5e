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
import { formatDuration, ProgressLine } from '@rpsam2/rpsam2';
import { getBackend } from '@rpsam2/tensor';
import { initNode, lockFolder } from '@rpsam2/tensor/node';
import { commandArgs, type CommandArgs } from '../args.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { withCliInterrupts } from '../runs/run-command.js';
import { UsageError } from '../runs/run-args.js';
import { helpArgs, parseFlags, PRODUCER_FLAGS, PRODUCER_HELP, PRODUCER_USAGE, producerArgs, sam2Flags, type ProducerArgs } from './flags.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { readClicksFile } from './clicks-file.js';
import { listFrames } from './frames.js';
import { frameProgressText, runFrameJobs, tallyFailure, tallyResult, type FrameJobTally } from './job-runner.js';
import { DEFAULT_JOB_POLICY, labelJobId, type LabelJobData, type LabelJobResult } from './jobs.js';
import { labelFrameJob } from './label-job.js';
import { ModelPool } from './model-pool.js';
import { checkRedis } from './redis-connection.js';

/** The usage line of `bench label` (in `bench --help`). */
export const LABEL_USAGE = `label <frames…> --clicks <clicks.json> --out <dir> [--cache <feature cache>] [--weights <ckpt> [--config <cfg>]]
        [--shift-block <ckpt>|none] [--dtype f32|f16] ${PRODUCER_USAGE}`;

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
${PRODUCER_HELP}`;

/** Parsed `bench label` flags. */
export interface LabelArgs extends CommandArgs, ProducerArgs {
  help?: boolean;
  frames: string[];
  clicks: string;
  outDir: string;
  cacheDir: string;
  model: Sam2Spec;
  shiftBlock: string;
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
    ...PRODUCER_FLAGS,
  });
  if (values.help) return helpArgs();
  if (!values.clicks) throw new UsageError(`--clicks <clicks.json> is required`);
  if (!values.out) throw new UsageError(`--out <dir> is required`);
  if (positionals.length === 0) throw new UsageError(`no frames given (PNG/JPEG files or folders)`);
  if (values.config && !values.weights) throw new UsageError('--config needs --weights (the embedded default model has its own config)');
  if (values.weights && values['shift-block'] === undefined) {
    throw new UsageError('--weights: SAM 2 weights of your own need a shift block trained for them (--shift-block <checkpoint>), or --shift-block none for SAM 2 alone');
  }
  if (values.dtype !== 'f32' && values.dtype !== 'f16') throw new UsageError(`--dtype needs f32 or f16, got '${values.dtype}'`);
  const sb = values['shift-block'];
  const args: LabelArgs = {
    ...commandArgs(values.json!),
    frames: positionals,
    clicks: values.clicks,
    outDir: resolve(values.out),
    cacheDir: values.cache ? resolve(values.cache) : '',
    model: sam2Flags(values.weights, values.config, values.dtype),
    shiftBlock: sb === undefined || sb === 'default' ? '' : sb === 'none' ? 'none' : resolve(sb),
    ...producerArgs(values),
  };
  return args;
}

/** The outcome of `bench label` (`cached`: frames labelled already). */
export interface LabelReport extends FrameJobTally {
  frames: number;
  objects: number;
  /** Frames whose features came from the feature cache. */
  fromCache: number;
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
  // What only labelling counts (tallyResult counts the rest).
  const record = (res: LabelJobResult) => {
    r.objects += res.objects;
    if (res.features === 'cache') r.fromCache++;
  };
  const bar = new ProgressLine(io.progress);
  if (args.queue) await checkRedis(args.queue);
  await mkdir(args.outDir, { recursive: true });
  const lock = await lockFolder(args.outDir, `bench label${args.queue ? ' --queue' : ''}`, (l) => io.err(l));
  try {
    if (args.queue) {
      const where = { target: args.queue, queueName: args.queueName, policy: { ...DEFAULT_JOB_POLICY, attempts: args.attempts }, stop };
      await runFrameJobs<LabelJobData, LabelJobResult>(where, {
        name: 'label',
        jobs,
        jobId: labelJobId,
        tally: r,
        bar,
        announce: (line) => io.err(line),
        onResult: record,
      });
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
            const res = await labelFrameJob(job, pool, 'local');
            tallyResult(r, res);
            record(res);
          } catch (e) {
            tallyFailure(r, job.frame.id, (e as Error).message, (l) => bar.log(l));
          }
          bar.update(frameProgressText('label', i + 1, jobs.length, r, t0));
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
