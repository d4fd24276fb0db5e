/**
 * `rpsam2 train --config cfg.json [--set key=value …] [--resume]`: trains the shift block (see
 * train/trainer.ts) with the configuration file's settings over the defaults, then the `--set`
 * overrides. Writes `<out>/checkpoints/{last,best}.safetensors` (+ .json), `<out>/log.jsonl`
 * and `<out>/config.json`. An existing run in `<out>` is never overwritten: continue it with
 * `--resume` or choose another `out`. Ctrl-C finishes the current step, saves and exits (130).
 * The out folder is locked while training (a second process writing it is refused). A lost GPU
 * device is recovered from up to {@link DEVICE_LOSS_RETRIES} times: a new device, SAM 2 and the
 * data loaded again, and the run resumed from `checkpoints/last`; otherwise (no checkpoint yet,
 * or lost too often) it stops with exit status 1 and says how to continue.
 */
import { readFile } from 'node:fs/promises';
import { isDeviceLost, mixSeed, permutation, type DeviceLostError } from '@rpsam2/tensor';
import { ensureOutputDir, initNode, withFolderLock } from '@rpsam2/tensor/node';
import { loadSam2, type Sam2Model } from '@rpsam2/sam2';
import type { ShiftBlock } from '../shift-block/shift-block.js';
import { loadShiftBlockFrom, openCheckpoint } from '../checkpoint/checkpoint.js';
import { exists, joinPath } from '../checkpoint/node-io.js';
import { FeatureCache } from '../cache/feature-cache.js';
import { newShiftBlockForModel, resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { openDataset } from '../train/open-dataset.js';
import { cachedSourceFor, ConcatSource, OnTheFlySource, type TrainingSource } from '../train/sources.js';
import { Trainer, type TrainProgress } from '../train/trainer.js';
import { ProgressLine, formatDuration } from '../train/progress.js';
import { defineCommand, requireFile, requirePath, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from '@rpsam2/sam2/cli';
import { resolveSam2Source } from './common.js';

export const TRAIN_USAGE = `usage: rpsam2 train --config <cfg.json> [--set key=value]... [--resume]

  --config   training config (JSON; keys override the defaults, see DEFAULT_TRAIN_CONFIG)
  --set      override one key, dotted: --set epochs=20 --set loss.useDist=false
  --resume   continue the run in <out> from checkpoints/last.safetensors (weights,
             optimizer state, epoch/step, RNG): the result equals an uninterrupted run

  Ctrl-C finishes the current step, saves checkpoints/last and exits with status 130.
  A lost GPU device: a new one is made and the run resumes from checkpoints/last (twice at
  most); without a checkpoint it stops (status 1): rerun, with --resume once one exists.`;

/** How often one `rpsam2 train` re-creates a lost GPU device and resumes before it gives up. */
export const DEVICE_LOSS_RETRIES = 2;

/** Training/validation image split of `n` images (validation: ⌈fraction·n⌉, at least 1 when n ≥ 2). */
export function splitImages(n: number, fraction: number, seed: number): { train: number[]; val: number[] } {
  if (fraction <= 0 || n < 2) return { train: Array.from({ length: n }, (_, i) => i), val: [] };
  const order = permutation(n, mixSeed(seed, 0x5eed));
  const nv = Math.min(n - 1, Math.max(1, Math.ceil(fraction * n)));
  return { val: order.slice(0, nv).sort((a, b) => a - b), train: order.slice(nv).sort((a, b) => a - b) };
}

const BUILD_CACHE_HINT = 'build the feature cache first: rpsam2 candidates --data … --out <cache>';

/** The training and validation sources of a config (validation null when there is none). */
async function makeSources(c: TrainConfig, model: Sam2Model): Promise<{ train: TrainingSource; val: TrainingSource | null; note: string }> {
  if (c.mode === 'cached') {
    await requirePath(c.data.cache, 'data.cache', BUILD_CACHE_HINT);
    if (!(await exists(joinPath(c.data.cache, 'index.json')))) throw new UsageError(`data.cache ${c.data.cache}: no index.json (build it with rpsam2 candidates)`);
    const cache = await FeatureCache.open(c.data.cache);
    const cached = (fc: FeatureCache, images?: number[], name?: string) => cachedSourceFor(model, fc, c, images, name);
    const extras: TrainingSource[] = [];
    for (const [i, dir] of c.data.extraCaches.entries()) {
      await requirePath(dir, `data.extraCaches[${i}]`, BUILD_CACHE_HINT);
      extras.push(cached(await FeatureCache.open(dir)));
    }
    const withExtras = (s: TrainingSource): TrainingSource => (extras.length ? new ConcatSource([s, ...extras]) : s);
    if (c.data.valCache) {
      await requirePath(c.data.valCache, 'data.valCache');
      return { train: withExtras(cached(cache)), val: cached(await FeatureCache.open(c.data.valCache)), note: `validation: ${c.data.valCache}` };
    }
    const { train, val } = splitImages(cache.entries.length, c.data.valFraction, c.seed);
    const tr = cached(cache, train);
    if (!val.length) return { train: withExtras(tr), val: tr, note: 'validation: the training objects (no split)' };
    return { train: withExtras(tr), val: cached(cache, val, `cache ${c.data.cache} (validation split)`), note: `validation: ${val.length} of ${cache.entries.length} images held out` };
  }
  const ds = await openDataset(c.data.dataset);
  const opts = { augment: c.augment, gridStep: c.candidates.gridStep, epsilon: c.candidates.epsilon };
  if (c.data.valDataset) {
    const vds = await openDataset(c.data.valDataset);
    return { train: await OnTheFlySource.create(model, ds, opts), val: await OnTheFlySource.create(model, vds, opts), note: `validation: ${vds.name}` };
  }
  const { train, val } = splitImages(ds.length, c.data.valFraction, c.seed);
  const tr = await OnTheFlySource.create(model, ds, opts, train);
  if (!val.length) return { train: tr, val: tr, note: 'validation: the training objects (no split)' };
  return { train: tr, val: await OnTheFlySource.create(model, ds, opts, val), note: `validation: ${val.length} of ${ds.length} images held out` };
}

function progressText(p: TrainProgress): string {
  const r = p.result;
  const parts = [`loss ${r.total.toFixed(4)}`];
  const terms = [r.dice !== null ? `dice ${r.dice.toFixed(4)}` : '', r.dist !== null ? `dist ${r.dist.toFixed(4)}` : '', r.out !== null ? `out ${r.out.toFixed(4)}` : ''].filter(Boolean);
  if (terms.length) parts[0] += ` (${terms.join(' ')})`;
  return `epoch ${p.epoch + 1}/${p.epochs} step ${p.stepInEpoch}/${p.stepsPerEpoch} | ${parts.join(' ')} | ${p.clicksPerSec.toFixed(1)} clicks/s, ${(p.stepMs / 1000).toFixed(2)} s/step | eta ${formatDuration(p.etaMs)}`;
}

/** The options of `rpsam2 train` (see {@link TRAIN_USAGE}). */
const TRAIN_OPTIONS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  resume: { type: 'boolean', default: false },
} as const satisfies OptionsTable;

/** Runs `rpsam2 train`; returns the exit status (0 done, 130 interrupted). */
export const trainCommand: Command = defineCommand({ command: 'rpsam2 train', usage: TRAIN_USAGE, options: TRAIN_OPTIONS }, runTrain);

async function runTrain({ values }: ParsedCommand<typeof TRAIN_OPTIONS>, io: CliIO): Promise<number> {
  const cfgPath = await requireFile(values.config, '--config', 'a JSON training config');
  let file: unknown;
  try {
    file = JSON.parse(await readFile(cfgPath, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config ${cfgPath}: not valid JSON (${(e as Error).message})`);
  }
  let c: TrainConfig;
  try {
    c = resolveTrainConfig(file, values.set ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { weights: sam2Weights, config: sam2Config } = await resolveSam2Source(c.sam2.weights, c.sam2.config, 'sam2.weights', io);
  const last = joinPath(c.out, 'checkpoints', 'last.safetensors');
  const hasRun = await exists(last);
  if (values.resume && !hasRun) throw new UsageError(`--resume: ${last} does not exist (nothing to resume; drop --resume to start)`);
  if (!values.resume && hasRun) throw new UsageError(`${c.out} already holds a run (${last}): continue it with --resume, or set another out (--set out=…)`);
  if (c.mode === 'on-the-fly' && !c.data.dataset) throw new UsageError(`mode 'on-the-fly' needs data.dataset (synthetic:<count>[:<seed>] or a manifest JSON)`);
  if (c.mode === 'cached' && !c.data.cache) throw new UsageError(`mode 'cached' needs data.cache (a feature cache from rpsam2 candidates)`);
  // Before loading SAM 2 and the data, so a bad out fails at once.
  await ensureOutputDir(c.out);
  return withFolderLock(c.out, 'rpsam2 train', async () => {
    for (let losses = 0; ; losses++) {
      try {
        return await trainOnce(c, { resume: values.resume || losses > 0, sam2Weights, sam2Config, last }, io);
      } catch (e) {
        if (!isDeviceLost(e)) throw e;
        // Checkpoints are written atomically after a full read-back, so `last` is whole.
        const hasLast = await exists(last);
        const how = hasLast ? `continue from ${last} with: rpsam2 train --config ${cfgPath} --resume (and the same --set options)` : `no checkpoint was saved yet: rerun the command (set checkpointEvery to save during an epoch)`;
        if (!hasLast || losses >= DEVICE_LOSS_RETRIES) {
          throw new Error(`${e.message}\ntraining stopped (the GPU device was lost${losses ? ` ${losses + 1} times` : ''}); ${how}`, { cause: e });
        }
        io.err(`the GPU device was lost (${(e as DeviceLostError).reason}: ${(e as DeviceLostError).detail}); re-creating it and resuming from ${last}`);
      }
    }
  }, (l) => io.err(l));
}

type Sam2Source = Awaited<ReturnType<typeof resolveSam2Source>>;

/** One training attempt on a (new) device: loads SAM 2 and the data, trains, frees everything. */
async function trainOnce(c: TrainConfig, run: { resume: boolean; last: string; sam2Weights: Sam2Source['weights']; sam2Config: Sam2Source['config'] }, io: CliIO): Promise<number> {
  const { sam2Weights, sam2Config, last } = run;
  await initNode();
  const { model, report } = await loadSam2({ weights: sam2Weights, config: sam2Config, dtype: c.sam2.dtype });
  io.err(`SAM 2 ${report.config} (${report.configFrom}) from ${report.source}, ${report.dtype}, frozen`);
  let block: ShiftBlock | null = null;
  let sources: Awaited<ReturnType<typeof makeSources>> | null = null;
  let trainer: Trainer | null = null;
  try {
    sources = await makeSources(c, model);
    if (c.initFrom) {
      await requirePath(c.initFrom, 'initFrom', 'give a run folder, a checkpoint or a plain shift-block .safetensors');
      block = await loadShiftBlockFrom(await openCheckpoint(c.initFrom, { prefer: 'best' }));
      io.err(`shift block: from ${c.initFrom} (its sizes and head; shiftBlock, shiftHead and the init settings are not used)`);
    } else block = await newShiftBlockForModel(c, model);
    const sb = block.config;
    io.err(
      `shift block: d ${sb.dModel}, ${sb.heads} heads, FFN ${sb.ffn}, ${sb.layers} layers, ${sb.imageTokens} image tokens: ${block.paramCount().toLocaleString('en-US')} trainable parameters`,
    );
    io.err(`data: ${sources.train.name}, ${sources.train.objects.length} objects in ${sources.train.imageCount} images; ${sources.note}`);
    const bar = new ProgressLine(io.progress ?? { write: (s: string) => io.err(s.replace(/\n$/, '')) });
    trainer = new Trainer({
      model,
      block,
      train: sources.train,
      val: sources.val,
      config: c,
      out: c.out,
      onProgress: (p) => bar.update(progressText(p)),
      onMessage: (m) => bar.log(m),
    });
    if (run.resume) await trainer.resumeFrom(await openCheckpoint(last, { prefer: 'last' }));
    const t = trainer;
    io.onInterruptible?.(() => {
      if (!t.stopping) bar.log('stopping: finishing the current step, then saving (Ctrl-C again to quit at once)');
      t.requestStop();
    });
    io.err(`training: ${c.epochs} epochs × ${trainer.stepsPerEpoch} steps (batch ${c.batchSize} objects × ${c.clicksPerObject} clicks), Adam lr ${c.lr}; output ${c.out}`);
    const s = await trainer.run();
    bar.done();
    const best = s.state.bestValDice !== null ? `; best val Dice ${s.state.bestValDice.toFixed(4)} (epoch ${s.state.bestEpoch})` : '';
    const why = s.reason === 'stopped' ? 'interrupted' : s.reason === 'maxSteps' ? `stopped at maxSteps ${c.maxSteps}` : 'done';
    io.out(`${why}: epoch ${s.state.epoch}/${c.epochs}, ${s.state.globalStep} steps${best}; saved ${last}${s.reason !== 'done' ? ' (continue with --resume)' : ''}`);
    return s.reason === 'stopped' ? 130 : 0;
  } finally {
    trainer?.dispose();
    if (sources) {
      sources.train.dispose();
      if (sources.val && sources.val !== sources.train) sources.val.dispose();
    }
    block?.dispose();
    model.dispose();
  }
}
