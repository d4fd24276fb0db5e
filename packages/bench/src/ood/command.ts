/**
 * `bench ood [flags]`: the paper's Fig. 3a — out-of-distribution data. Without data, the synthetic
 * CaDIS-like second domain is generated into the run and the shipped default SAM 2 and default
 * shift block are used, on a brief schedule; with `--dataset cadis --data <dir>`, a CaDIS folder
 * (Task II classes, the official splits) with the paper's shares and 50 epochs per fine-tune. A
 * dataset folder is checked (every image and label map) before the run directory is made: a
 * malformed one is refused naming the file and the problem (exit 2). The run ends with
 * `report: <run dir>`; Ctrl-C stops after the current unit of work, `--resume <dir>` continues.
 * With `--queue redis://… [--queue-name <name>]` the test-split evaluation of every share is
 * sharded over `bench worker` processes, as `bench table1 --queue` does (the same samples.jsonl).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isSam2ConfigPath } from '@rpsam2/sam2';
import { commandArgs, type CommandArgs } from '../args.js';
import { openCadis } from '../datasets/cadis.js';
import { DatasetError } from '../datasets/types.js';
import type { EvaluationQueue } from '../queue/table1-shards.js';
import { DEFAULT_SHIFT_BLOCK, seedRange } from '../runs/experiment-config.js';
import { asUsageError, int, oneOf, str, UsageError } from '../runs/run-args.js';
import { finishRun, parseWithQueueFlags, readRunConfig, withCliInterrupts } from '../runs/run-command.js';
import { createRunDir, pathExists, writeJson } from '../runs/run-dir.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import { StopSignal } from '../runs/stop-signal.js';
import { defaultOodConfig, realOodConfig, validateOodConfig, type OodConfig } from './ood-config.js';
import { runOod } from './ood-run.js';

export const OOD_USAGE = 'ood [flags]   (`--dataset cadis --data <dir>` for CaDIS; no data: a synthetic CaDIS-like domain, brief schedule)';

/** The flag text of the usage. */
export const OOD_FLAGS = `  --data <dir> --dataset cadis   a CaDIS folder (VideoNN/Images, VideoNN/Labels; official splits); default: generated
  --weights <ckpt> [--config <cfg>]   SAM 2 (e.g. Hiera-L); default: the embedded default model
  --shift-block <ckpt|default> [--heads N]   the in-distribution shift block (default: the shipped one)
  --shares 0,5,10,20,40,60   labelled shares of the training split in % (default: 0,25,50; with --data the paper's)
  --epochs N                 fine-tune epochs of the shift block and of SAM2-FT (with --data: 50)
  --steps N / --ft-steps N   or a step count for the shift block / SAM2-FT (the brief schedule: 20 / 30)
  --grid-step N              candidate grid of the training cache (px)
  --seeds N --click-offset X --sample-seed N   click seeds (10), click offset, stratified-subset seed
  --limit N --train-limit N  at most N test / training frames
  --cases N --frames N --size WxH --data-seed N   the generated domain
  --cache <dir> --cache-dtype f32|f16 --name <name> --out <dir> --runs <dir>
  --resume <dir>             continue an interrupted run (no other flag but --queue)
  --queue redis://host:port [--queue-name <name>]   shard each share's test evaluation over \`bench worker\`
                             processes (BullMQ; the same samples.jsonl and results; queue name default rpsam2)`;

/** Parsed flags: a new run's config, or a run to resume. */
export interface OodArgs extends CommandArgs {
  config?: OodConfig;
  resume?: string;
  out?: string;
  runsDir?: string;
  /** Shard the evaluation over `bench worker` processes through this queue (not part of config.json). */
  queue?: EvaluationQueue;
}

const STRING_FLAGS = [
  'data', 'dataset', 'weights', 'config', 'shift-block', 'heads', 'shares', 'epochs', 'steps', 'ft-steps', 'grid-step', 'seeds', 'click-offset', 'sample-seed',
  'limit', 'train-limit', 'cases', 'frames', 'size', 'data-seed', 'cache', 'cache-dtype', 'name', 'out', 'runs', 'resume',
] as const;

/** Parses `bench ood`'s flags (see {@link OOD_FLAGS}); throws a UsageError naming a bad one. */
export function parseOodArgs(argv: string[]): OodArgs {
  return parseWithQueueFlags(argv, parseOodFlags);
}

