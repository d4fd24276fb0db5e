/**
 * The extra training sets of a run (`training.extraTrainSets`): more synthetic sets whose train
 * split also trains the shift block. Each lives in its own folder of the run, named by its seed:
 *
 *   <run>/extra-<seed>/data/                                 the generated set (Cataract-1k layout)
 *   <run>/extra-<seed>/cache/<SAM 2 slug>/train-train-g4096/  its train split, cached features only
 *
 * (with `cache.dir` set: `<cache.dir>/extra-<seed>/<SAM 2 slug>/train-train-g4096/`). The cache
 * folder is laid out as a run's own training cache at grid {@link FEATURES_ONLY_GRID_STEP}, so the
 * `cache/<SAM 2 slug>/train-train-g4096` folder of an earlier run whose `data.generate` was the same
 * spec can be copied (or linked) there and is reused as it is.
 *
 * A cache that already holds every train frame of its set with this run's settings is used as it
 * is: the set is then not generated at all (a copied cache needs no frames). Otherwise the set is
 * generated (a complete earlier generation is reused) and the cache completed; both resume.
 */
import { join, resolve } from 'node:path';
import { FeatureCache, settingsDiff } from '@rpsam2/rpsam2';
import { openCataract1k } from '../datasets/cataract1k.js';
import type { LoadedSam2 } from '../evaluation/sam2-models.js';
import { expectedSettings } from '../queue/cache-entry.js';
import { syntheticSplitFrames } from '../synthetic/dataset.js';
import { FEATURES_ONLY_GRID_STEP, type ExperimentConfig, type GenerateSpec } from './experiment-config.js';
import { cacheDir, ensureFeatureCache } from './feature-caches.js';
import { pathExists } from './run-dir.js';
import type { RunIO } from './run-io.js';
import type { StageTimer } from './stage-timer.js';
import type { StopSignal } from './stop-signal.js';
import { ensureSyntheticData } from './synthetic-data.js';

/** The cache kind (folder name under the SAM 2 slug) of a features-only train-split cache. */
export const FEATURES_ONLY_TRAIN_KIND = `train-train-g${FEATURES_ONLY_GRID_STEP}`;

/** The folder of an extra set in the run (`extra-<seed>`). */
export function extraSetDir(runDir: string, spec: Pick<GenerateSpec, 'seed'>): string {
  return join(runDir, `extra-${spec.seed}`);
}

/** The features-only cache folder of an extra set's train split (see the module comment). */
export function extraSetCacheDir(c: Pick<ExperimentConfig, 'cache'>, runDir: string, model: Pick<LoadedSam2, 'slug'>, spec: Pick<GenerateSpec, 'seed'>): string {
  const root = c.cache.dir ? join(resolve(c.cache.dir), `extra-${spec.seed}`) : join(extraSetDir(runDir, spec), 'cache');
  return cacheDir(root, model as LoadedSam2, FEATURES_ONLY_TRAIN_KIND);
}

/** One extra set as trained on (also written to `<run>/training-data.json` for the model card). */
export interface ExtraSetInfo {
  spec: GenerateSpec;
  /** Train frames and their objects in the cache. */
  frames: number;
  objects: number;
  cache: string;
}

/** The cache when it is complete for `spec` with these settings (every train frame), else null. */
async function completeCache(dir: string, spec: GenerateSpec, model: LoadedSam2, c: ExperimentConfig): Promise<FeatureCache | null> {
  if (!(await pathExists(join(dir, 'index.json')))) return null;
  const cache = await FeatureCache.open(dir);
  const want = expectedSettings(model, { featureDtype: c.cache.dtype, gridStep: FEATURES_ONLY_GRID_STEP, epsilon: c.training.epsilon });
  if (settingsDiff(cache.settings, want).length) return null; // the build below names the difference
  return cache.entries.length === syntheticSplitFrames(spec).train ? cache : null;
}

/**
 * Generates (unless its cache is complete) and caches every extra set, in order; null when a
 * stop was requested before all were cached.
 */
export async function ensureExtraTrainSets(options: {
  config: ExperimentConfig;
  runDir: string;
  model: LoadedSam2;
  timer: StageTimer;
  io: RunIO;
  stop: StopSignal;
}): Promise<{ caches: FeatureCache[]; infos: ExtraSetInfo[] } | null> {
  const { config: c, runDir, model, timer, io, stop } = options;
  const sets = c.training.extraTrainSets ?? [];
  const caches: FeatureCache[] = [];
  const infos: ExtraSetInfo[] = [];
  for (const [i, spec] of sets.entries()) {
    const name = `extra set ${i + 1}/${sets.length} (seed ${spec.seed})`;
    const dir = extraSetCacheDir(c, runDir, model, spec);
    let cache = await completeCache(dir, spec, model, c);
    if (cache) {
      io.out(`  ${name}: ${cache.entries.length} train frames cached earlier, features only → ${dir}`);
    } else {
      io.out(`  ${name}: ${spec.cases} cases × ${spec.framesPerCase} frames, ${spec.width}×${spec.height}, ${spec.minInstruments}–${spec.maxInstruments} instruments; its train split trains the block`);
      const root = join(extraSetDir(runDir, spec), 'data');
      await timer.run('generate data', () => ensureSyntheticData(root, spec, io));
      const ds = await timer.run('open data', () => openCataract1k(root, { annotations: c.data.annotations }));
      const frames = ds.framesIn('train');
      if (frames.length === 0) throw new Error(`${name}: its train split has no frames (give it more cases)`);
      cache = await timer.run('cache training features', () =>
        ensureFeatureCache({
          what: `${name} train features (features only)`,
          ds,
          frames,
          model,
          dir,
          dtype: c.cache.dtype,
          candidates: { gridStep: FEATURES_ONLY_GRID_STEP, epsilon: c.training.epsilon },
          io,
          stop,
        }),
      );
      if (!cache) return null;
    }
    caches.push(cache);
    infos.push({ spec, frames: cache.entries.length, objects: cache.objectCount, cache: dir });
  }
  return { caches, infos };
}
