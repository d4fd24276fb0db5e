/**
 * `bench embed <frames…> --cache <dir>`: SAM 2's image features of every frame into a feature
 * cache (`@rpsam2/rpsam2`'s format: one safetensors file per frame, index.json), in this process,
 * or with `--queue redis://…` by any number of `bench worker` processes on any machines that see
 * the same folders. Both ways write the same files, byte for byte, under the same keys.
 */
import { resolve } from 'node:path';
import { buildFeatureCache, formatDuration, ProgressLine } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor } from '@rpsam2/sam2';
import { initNode } from '@rpsam2/tensor/node';
import { commandArgs, type CommandArgs } from '../args.js';
import { loadSam2Spec, type Sam2Spec } from '../evaluation/sam2-models.js';
import { withCliInterrupts } from '../runs/run-command.js';
import { UsageError } from '../runs/run-args.js';
import { helpArgs, parseFlags, PRODUCER_FLAGS, PRODUCER_HELP, PRODUCER_USAGE, producerArgs, sam2Flags, type ProducerArgs } from './flags.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { embedWithQueue } from './embed-producer.js';
import { framesDataset, listFrames } from './frames.js';
import { DEFAULT_JOB_POLICY } from './jobs.js';

/** The usage line of `bench embed` (in `bench --help`). */
export const EMBED_USAGE = `embed <frames…> --cache <dir> [--weights <ckpt>] [--config <cfg>] [--dtype f32|f16] [--cache-dtype f32|f16]
        [--name <dataset name>] ${PRODUCER_USAGE}`;

/** `bench embed --help`. */
export const EMBED_HELP = `usage: bench ${EMBED_USAGE}

  <frames…>       PNG/JPEG files, or folders of them (sorted by name); a frame's cache key is its file name without extension
  --cache         the feature cache folder (index.json + images/<id>.safetensors); rerun to complete it
  --weights       SAM 2 weights (.pt or .safetensors; default: the embedded default model); --config its config
  --dtype         SAM 2 weight storage on the GPU (default f32); --cache-dtype the stored features (default f32)
  --name          the dataset name recorded in index.json (default 'frames')
  --queue         distribute: one job per frame into this Redis (BullMQ); \`bench worker --queue <same URL>\`
                  processes run them, on this machine or others that see the same paths
${PRODUCER_HELP}`;

/** Parsed `bench embed` flags. */
export interface EmbedArgs extends CommandArgs, ProducerArgs {
  /** --help: print the help and exit 0. */
  help?: boolean;
  frames: string[];
  cacheDir: string;
  model: Sam2Spec;
  featureDtype: 'f32' | 'f16';
  datasetName: string;
}

function dtypeFlag(flag: string, v: string): 'f32' | 'f16' {
  if (v !== 'f32' && v !== 'f16') throw new UsageError(`${flag} needs f32 or f16, got '${v}'`);
  return v;
}

/** Parses `bench embed`'s flags (a {@link UsageError} naming the flag on bad input). */
export function parseEmbedArgs(argv: string[]): CommandArgs {
  const { values, positionals } = parseFlags(argv, {
    cache: { type: 'string' },
    weights: { type: 'string' },
    config: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
    'cache-dtype': { type: 'string', default: 'f32' },
    name: { type: 'string', default: 'frames' },
    ...PRODUCER_FLAGS,
  });
  if (values.help) return helpArgs();
  if (!values.cache) throw new UsageError(`--cache <dir> is required`);
  if (positionals.length === 0) throw new UsageError(`no frames given (PNG/JPEG files or folders)`);
  if (values.config && !values.weights) throw new UsageError('--config needs --weights (the embedded default model has its own config)');
  const args: EmbedArgs = {
    ...commandArgs(values.json!),
    frames: positionals,
    cacheDir: resolve(values.cache),
    model: sam2Flags(values.weights, values.config, dtypeFlag('--dtype', values.dtype!)),
    featureDtype: dtypeFlag('--cache-dtype', values['cache-dtype']!),
    datasetName: values.name!,
    ...producerArgs(values),
  };
  return args;
}

