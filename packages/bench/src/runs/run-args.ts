/**
 * The flags of `bench table1` (and of `pnpm bench` with no command), shared by the ablation
 * commands: they select the data, the models, how RP-SAM2 is obtained, the protocol and the
 * run directory, and produce the run's {@link ExperimentConfig}. `--resume <dir>` continues a run
 * with its own config.json and takes no other flag.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseOverride } from '@rpsam2/rpsam2';
import { isSam2ConfigPath } from '@rpsam2/sam2';
import { UsageError } from '@rpsam2/sam2/cli';
import { commandArgs, type CommandArgs } from '../args.js';
import type { EvaluationQueue } from '../queue/table1-shards.js';
import { SPLIT_NAMES, type SplitName } from '../datasets/types.js';
import { DEFAULT_SHIFT_BLOCK, defaultRunConfig, realRunConfig, seedRange, validateExperimentConfig, type ExperimentConfig, type ExperimentKind, type ExtraModelSpec } from './experiment-config.js';

// A bad invocation (exit status 2): the CLIs' own class, so that bench and `@rpsam2/sam2/cli` agree on what one is.
export { UsageError };

/**
 * `f()`, with an error it throws turned into a {@link UsageError} of the same message: for
 * parsers and validators of user input that throw plain errors.
 */
export function asUsageError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Parsed flags: a new run's config and where to put it, or a run to resume. */
export interface RunArgs extends CommandArgs {
  kind: ExperimentKind;
  /** The config of a new run (absent with --resume). */
  config?: ExperimentConfig;
  /** Continue this run directory. */
  resume?: string;
  /** Exact run directory (--out). */
  out?: string;
  /** Parent of the timestamped run directory (--runs; default ./runs). */
  runsDir?: string;
  /** --queue/--queue-name (table1): the evaluation is sharded over `bench worker` processes (not part of config.json). */
  queue?: EvaluationQueue;
}

/** The flag text of the usage. */
export const RUN_FLAGS = `  data (default: a small synthetic set generated into the run):
    --data <dir>              dataset root: the real experiment
    --dataset <kind>          cataract1k (default with --data), cadis, or synthetic (a generated folder)
    --annotations <a>         Cataract-1k annotations: supervisely (default) or coco
    --split <s>               evaluated split: test (default) or val
    --limit N / --train-limit N   at most N evaluated / training frames
    --cases N --frames N --size WxH --data-seed N --instruments MIN-MAX   the generated set
  models (default: the embedded default SAM 2):
    --weights <ckpt>          SAM 2 weights (.pt or .safetensors)
    --config <cfg>            its config: a size (t, s, b+, l) or a .yaml/.json file; default: inferred
    --dtype f32|f16           weight storage on the GPU
    --extra name=path[:cfg]   another checkpoint as an extra row (repeatable): SAM 2-architecture
                              (MedSAM2, Surgical SAM 2) or HQ-SAM2 (decoder recognised by its keys)
  RP-SAM2 (default: the shift block shipped for the default SAM 2; with --data or --weights, or
  any training flag below: trained in the run on the training split):
    --shift-block <ckpt|dir|default>  evaluate this trained shift block (table1 only; default: the shipped one)
    --heads N                 heads of a plain shift-block file (default 8)
    --steps N                 train in the run for N steps (synthetic: 30 by default; with --data: the paper's 1500 epochs)
    --train-config <json>     training settings (rpsam2 train's keys); --set key=value overrides one
    --grid-step N             candidate grid step of the training cache (px)
  protocol and output:
    --seeds N                 click seeds (default 10)
    --click-offset X          added to the clicked pixel index (0 = index, 0.5 = pixel centre)
    --heatmaps N              objects with a click-position heatmap (default 2); --heatmap-clicks N
    --cache <dir>             share feature caches between runs; --cache-dtype f32|f16
    --name <name>             run name; --out <dir> exact run directory; --runs <dir> parent (default ./runs)
    --resume <dir>            continue an interrupted run (no other flag but --queue)
    --queue redis://host:port (table1) shard the evaluation over \`bench worker\` processes (BullMQ; the same
                              samples.jsonl and results); --queue-name <name> (default rpsam2)`;

/** An integer flag value ≥ `min`; the error names the flag. */
export function int(flag: string, v: string | undefined, min: number): number {
  if (v === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer ≥ ${min}, got '${v}'`);
  return n;
}

/** A non-empty flag value; the error names the flag. */
export function str(flag: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
  return v;
}

/** A flag value from `allowed`; the error names the flag. */
export function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T {
  const s = str(flag, v);
  if (!allowed.includes(s as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${s}'`);
  return s as T;
}

