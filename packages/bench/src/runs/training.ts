/**
 * Training one RP-SAM2 variant inside a run, with `@rpsam2/rpsam2`'s Trainer on the run's
 * training feature cache (features and candidate sets of the training split; SAM 2 frozen).
 * Each variant has its own folder (`<run>/train/<variant>/`: checkpoints, log.jsonl, config.json);
 * a `done.json` there marks a finished training. Resumable: an interrupted training continues from
 * `checkpoints/last.safetensors` exactly (weights, Adam state, step, RNG), a finished one is
 * loaded, not retrained.
 */
import { join } from 'node:path';
import {
  cachedSourceFor,
  ConcatSource,
  formatDuration,
  loadShiftBlockFrom,
  openCheckpoint,
  ProgressLine,
  resolveTrainConfig,
  type ShiftBlock,
  newShiftBlockForModel,
  Trainer,
  type FeatureCache,
  type TrainConfig,
  type TrainProgress,
  type TrainSummary,
} from '@rpsam2/rpsam2';
import type { Sam2Model } from '@rpsam2/sam2';
import type { ExperimentConfig, VariantSpec } from './experiment-config.js';
import { pathExists, writeJson } from './run-dir.js';
import type { RunIO } from './run-io.js';

/** The variant's resolved training config (rpsam2's defaults ← the run's base ← the variant's overrides). */
export function variantTrainConfig(
  c: Pick<ExperimentConfig, 'training' | 'sam2'>,
  v: VariantSpec,
  paths: { out: string; cache: string; valCache: string; extraCaches?: readonly string[] },
  weightsLabel: string,
): TrainConfig {
  const base = c.training.base;
  const data = { ...((base.data as Record<string, unknown> | undefined) ?? {}), cache: paths.cache, ...(paths.extraCaches?.length ? { extraCaches: [...paths.extraCaches] } : {}), valCache: paths.valCache, valFraction: 0 };
  const sam2 = { weights: weightsLabel, config: '', dtype: c.sam2.dtype };
  try {
    return resolveTrainConfig({ ...base, out: paths.out, mode: 'cached', data, sam2 }, v.set);
  } catch (e) {
    throw new Error(`training config of ${v.name}: ${(e as Error).message}`);
  }
}

/** The outcome of {@link trainVariant}. */
export interface TrainedVariant {
  /** The shift block to evaluate (null when training was interrupted). */
  block: ShiftBlock | null;
  /** The checkpoint the block was taken from (or that holds the interrupted state). */
  checkpoint: string;
  /** True when it was trained earlier (done.json) and only loaded. */
  loaded: boolean;
  summary: TrainSummary | null;
}

/** The cache entry indices of the given image ids (each must be cached). */
function entryIndices(cache: FeatureCache, ids: readonly string[]): number[] {
  const index = new Map(cache.entries.map((e, i) => [e.id, i]));
  return ids.map((id) => {
    const i = index.get(id);
    if (i === undefined) throw new Error(`feature cache ${cache.dir} has no image '${id}'`);
    return i;
  });
}

function progressText(name: string, p: TrainProgress): string {
  const r = p.result;
  return `  ${name}: step ${p.globalStep} (epoch ${p.epoch + 1}) | loss ${r.total.toFixed(4)}${r.dice !== null ? ` dice ${r.dice.toFixed(4)}` : ''}${r.dist !== null ? ` dist ${r.dist.toFixed(4)}` : ''}${r.out !== null ? ` out ${r.out.toFixed(4)}` : ''} | ${(p.stepMs / 1000).toFixed(2)} s/step | eta ${formatDuration(p.etaMs)}`;
}

/**
 * Trains (or loads, or continues) one variant. `onTrainer` receives the trainer so that a stop
 * request (SIGINT) can reach it; the caller owns the returned block.
 */