/** Cache settings for frames without objects: rpsam2's defaults (they are part of the cache's identity). */
const GRID_STEP = 8;
const EPSILON = 0.005;

/** Runs `bench embed` (see the module comment) with the given streams and stop signal. */
export async function runEmbed(args: EmbedArgs, io: RunIO, stop: StopSignal): Promise<number> {
  if (args.help) {
    io.out(EMBED_HELP);
    return 0;
  }
  const frames = await listFrames(args.frames);
  const t0 = performance.now();
  if (args.queue) {
    const r = await embedWithQueue({
      target: args.queue,
      queueName: args.queueName,
      frames,
      cacheDir: args.cacheDir,
      datasetName: args.datasetName,
      model: args.model,
      featureDtype: args.featureDtype,
      gridStep: GRID_STEP,
      epsilon: EPSILON,
      policy: { ...DEFAULT_JOB_POLICY, attempts: args.attempts },
      io,
      stop,
    });
    const fps = (r.computed + r.cached) / (r.ms / 1000);
    if (args.json) io.out(JSON.stringify({ mode: 'queue', queue: args.queue.display, queueName: args.queueName, cache: args.cacheDir, frames: frames.length, ...r, framesPerSecond: fps }));
    else {
      const per = Object.entries(r.workers).map(([w, n]) => `${w}: ${n}`).join(', ');
      io.out(`${r.stopped ? 'stopped' : 'done'}: ${r.computed} frames computed, ${r.cached} already cached, ${r.failed.length} failed, ${r.redelivered} redelivered, in ${formatDuration(r.ms)} (${fps.toFixed(2)} frames/s; workers ${per || 'none'}) → ${r.indexed === null ? `nothing to index in ${args.cacheDir}` : `${args.cacheDir}/index.json (${r.indexed} frames)`}`);
    }
    if (r.stopped) io.err('the remaining jobs stay queued: rerun the same command to wait for them (frames already cached cost nothing)');
    return r.stopped ? 130 : r.failed.length ? 1 : 0;
  }
  await initNode();
  const loaded = await loadSam2Spec(args.model);
  const predictor = new Sam2ImagePredictor(loaded.model);
  const bar = new ProgressLine(io.progress);
  try {
    io.err(`SAM 2: ${loaded.description}; ${frames.length} frames → ${args.cacheDir}`);
    const r = await buildFeatureCache({
      dataset: framesDataset(frames, args.datasetName),
      predictor,
      dir: args.cacheDir,
      weightsLabel: loaded.label,
      dtype: args.featureDtype,
      gridStep: GRID_STEP,
      epsilon: EPSILON,
      shouldStop: () => stop.requested,
      onWarning: (m) => bar.log(`warning: ${m}`),
      onProgress: (p) => bar.update(`  embed: ${p.done}/${p.total} frames${p.skipped ? '' : ` (${(p.ms / 1000).toFixed(2)} s)`}`),
    });
    bar.done();
    const ms = performance.now() - t0;
    const fps = r.computed / (r.ms / 1000);
    if (args.json) io.out(JSON.stringify({ mode: 'local', cache: args.cacheDir, frames: frames.length, computed: r.computed, cached: r.skipped, stopped: r.stopped, ms, framesPerSecond: fps }));
    else io.out(`${r.stopped ? 'stopped' : 'done'}: ${r.computed} frames computed, ${r.skipped} already cached, in ${formatDuration(r.ms)} (${fps.toFixed(2)} frames/s) → ${args.cacheDir}/index.json`);
    return r.stopped ? 130 : 0;
  } finally {
    bar.done();
    predictor.dispose();
    loaded.model.dispose();
  }
}

/** `bench embed` from the command line. */
export async function embedCommand(args: CommandArgs): Promise<number> {
  return withCliInterrupts('bench embed', (stop) => runEmbed(args as EmbedArgs, processIO, stop));
}