function parseOodFlags(argv: string[]): OodArgs {
  const options = Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }]));
  const values = asUsageError(() => parseArgs({ args: argv, allowPositionals: false, strict: true, options }).values) as Partial<Record<(typeof STRING_FLAGS)[number], string>>;
  const base: OodArgs = commandArgs();
  const given = Object.keys(values) as (typeof STRING_FLAGS)[number][];
  if (values.resume !== undefined) {
    const others = given.filter((f) => f !== 'resume');
    if (others.length) throw new UsageError(`--resume continues a run with its own config.json; other flags are not allowed (got ${others.map((f) => `--${f}`).join(' ')})`);
    return { ...base, resume: str('--resume', values.resume) };
  }
  const has = (f: (typeof STRING_FLAGS)[number]) => values[f] !== undefined;
  let c: OodConfig;
  if (has('data')) {
    oneOf('--dataset', values.dataset ?? 'cadis', ['cadis'] as const);
    c = realOodConfig(resolve(str('--data', values.data)));
    for (const f of ['cases', 'frames', 'size', 'data-seed'] as const) if (has(f)) throw new UsageError(`--${f} shapes the generated domain; it does not apply with --data`);
  } else {
    if (has('dataset')) throw new UsageError(`--dataset ${values.dataset} needs --data <dir>`);
    c = defaultOodConfig();
    const g = c.data.generate!;
    if (has('cases')) {
      // One val and one test video; the rest train.
      g.cases = int('--cases', values.cases, 3);
      g.valCases = 1;
      g.testCases = 1;
    }
    if (has('frames')) g.framesPerCase = int('--frames', values.frames, 1);
    if (has('data-seed')) g.seed = int('--data-seed', values['data-seed'], 0);
    if (has('size')) {
      const m = /^(\d+)x(\d+)$/i.exec(str('--size', values.size));
      if (!m) throw new UsageError(`--size needs WxH (e.g. 960x540), got '${values.size}'`);
      [g.width, g.height] = [Number(m[1]), Number(m[2])];
    }
  }
  if (has('weights')) c.sam2.weights = resolve(str('--weights', values.weights));
  if (has('config')) {
    if (!has('weights')) throw new UsageError('--config is the config of --weights; the default model has its own');
    const cfg = str('--config', values.config);
    c.sam2.config = isSam2ConfigPath(cfg) ? resolve(cfg) : cfg;
  }
  if (has('shift-block')) {
    const b = str('--shift-block', values['shift-block']);
    c.shiftBlock.checkpoint = b === DEFAULT_SHIFT_BLOCK ? b : resolve(b);
  } else if (has('weights')) throw new UsageError('--weights needs --shift-block <checkpoint>: the in-distribution shift block trained for those weights (the shipped one fits only the default SAM 2)');
  if (has('heads')) c.shiftBlock.heads = int('--heads', values.heads, 1);
  if (has('shares')) {
    c.shares = str('--shares', values.shares)
      .split(',')
      .map((s) => {
        const v = Number(s.trim());
        if (s.trim() === '' || !(v >= 0 && v < 100)) throw new UsageError(`--shares needs percentages in [0, 100) separated by commas, got '${values.shares}'`);
        return v / 100;
      });
  }
  if (has('epochs')) {
    const e = int('--epochs', values.epochs, 1);
    c.training.base = { ...c.training.base, epochs: e, maxSteps: 0 };
    c.sam2ft = { ...c.sam2ft, epochs: e, steps: 0 };
  }
  if (has('steps')) c.training.base = { ...c.training.base, maxSteps: int('--steps', values.steps, 1) };
  if (has('ft-steps')) c.sam2ft = { ...c.sam2ft, epochs: 0, steps: int('--ft-steps', values['ft-steps'], 1) };
  if (has('grid-step')) c.training.gridStep = int('--grid-step', values['grid-step'], 1);
  if (has('seeds')) c.protocol.seeds = seedRange(int('--seeds', values.seeds, 1));
  if (has('click-offset')) {
    const v = Number(values['click-offset']);
    if (!(v >= 0 && v < 1)) throw new UsageError(`--click-offset needs a number in [0, 1), got '${values['click-offset']}'`);
    c.protocol.clickOffset = v;
  }
  if (has('sample-seed')) c.samplingSeed = int('--sample-seed', values['sample-seed'], 0);
  if (has('limit')) c.data.limitImages = int('--limit', values.limit, 1);
  if (has('train-limit')) c.data.limitTrainImages = int('--train-limit', values['train-limit'], 1);
  if (has('cache')) c.cache.dir = resolve(str('--cache', values.cache));
  if (has('cache-dtype')) c.cache.dtype = oneOf('--cache-dtype', values['cache-dtype'], ['f32', 'f16'] as const);
  if (has('name')) c.name = str('--name', values.name);
  asUsageError(() => validateOodConfig(c));
  return { ...base, config: c, out: values.out, runsDir: values.runs };
}

/**
 * Runs parsed flags: a new run (its dataset folder checked first), or `--resume`. Returns the exit
 * status (0 done, 130 interrupted); errors are thrown (a UsageError for bad input).
 */
export async function executeOod(args: OodArgs, io: RunIO, stop: StopSignal): Promise<number> {
  let config: OodConfig;
  let dir: string;
  if (args.resume) {
    ({ dir, config } = await readRunConfig<OodConfig>(args.resume, validateOodConfig));
  } else {
    config = args.config!;
    if (!config.data.generate) {
      if (!(await pathExists(config.data.root))) throw new UsageError(`--data ${config.data.root}: not found (give the dataset's root folder)`);
      io.out(`checking ${config.data.root} (every image and label map) …`);
      try {
        await openCadis(config.data.root, { validateLabels: true });
      } catch (e) {
        if (e instanceof DatasetError) throw new UsageError(`--data ${config.data.root} is not a usable CaDIS folder:\n${e.message}`);
        throw e;
      }
    }
    dir = await createRunDir({ parent: args.runsDir, name: config.name, exact: args.out });
    await writeJson(join(dir, 'config.json'), config);
  }
  return finishRun('ood', dir, io, () => runOod(config, dir, { io, stop, resumed: Boolean(args.resume), queue: args.queue }));
}

/** Runs `bench ood` with the process's streams and Ctrl-C handling. */
export async function oodCommand(parsed: CommandArgs): Promise<number> {
  return withCliInterrupts('bench ood', (stop) => executeOod(parsed as OodArgs, processIO, stop));
}