const SIZE_NAMES = ['t', 's', 'b+', 'l', 'tiny', 'small', 'base_plus', 'large'];

/** `name=path[:config]` (the config is split off only when it is a size name or a .yaml/.yml/.json path). */
export function parseExtra(text: string): ExtraModelSpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--extra '${text}': expected name=path[:config], e.g. MedSAM2=MedSAM2_latest.pt:sam2.1_hiera_t512.yaml`);
  const name = text.slice(0, eq).trim();
  const rest = text.slice(eq + 1);
  const colon = rest.lastIndexOf(':');
  if (colon > 0) {
    const cfg = rest.slice(colon + 1);
    if (SIZE_NAMES.includes(cfg) || /\.(json|ya?ml)$/i.test(cfg)) return { name, weights: rest.slice(0, colon), config: cfg };
  }
  return { name, weights: rest, config: '' };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge (objects merge, everything else replaces). */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** `base` with each `--set key=value` override merged in, in order; a malformed one is a {@link UsageError}. */
export function withOverrides(base: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  return sets.reduce((merged, s) => asUsageError(() => deepMerge(merged, parseOverride(s))), base);
}

/** Parses the run flags for an experiment of `kind` (see {@link RUN_FLAGS}). */
export function parseRunArgs(argv: readonly string[], kind: ExperimentKind): RunArgs {
  const base: RunArgs = { ...commandArgs(), kind };
  if (argv.includes('--resume')) {
    const i = argv.indexOf('--resume');
    const dir = str('--resume', argv[i + 1]);
    const others = argv.filter((_, j) => j !== i && j !== i + 1);
    if (others.length) throw new UsageError(`--resume continues a run with its own config.json; other flags are not allowed (got ${others.join(' ')})`);
    return { ...base, resume: dir };
  }
  // Every flag takes a value.
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    flags.set(a, [...(flags.get(a) ?? []), v]);
  }
  const known = new Set([
    '--data', '--dataset', '--annotations', '--split', '--limit', '--train-limit', '--cases', '--frames', '--size', '--data-seed', '--instruments',
    '--weights', '--config', '--dtype', '--extra', '--shift-block', '--heads', '--steps', '--train-config', '--set', '--grid-step',
    '--seeds', '--click-offset', '--heatmaps', '--heatmap-clicks', '--cache', '--cache-dtype', '--name', '--out', '--runs',
  ]);
  for (const f of flags.keys()) if (!known.has(f)) throw new UsageError(`unknown flag ${f}`);
  const repeatable = new Set(['--extra', '--set']);
  for (const [f, vs] of flags) if (vs.length > 1 && !repeatable.has(f)) throw new UsageError(`${f} given ${vs.length} times`);
  const get = (f: string) => flags.get(f)?.[0];

  const data = get('--data');
  let c: ExperimentConfig;
  if (data !== undefined) {
    c = realRunConfig(kind, str('--data', data), get('--dataset') ? oneOf('--dataset', get('--dataset'), ['cataract1k', 'cadis', 'synthetic'] as const) : 'cataract1k');
    for (const f of ['--cases', '--frames', '--size', '--data-seed', '--instruments']) if (flags.has(f)) throw new UsageError(`${f} shapes the generated set; it does not apply with --data`);
  } else {
    if (flags.has('--dataset') && get('--dataset') !== 'synthetic') throw new UsageError(`--dataset ${get('--dataset')} needs --data <dir>`);
    c = defaultRunConfig(kind);
    const g = c.data.generate!;
    if (flags.has('--cases')) g.cases = int('--cases', get('--cases'), 2);
    if (flags.has('--frames')) g.framesPerCase = int('--frames', get('--frames'), 1);
    if (flags.has('--data-seed')) g.seed = int('--data-seed', get('--data-seed'), 0);
    if (flags.has('--size')) {
      const m = /^(\d+)x(\d+)$/i.exec(str('--size', get('--size')));
      if (!m) throw new UsageError(`--size needs WxH (e.g. 1024x768), got '${get('--size')}'`);
      g.width = Number(m[1]);
      g.height = Number(m[2]);
    }
    if (flags.has('--instruments')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(str('--instruments', get('--instruments')));
      if (!m) throw new UsageError(`--instruments needs N or MIN-MAX, got '${get('--instruments')}'`);
      g.minInstruments = Number(m[1]);
      g.maxInstruments = Number(m[2] ?? m[1]);
    }
  }
  if (flags.has('--annotations')) c.data.annotations = oneOf('--annotations', get('--annotations'), ['supervisely', 'coco'] as const);
  if (flags.has('--split')) c.data.evalSplit = oneOf('--split', get('--split'), SPLIT_NAMES.filter((s) => s !== 'train')) as SplitName;
  if (flags.has('--limit')) c.data.limitImages = int('--limit', get('--limit'), 1);
  if (flags.has('--train-limit')) c.data.limitTrainImages = int('--train-limit', get('--train-limit'), 1);
  if (flags.has('--weights')) c.sam2.weights = str('--weights', get('--weights'));
  if (flags.has('--config')) {
    if (!flags.has('--weights')) throw new UsageError('--config is the config of --weights; the default model has its own');
    c.sam2.config = str('--config', get('--config'));
  }
  if (flags.has('--dtype')) c.sam2.dtype = oneOf('--dtype', get('--dtype'), ['f32', 'f16'] as const);
  c.extras = (flags.get('--extra') ?? []).map(parseExtra);
  // The shipped block fits only the default SAM 2; other weights, or any training flag, train in the run.
  const trainingFlags = ['--steps', '--train-config', '--set', '--grid-step', '--train-limit'];
  if (c.rpsam2.shiftBlock === DEFAULT_SHIFT_BLOCK && (flags.has('--weights') || trainingFlags.some((f) => flags.has(f)))) c.rpsam2.shiftBlock = '';
  if (flags.has('--shift-block')) {
    if (kind !== 'table1') throw new UsageError(`${kind} trains its own variants; --shift-block applies to table1 only`);
    c.rpsam2.shiftBlock = str('--shift-block', get('--shift-block'));
    for (const f of trainingFlags) if (flags.has(f)) throw new UsageError(`${f} configures training; with --shift-block nothing is trained`);
  }
  if (flags.has('--heads')) c.rpsam2.heads = int('--heads', get('--heads'), 1);
  if (flags.has('--train-config')) {
    const path = str('--train-config', get('--train-config'));
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UsageError(`--train-config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!isObj(file)) throw new UsageError(`--train-config ${path}: expected a JSON object of training settings`);
    c.training.base = deepMerge(c.training.base, file);
  }
  c.training.base = withOverrides(c.training.base, flags.get('--set') ?? []);
  if (flags.has('--steps')) c.training.base = { ...c.training.base, maxSteps: int('--steps', get('--steps'), 1) };
  if (flags.has('--grid-step')) c.training.gridStep = int('--grid-step', get('--grid-step'), 1);
  if (flags.has('--seeds')) c.protocol.seeds = seedRange(int('--seeds', get('--seeds'), 1));
  if (flags.has('--click-offset')) {
    const v = Number(get('--click-offset'));
    if (!(v >= 0 && v < 1)) throw new UsageError(`--click-offset needs a number in [0, 1), got '${get('--click-offset')}'`);
    c.protocol.clickOffset = v;
  }
  if (flags.has('--heatmaps')) c.figures.heatmapObjects = int('--heatmaps', get('--heatmaps'), 0);
  if (flags.has('--heatmap-clicks')) c.figures.heatmapClicks = int('--heatmap-clicks', get('--heatmap-clicks'), 1);
  if (flags.has('--cache')) c.cache.dir = str('--cache', get('--cache'));
  if (flags.has('--cache-dtype')) c.cache.dtype = oneOf('--cache-dtype', get('--cache-dtype'), ['f32', 'f16'] as const);
  if (flags.has('--name')) c.name = str('--name', get('--name'));
  absolutePaths(c);
  asUsageError(() => validateExperimentConfig(c));
  return { ...base, config: c, out: get('--out'), runsDir: get('--runs') };
}

/** Makes every path of the config absolute, so that a resumed run finds them from any directory. */
function absolutePaths(c: ExperimentConfig): void {
  const abs = (p: string) => (p ? resolve(p) : p);
  c.data.root = abs(c.data.root);
  c.sam2.weights = abs(c.sam2.weights);
  if (isSam2ConfigPath(c.sam2.config)) c.sam2.config = abs(c.sam2.config);
  for (const e of c.extras) {
    e.weights = abs(e.weights);
    if (isSam2ConfigPath(e.config)) e.config = abs(e.config);
  }
  if (c.rpsam2.shiftBlock !== DEFAULT_SHIFT_BLOCK) c.rpsam2.shiftBlock = abs(c.rpsam2.shiftBlock);
  c.cache.dir = abs(c.cache.dir);
}