export async function trainVariant(options: {
  name: string;
  model: Sam2Model;
  config: TrainConfig;
  trainCache: FeatureCache;
  /** The frames to train on, by cache id (a shared cache may hold more). */
  trainIds: readonly string[];
  /** More training caches whose every image trains too (`config.data.extraCaches`, in that order). */
  extraCaches?: readonly FeatureCache[];
  valCache: FeatureCache | null;
  valIds: readonly string[];
  io: RunIO;
  onTrainer?: (t: Trainer | null) => void;
  /** Start from this trained shift block (fine-tuning; `heads` for a plain weights file) instead of a fresh one. */
  init?: { checkpoint: string; heads: number };
}): Promise<TrainedVariant> {
  const { name, model, config: c, io } = options;
  const prefer = options.valCache ? 'best' : 'last';
  const donePath = join(c.out, 'done.json');
  if (await pathExists(donePath)) {
    const ck = await openCheckpoint(c.out, { prefer });
    io.out(`  ${name}: trained earlier, loading ${ck.path}`);
    return { block: await loadShiftBlockFrom(ck), checkpoint: ck.path, loaded: true, summary: null };
  }
  const block = options.init ? await loadShiftBlockFrom(await openCheckpoint(options.init.checkpoint, { prefer: 'best', heads: options.init.heads })) : await newShiftBlockForModel(c, model);
  const sb = block.config;
  const own = cachedSourceFor(model, options.trainCache, c, entryIndices(options.trainCache, options.trainIds), `training cache ${options.trainCache.dir}`);
  const extra = (options.extraCaches ?? []).map((fc) => cachedSourceFor(model, fc, c, undefined, `extra training cache ${fc.dir}`));
  const train = extra.length ? new ConcatSource([own, ...extra]) : own;
  const val = options.valCache ? cachedSourceFor(model, options.valCache, c, entryIndices(options.valCache, options.valIds), `validation cache ${options.valCache.dir}`) : null;
  const bar = new ProgressLine(io.progress);
  let trainer: Trainer | null = null;
  // Disposed on failure unless it was handed out (or already freed).
  let owned: ShiftBlock | null = block;
  try {
    trainer = new Trainer({
      model,
      block,
      train,
      val,
      config: c,
      out: c.out,
      onProgress: (p) => bar.update(progressText(name, p)),
      onMessage: (m) => bar.log(`  ${name}: ${m}`),
    });
    const last = join(c.out, 'checkpoints', 'last.safetensors');
    if (await pathExists(last)) await trainer.resumeFrom(await openCheckpoint(last, { prefer: 'last' }));
    const steps = c.maxSteps ? Math.min(c.maxSteps, c.epochs * trainer.stepsPerEpoch) : c.epochs * trainer.stepsPerEpoch;
    io.out(
      `  ${name}: shift block ${block.paramCount().toLocaleString('en-US')} parameters (d ${sb.dModel}, ${sb.heads} heads, FFN ${sb.ffn}, ${sb.layers} layers); ${train.objects.length} objects in ${train.imageCount} images; ${steps} steps of ${c.batchSize} objects × ${c.clicksPerObject} clicks, Adam lr ${c.lr}; loss ${[c.loss.useDice && 'Dice', c.loss.useDist && 'Dist', c.loss.useOut && 'Out'].filter(Boolean).join('+')}`,
    );
    options.onTrainer?.(trainer);
    const summary = await trainer.run();
    bar.done();
    if (summary.reason === 'stopped') {
      block.dispose();
      owned = null;
      return { block: null, checkpoint: last, loaded: false, summary };
    }
    await writeJson(donePath, { finishedAt: new Date().toISOString(), reason: summary.reason, state: summary.state, lastStep: summary.lastStep, lastVal: summary.lastVal });
    const r = summary.lastStep;
    io.out(`  ${name}: ${summary.state.globalStep} steps done${r ? `, last loss ${r.total.toFixed(4)}` : ''}${summary.state.bestValDice !== null ? `, best validation Dice ${summary.state.bestValDice.toFixed(4)} (epoch ${summary.state.bestEpoch})` : ''}`);
    if (prefer === 'best' && summary.state.bestValDice !== null) {
      // Evaluate the checkpoint that validated best, not the last weights.
      block.dispose();
      owned = null;
      const ck = await openCheckpoint(c.out, { prefer: 'best' });
      return { block: await loadShiftBlockFrom(ck), checkpoint: ck.path, loaded: false, summary };
    }
    block.setTrainable(false);
    owned = null;
    return { block, checkpoint: last, loaded: false, summary };
  } catch (e) {
    owned?.dispose();
    throw e;
  } finally {
    options.onTrainer?.(null);
    trainer?.dispose();
    train.dispose();
    val?.dispose();
  }
}
